import { verifyChain } from '../core/certificate/index.js';
import { parseRepoFullName } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';
import { loadRepoConfig } from './repo-files.js';

export interface VerifyResult {
  repository: string;
  branch: string;
  ok: boolean;
  length: number;
  head: string | null;
  brokenAt: number | null;
  reason: string | null;
}

/**
 * Verifies a repository's certificate chain as stored on its ledger branch, against the public
 * keys published there and the head recorded in the Governor state (which makes truncation visible).
 */
export async function verifyLedger(ctx: PipelineContext, repository: string): Promise<VerifyResult> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const snapshot = await ledger.read();
  const certificates = await ledger.readCertificates();
  const keys = { ...snapshot.publicKeys };
  const result = verifyChain(certificates, keys, {
    expectedHead: snapshot.state.last_certificate_hash ?? undefined,
    expectedLength: snapshot.certificateCount,
  });
  if (result.ok) {
    return { repository, branch: config.ledger.branch, ok: true, length: result.length, head: result.head, brokenAt: null, reason: null };
  }
  return { repository, branch: config.ledger.branch, ok: false, length: certificates.length, head: snapshot.state.last_certificate_hash, brokenAt: result.index, reason: result.reason };
}
