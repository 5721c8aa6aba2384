/**
 * Verifying a ledger for an auditor: read the branch (online) or a checkout (offline, see
 * verify-offline.ts), gather anchors kept outside the branch, and run the pure named-step
 * verification of core/certificate against keys the verifier pinned. One report shape for the
 * CLI (`--json`), the script and GET /api/autonomy/verify.
 */
import {
  anchorsInText,
  decodeCertificate,
  verifyLedgerEvidence,
  type Anchor,
  type LedgerErrorCode,
  type LedgerEvidence,
  type LedgerVerification,
} from '../core/certificate/index.js';
import { parseRepoFullName, type RepoRef, type Statement } from '../core/schemas/index.js';
import type { GitHubPort } from '../ports/index.js';
import { LedgerCorruptError } from '../ledger/index.js';
import type { Ledger } from '../ledger/types.js';
import type { PipelineContext } from './context.js';
import { loadRepoConfig } from './repo-files.js';
import type { PinnedKeys } from './trust.js';

/** The name of the check run every heal creates, which carries its ledger checkpoint. */
export const CHECK_RUN_NAME = 'Living Bridge';

export type VerifyStatus = 'ok' | 'broken' | 'no-ledger';

/** Exit codes of every verifier: ok, tampered/broken, usage or read error, no ledger at all. */
export const VERIFY_EXIT: Record<VerifyStatus | 'usage', number> = { ok: 0, broken: 1, usage: 2, 'no-ledger': 3 };

export interface VerifyReport extends Omit<LedgerVerification, 'statements' | 'error'> {
  status: VerifyStatus;
  /** The ledger branch (online) or checkout directory (offline) that was read. */
  source: string;
  branch: string | null;
  key_sources: string[];
  error: (Omit<NonNullable<LedgerVerification['error']>, 'code'> & { code: LedgerErrorCode | 'LEDGER_CORRUPT' }) | null;
  /** Kept for older callers: 0-based index of the broken link, and the error message. */
  brokenAt: number | null;
  reason: string | null;
}

/** The older name of the report. */
export type VerifyResult = VerifyReport;

/** A report plus the verified chain (statements and hashes in order), for the audit export. */
export interface Verified {
  report: VerifyReport;
  chain: { statement: Statement; certificate_hash: string }[];
}

export function verifiedOf(v: LedgerVerification, certificates: readonly unknown[], extra: { source: string; branch: string | null; key_sources: string[] }): Verified {
  const hashes = certificates.map((c) => (c as { certificate_hash?: string }).certificate_hash ?? '');
  return { report: toReport(v, extra), chain: v.statements.map((statement, i) => ({ statement, certificate_hash: hashes[i] ?? '' })) };
}

export function toReport(v: LedgerVerification, extra: { source: string; branch: string | null; key_sources: string[] }): VerifyReport {
  const { statements: _s, ...rest } = v;
  return { ...rest, ...extra, status: v.ok ? 'ok' : 'broken', brokenAt: v.error?.index ?? null, reason: v.error?.message ?? null };
}

export function noLedgerReport(repository: string, source: string, branch: string | null, keySources: string[], where: string): VerifyReport {
  return {
    ok: false, status: 'no-ledger', repository, source, branch, key_sources: keySources, length: 0, head: null, checkpoint: null,
    anchors: { given: 0, valid: 0, latest: null }, trusted_keys: [], steps: [], warnings: [], brokenAt: null,
    error: null, reason: `no ledger for ${repository} (${where})`,
  };
}

