import { canonicalJson, utf8Bytes } from '../canonical.js';
import { CHECKPOINT_PAYLOAD_TYPE, Checkpoint, SignedCheckpoint } from '../schemas/checkpoint.js';
import { parseWith } from '../schemas/errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import type { PublicKeys } from './certificate.js';
import { pae } from './dsse.js';
import { verifyEd25519 } from './keys.js';
import type { Signer } from './signer.js';

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(checkpoint: Checkpoint): Uint8Array {
  return pae(CHECKPOINT_PAYLOAD_TYPE, utf8Bytes(canonicalJson(checkpoint)));
}

/** Sign the ledger head (validated first). */
export async function signCheckpoint(checkpoint: Checkpoint, signer: Signer): Promise<SignedCheckpoint> {
  const body = parseWith(Checkpoint, checkpoint, 'checkpoint');
  const sig = await signer.sign(checkpointMessage(body));
  return { checkpoint: body, signature: { keyid: signer.keyid, sig: encodeBase64(sig) } };
}

export type CheckpointVerification =
  | { ok: true; checkpoint: Checkpoint; keyid: string }
  | { ok: false; code: 'CHECKPOINT_MALFORMED' | 'CHECKPOINT_UNSIGNED' | 'CHECKPOINT_UNTRUSTED_KEY' | 'CHECKPOINT_BAD_SIGNATURE'; reason: string };

/** A signed checkpoint holds when its shape is right and a trusted key signed exactly its canonical bytes. */
export function verifyCheckpoint(input: unknown, trusted: PublicKeys): CheckpointVerification {
  const sig = (input as { signature?: { sig?: unknown } } | null)?.signature;
  if (input && typeof input === 'object' && (!sig || typeof sig.sig !== 'string' || sig.sig === '')) {
    return { ok: false, code: 'CHECKPOINT_UNSIGNED', reason: 'the checkpoint carries no signature' };
  }
  const parsed = SignedCheckpoint.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, code: 'CHECKPOINT_MALFORMED', reason: `the checkpoint is malformed (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'})` };
  }
  const { checkpoint, signature } = parsed.data;
  const key = Object.prototype.hasOwnProperty.call(trusted, signature.keyid) ? trusted[signature.keyid] : undefined;
  if (key === undefined) {
    return { ok: false, code: 'CHECKPOINT_UNTRUSTED_KEY', reason: `the checkpoint is signed by key ${signature.keyid}, which is not a trusted key` };
  }
  if (!decodeBase64(signature.sig) || !verifyEd25519(checkpointMessage(checkpoint), signature.sig, key)) {
    return { ok: false, code: 'CHECKPOINT_BAD_SIGNATURE', reason: `the checkpoint's signature by key ${signature.keyid} does not verify (the checkpoint was edited)` };
  }
  return { ok: true, checkpoint, keyid: signature.keyid };
}
