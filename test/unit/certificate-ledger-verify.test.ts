import { createHash } from 'node:crypto';
import { createSigner, generateSigningKey, keyIdFor, parseTrustedKeys, signCertificate, signCheckpoint, verifyLedgerEvidence, type Signer } from '../../src/core/certificate/index.js';
import type { Certificate, SignedCheckpoint } from '../../src/core/schemas/index.js';

const REPO = 'acme/api';
const predicate = (i: number, previous: string | null, extra: Record<string, unknown> = {}) => ({
  timestamp: `2026-11-23T10:0${i}:00.000Z`,
  action: 'RERUN' as const,
  reason: `step ${i}`,
  targets: [],
  certified: true,
  report_hash: createHash('sha256').update(`report ${i}`).digest('hex'),
  repository: REPO,
  run_id: 100 + i,
  run_attempt: 1,
  policy_version: 1,
  changes: [],
  previous_certificate_hash: previous,
  sequence: i + 1,
  certificate_type: 'action' as const,
  ...extra,
});

let signer: Signer;
let attacker: Signer;
let chain: Certificate[];
let keys: Record<string, string>;
const checkpointOf = (certs: Certificate[], by: Signer = signer): Promise<SignedCheckpoint> =>
  signCheckpoint({ repository: REPO, sequence: certs.length, head: certs.at(-1)?.certificate_hash ?? null, time: '2026-11-23T11:00:00.000Z' }, by);

beforeAll(async () => {
  signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(3))).secretKey);
  attacker = await createSigner((await generateSigningKey(new Uint8Array(32).fill(4))).secretKey);
  keys = { [signer.keyid]: signer.publicKey };
  chain = [];
  for (let i = 0; i < 4; i++) chain.push(await signCertificate(predicate(i, chain[i - 1]?.certificate_hash ?? null), signer));
});

describe('verifyLedgerEvidence', () => {
  it('passes every named step on an intact, checkpointed, anchored chain', async () => {
    const cp = await checkpointOf(chain);
    const r = verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: cp, anchors: [{ source: 'check run 1', checkpoint: cp }], expectedAnchor: 'check run 1' }, { keys });
    expect(r).toMatchObject({ ok: true, length: 4, head: chain[3]!.certificate_hash, error: null, anchors: { valid: 1, latest: { sequence: 4 } } });
    expect(r.steps.map((s) => s.step)).toEqual(['trust', 'certificates', 'checkpoint', 'anchors']);
  });

  it('refuses to verify without pinned keys', async () => {
    const r = verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: await checkpointOf(chain) }, { keys: {} });
    expect(r.error).toMatchObject({ step: 'trust', code: 'NO_TRUSTED_KEYS' });
  });

  it('a tail cut is caught by the checkpoint; a missing checkpoint is never ok (legacy or deleted)', async () => {
    const cp = await checkpointOf(chain);
    expect(verifyLedgerEvidence({ repository: REPO, certificates: chain.slice(0, 2), checkpoint: cp }, { keys }).error).toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: expect.stringMatching(/#3..#4 were cut off/) });
    expect(verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: null }, { keys }).error).toMatchObject({ code: 'CHECKPOINT_MISSING', message: expect.stringMatching(/deleted/) });
    const legacy: Certificate[] = [];
    for (let i = 0; i < 2; i++) legacy.push(await signCertificate({ ...predicate(i, legacy[i - 1]?.certificate_hash ?? null), sequence: undefined }, signer));
    expect(verifyLedgerEvidence({ repository: REPO, certificates: legacy, checkpoint: null }, { keys }).error).toMatchObject({ code: 'CHECKPOINT_MISSING', message: expect.stringMatching(/before checkpoints existed/) });
  });

  it('an unsigned, edited or attacker-signed checkpoint is refused', async () => {
    const cp = await checkpointOf(chain);
    const unsigned = { checkpoint: cp.checkpoint, signature: { keyid: signer.keyid, sig: '' } };
    expect(verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: unsigned }, { keys }).error?.code).toBe('CHECKPOINT_UNSIGNED');
    const edited = { ...cp, checkpoint: { ...cp.checkpoint, time: '2027-01-01T00:00:00.000Z' } };
    expect(verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: edited }, { keys }).error?.code).toBe('CHECKPOINT_BAD_SIGNATURE');
    expect(verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: await checkpointOf(chain, attacker) }, { keys }).error?.code).toBe('CHECKPOINT_UNTRUSTED_KEY');
  });

  it('an anchor ahead of the branch reports the rollback and the last anchored sequence', async () => {
    const old = await checkpointOf(chain.slice(0, 2));
    const r = verifyLedgerEvidence({ repository: REPO, certificates: chain.slice(0, 2), checkpoint: old, anchors: [{ source: 'check run on abc', checkpoint: await checkpointOf(chain) }] }, { keys });
    expect(r.error).toMatchObject({ step: 'anchors', code: 'ROLLED_BACK', last_anchored_sequence: 4 });
    expect(r.error?.message).toMatch(/falls short of the last anchored sequence 4/);
  });

  it('an expected anchor that is missing, and forged anchors, are reported', async () => {
    const cp = await checkpointOf(chain);
    const r = verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: cp, anchors: [{ source: 'forged', checkpoint: await checkpointOf([...chain, chain[0]!], attacker) }], expectedAnchor: 'check runs on abc' }, { keys });
    expect(r.error).toMatchObject({ code: 'ANCHOR_MISSING' });
    expect(r.warnings.join()).toMatch(/ignored the anchor in forged/);
  });

  it('trusts a key only through a rotation certificate signed by the previous key', async () => {
    const rotation = await signCertificate({ ...predicate(4, chain[3]!.certificate_hash), certificate_type: 'key_rotation', rotates_to: { keyid: attacker.keyid, public_key: attacker.publicKey } }, signer);
    const after = await signCertificate(predicate(5, rotation.certificate_hash), attacker);
    const rotated = [...chain, rotation, after];
    const ok = verifyLedgerEvidence({ repository: REPO, certificates: rotated, checkpoint: await checkpointOf(rotated, attacker) }, { keys });
    expect(ok).toMatchObject({ ok: true, trusted_keys: [signer.keyid, attacker.keyid] });
    // Without the rotation link, the new key's certificates are untrusted.
    const bad = await signCertificate(predicate(4, chain[3]!.certificate_hash), attacker);
    expect(verifyLedgerEvidence({ repository: REPO, certificates: [...chain, bad], checkpoint: null }, { keys }).error).toMatchObject({ code: 'KEY_UNTRUSTED', index: 4 });
  });

  it('parses pinned keys and never trusts a key id label that disagrees with the key', () => {
    const text = `# pinned on 2026-11-23\n${signer.publicKey}\n${keyIdFor(attacker.publicKey)}=${attacker.publicKey}, deadbeefdeadbeef=${signer.publicKey} nonsense`;
    const parsed = parseTrustedKeys(text, 'keys.txt');
    expect(Object.keys(parsed.keys).sort()).toEqual([signer.keyid, attacker.keyid].sort());
    expect(parsed.errors).toEqual([expect.stringMatching(/labelled deadbeefdeadbeef has key id/), expect.stringMatching(/"nonsense" is not a base64/)]);
  });
});