/** The terminal text of a report (the JSON is the report itself). */
export function renderReport(r: VerifyReport): string {
  if (r.status === 'no-ledger') return r.reason ?? `no ledger for ${r.repository}`;
  const cp = r.checkpoint ? `checkpoint #${r.checkpoint.sequence} signed by ${r.checkpoint.keyid} at ${r.checkpoint.time}` : 'no checkpoint';
  const anchors = r.anchors.latest ? `${r.anchors.valid} anchor(s), latest #${r.anchors.latest.sequence} in ${r.anchors.latest.source}` : `${r.anchors.valid} anchor(s)`;
  const lines = r.ok
    ? [`chain ok: ${r.repository}, ${r.length} certificate(s), head ${r.head ?? '(empty)'}; ${cp}; ${anchors}; trusted keys: ${r.trusted_keys.join(', ')}`]
    : [`chain BROKEN (${r.error?.code ?? 'unknown'} at step ${r.error?.step ?? '?'}): ${r.error?.message ?? r.reason ?? ''}`];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** JSON of a stored file, or the raw text when it is not JSON (verification then reports it as malformed). */
export const jsonOrText = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** What verification needs from a context: GitHub reads and the ledger, never a signing key. */
export type VerifyContext = Pick<PipelineContext, 'github' | 'ledgerFor'>;

export interface OnlineVerifyOptions {
  /** Anchors the caller already holds (saved check-run output, attestation predicates). */
  anchors?: Anchor[];
  /** How many recent workflow runs' commits to search for newer anchors (default 20). */
  scanRuns?: number;
}

/** The head certificate's triggering run, if it has one: where its checkpoint's anchor must be. */
function headRunId(certificates: unknown[]): number | null {
  try {
    return certificates.length ? decodeCertificate(certificates.at(-1)).predicate.run_id : null;
  } catch {
    return null;
  }
}

async function anchorsOn(github: GitHubPort, repo: RepoRef, sha: string): Promise<Anchor[]> {
  const runs = await github.listCheckRuns(repo, sha, CHECK_RUN_NAME);
  return runs.flatMap((c) => anchorsInText(`${c.summary ?? ''}\n${c.text ?? ''}`, `check run ${c.id} on commit ${sha.slice(0, 12)}`));
}

/** Anchors from the App's check runs: on the head certificate's commit, and on recent runs' commits. */
async function collectAnchors(ctx: VerifyContext, repo: RepoRef, certificates: unknown[], opts: OnlineVerifyOptions, warnings: string[]): Promise<{ anchors: Anchor[]; expected: string | null }> {
  const anchors: Anchor[] = [...(opts.anchors ?? [])];
  const seen = new Set<string>();
  let expected: string | null = null;
  const runId = headRunId(certificates);
  if (runId !== null) {
    expected = `the check runs of run ${runId}'s commit`;
    try {
      const run = await ctx.github.getRun(repo, runId);
      expected = `the "${CHECK_RUN_NAME}" check runs on commit ${run.head_sha.slice(0, 12)} (run ${runId})`;
      seen.add(run.head_sha);
      anchors.push(...(await anchorsOn(ctx.github, repo, run.head_sha)));
    } catch (err) {
      warnings.push(`could not read run ${runId} or its check runs: ${(err as Error).message}`);
    }
  } else if (certificates.length) {
    warnings.push('the head certificate has no triggering run, so no check run anchors its checkpoint (the Action path attests it instead)');
  }
  try {
    const heads = await ctx.github.listRecentRunHeads(repo, 100);
    for (const sha of heads.filter((s) => !seen.has(s)).slice(0, opts.scanRuns ?? 20)) anchors.push(...(await anchorsOn(ctx.github, repo, sha)));
  } catch (err) {
    warnings.push(`could not search recent runs for newer anchors: ${(err as Error).message}`);
  }
  return { anchors, expected };
}

/** Reads everything verification looks at from a ledger branch, unparsed where it could be damaged. */
async function readBranch(ledger: Ledger): Promise<Omit<LedgerEvidence, 'repository' | 'anchors' | 'expectedAnchor'> | null> {
  const snapshot = await ledger.read();
  if (snapshot.head === null) return null;
  const [files, checkpointText, stateText] = await Promise.all([ledger.readCertificateFiles(), ledger.readFile('checkpoint.json'), ledger.readFile('state.json')]);
  const state = stateText === null ? undefined : (jsonOrText(stateText) as { last_certificate_hash?: string | null } | string);
  return {
    certificates: files.map((f) => jsonOrText(f.text)),
    files: files.map((f) => f.path.split('/').at(-1) as string),
    checkpoint: checkpointText === null ? null : jsonOrText(checkpointText),
    publishedKeys: snapshot.publicKeys,
    ...(state !== undefined && typeof state === 'object' && state !== null ? { stateHead: state.last_certificate_hash ?? null } : {}),
  };
}

/**
 * Verifies a repository's ledger branch on GitHub against the pinned keys and the anchors in the
 * App's check runs. "No ledger" (no branch, unknown repository) is its own status, never "ok".
 */
export async function verifyLedger(ctx: VerifyContext, repository: string, trust: PinnedKeys, opts: OnlineVerifyOptions = {}): Promise<VerifyReport> {
  return (await verifyLedgerChain(ctx, repository, trust, opts)).report;
}

/** `verifyLedger`, also returning the verified chain. */
export async function verifyLedgerChain(ctx: VerifyContext, repository: string, trust: PinnedKeys, opts: OnlineVerifyOptions = {}): Promise<Verified> {
  const repo = parseRepoFullName(repository);
  try {
    await ctx.github.getDefaultBranch(repo);
  } catch (err) {
    // GitHub answers 404 for a repository that does not exist and for one the token cannot see.
    if ((err as { status?: unknown }).status !== 404) throw err;
    return { report: noLedgerReport(repository, repository, null, trust.sources, `repository ${repository} not found, or the token cannot see it`), chain: [] };
  }
  const config = await loadRepoConfig(ctx.github, repo);
  const branch = config.ledger.branch;
  const source = `branch ${branch} of ${repository}`;
  const ledger = ctx.ledgerFor(repo, branch);
  let read: Awaited<ReturnType<typeof readBranch>>;
  try {
    read = await readBranch(ledger);
  } catch (err) {
    if (!(err instanceof LedgerCorruptError)) throw err;
    const report: VerifyReport = {
      ...noLedgerReport(repository, source, branch, trust.sources, ''),
      status: 'broken',
      reason: err.message,
      error: { step: 'certificates', code: 'LEDGER_CORRUPT', message: err.message, index: null },
    };
    return { report, chain: [] };
  }
  if (!read) return { report: noLedgerReport(repository, source, branch, trust.sources, `branch ${branch} does not exist`), chain: [] };
  const warnings: string[] = [];
  const { anchors, expected } = await collectAnchors(ctx, repo, read.certificates as unknown[], opts, warnings);
  const verified = verifyLedgerEvidence({ repository, ...read, anchors, expectedAnchor: expected }, { keys: trust.keys });
  verified.warnings.unshift(...warnings);
  return verifiedOf(verified, read.certificates, { source, branch, key_sources: trust.sources });
}
