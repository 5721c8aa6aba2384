/**
 * Key rotation: a `key_rotation` certificate, signed by the key that signs the chain now, naming the
 * next key. Verifiers that pinned the old key trust the next one from the link after it on
 * (src/core/certificate/chain.ts); the new public key is published in the ledger in the same commit.
 * Only the new key's public half is needed here: its secret never passes through this command.
 */
import { decodeCertificate, keyIdFor, rotationStatement, signCertificate } from '../core/certificate/index.js';
import { parseRepoFullName, type Certificate } from '../core/schemas/index.js';
import { auditEntry } from './audit.js';
import type { PipelineContext } from './context.js';
import { loadRepoConfig } from './repo-files.js';

/** A rotation this command refuses to write (bad key, same key, wrong signing key). */
export class RotationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationRefusedError';
  }
}

export interface RotationResult {
  repository: string;
  previous_keyid: string;
  keyid: string;
  public_key: string;
  sequence: number;
  certificate_hash: string;
  commit: string;
}

/** The key id of a base64 Ed25519 public key, or a RotationRefusedError saying what is wrong with it. */
export function nextKeyId(publicKey: string): string {
  try {
    return keyIdFor(publicKey.trim());
  } catch {
    throw new RotationRefusedError('the next key is not a base64 Ed25519 public key (32 bytes); pass the public key `living-bridge keygen` printed, never the secret key');
  }
}

/** Whether `signer` may sign the next link: it signed the head checkpoint, or the chain's last link rotated to it. */
async function signsTheChainNow(ctx: PipelineContext, checkpointKeyid: string | null, certificates: () => Promise<Certificate[]>): Promise<boolean> {
  if (checkpointKeyid === null || checkpointKeyid === ctx.signer.keyid) return true;
  const last = (await certificates()).at(-1);
  if (!last) return true;
  try {
    return decodeCertificate(last).predicate.rotates_to?.keyid === ctx.signer.keyid;
  } catch {
    return false;
  }
}

export async function rotateSigningKey(ctx: PipelineContext, repository: string, nextPublicKey: string, opts: { reason?: string; actor?: string } = {}): Promise<RotationResult> {
  const repo = parseRepoFullName(repository);
  const publicKey = nextPublicKey.trim();
  const keyid = nextKeyId(publicKey);
  if (keyid === ctx.signer.keyid) throw new RotationRefusedError(`the next key ${keyid} is the key signing now (TRUTH_SIGNING_KEY): generate a new one with \`living-bridge keygen\``);
  const config = await loadRepoConfig(ctx.github, repo);
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const before = await ledger.read();
  const checkpointKeyid = before.checkpoint?.signature.keyid ?? null;
  if (!(await signsTheChainNow(ctx, checkpointKeyid, () => ledger.readCertificates()))) {
    throw new RotationRefusedError(
      `the ledger's checkpoint is signed by key ${checkpointKeyid}, but TRUTH_SIGNING_KEY is key ${ctx.signer.keyid}: a rotation must be signed by the key that signs the chain now`,
    );
  }
  const reason = opts.reason ?? `signing key ${ctx.signer.keyid} rotated to ${keyid}`;
  let certificate: Certificate | null = null;
  let sequence = 0;
  const res = await ledger.commit(`key rotation: ${ctx.signer.keyid} -> ${keyid} (${repository})`, async (snap) => {
    sequence = snap.certificateCount + 1;
    const cert = await signCertificate(
      rotationStatement(
        { at: ctx.now(), repository, policyVersion: snap.state.policy.version, chain: snap },
        { reason, previousKeyid: ctx.signer.keyid, next: { keyid, public_key: publicKey }, decision: { previous_keyid: ctx.signer.keyid, rotated_by: opts.actor ?? ctx.actor ?? 'living-bridge' } },
      ),
      ctx.signer,
    );
    certificate = cert;
    return {
      state: { ...snap.state, last_certificate_hash: cert.certificate_hash },
      certificates: [cert],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey, [keyid]: publicKey },
      audit: [auditEntry(ctx, repository, 'key_rotation', reason, { actor: opts.actor, certificateHash: cert.certificate_hash })],
    };
  });
  const cert = certificate as Certificate | null;
  if (!cert) throw new Error('key rotation: the ledger commit produced no certificate');
  return { repository, previous_keyid: ctx.signer.keyid, keyid, public_key: publicKey, sequence, certificate_hash: cert.certificate_hash, commit: res.commitSha };
}
