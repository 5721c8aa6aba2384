import { createSigner, generateSigningKey, signCertificate, verifyCheckpoint, type Signer } from '../../src/core/certificate/index.js';
import type { Certificate } from '../../src/core/schemas/index.js';
import type { LoadedLedger } from '../../src/ledger/cache.js';
import { LedgerCorruptError, LedgerWriteError } from '../../src/ledger/errors.js';
import { LEDGER_PATHS, certificatePath } from '../../src/ledger/layout.js';
import { emptySnapshot } from '../../src/ledger/snapshot.js';
import { gitBlobSha, ledgerRelative, planWrite, type PlanContext } from '../../src/ledger/write-plan.js';

let signer: Signer;
beforeAll(async () => {
  signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(3))).secretKey);
});

const NOW = new Date('2026-03-04T05:06:07Z');
const context = (over: Partial<PlanContext> = {}): PlanContext => ({
  repository: 'acme/shop',
  branch: 'bridge-ledger',
  now: () => NOW,
  signer,
  readText: async (at, path) => {
    const sha = at.blobs.get(path);
    return sha === undefined ? null : at.texts.get(sha) ?? null;
  },
  ...over,
});

/** A loaded ledger whose files are `files` (path -> content), with the snapshot fields given. */
function at(files: Record<string, string>, snapshot: Partial<LoadedLedger['snapshot']> = {}): LoadedLedger {
  const blobs = new Map(Object.entries(files).map(([p, c]) => [p, gitBlobSha(c)] as const));
  const texts = new Map(Object.values(files).map((c) => [gitBlobSha(c), c] as const));
  return { snapshot: { ...emptySnapshot(), head: 'c0ffee', ...snapshot }, tree: 't0', blobs, texts };
}

const cert = (previous: string | null, sequence?: number): Promise<Certificate> =>
  signCertificate(
    {
      timestamp: '2026-03-04T05:00:00Z', action: 'RERUN', reason: 'r', targets: [], certified: true, report_hash: 'b'.repeat(64),
      repository: 'acme/shop', run_id: 1, run_attempt: 1, policy_version: 1, changes: [], previous_certificate_hash: previous,
      certificate_type: 'action', ...(sequence ? { sequence } : {}),
    },
    signer,
  );

describe('ledger write plan', () => {
  test('the first write of an empty ledger creates state, sync state, a checkpoint over the empty chain and the README', async () => {
    const plan = await planWrite(at({}, { head: null }), {}, context());
    expect([...plan.files.keys()].sort()).toEqual(['.bridge/checkpoint.json', '.bridge/state.json', '.bridge/sync-state.json', 'README.md']);
    expect(plan.next.checkpoint?.checkpoint).toMatchObject({ sequence: 0, head: null });
  });

  test('files whose bytes do not change are left out; a no-op write plans nothing', async () => {
    const first = await planWrite(at({}, { head: null }), {}, context());
    const files = Object.fromEntries(first.files);
    const again = await planWrite(at(files, { checkpoint: first.next.checkpoint }), { state: first.next.state, sync: first.next.sync }, context());
    expect(again.files.size).toBe(0);
  });

  test('certificates get sequential paths, a signed checkpoint and the new head in state', async () => {
    const c1 = await cert(null, 1);
    const c2 = await cert(c1.certificate_hash, 2);
    const plan = await planWrite(at({}), { certificates: [c1, c2] }, context());
    expect(plan.files.has(certificatePath(1, c1.certificate_hash))).toBe(true);
    expect(plan.files.has(certificatePath(2, c2.certificate_hash))).toBe(true);
    expect(plan.next).toMatchObject({ certificateCount: 2, lastCertificateHash: c2.certificate_hash });
    expect(JSON.parse(plan.files.get(LEDGER_PATHS.state)!).last_certificate_hash).toBe(c2.certificate_hash);
    const checkpoint = JSON.parse(plan.files.get(LEDGER_PATHS.checkpoint)!);
    const verified = verifyCheckpoint(checkpoint, { [signer.keyid]: signer.publicKey });
    expect(verified).toMatchObject({ ok: true, checkpoint: { repository: 'acme/shop', sequence: 2, head: c2.certificate_hash, time: NOW.toISOString() } });
  });

  test('refusals: a certificate that does not chain, a wrong sequence, no signer, a reserved or escaping path', async () => {
    const c1 = await cert(null, 1);
    await expect(planWrite(at({}, { lastCertificateHash: 'f'.repeat(64), certificateCount: 1 }), { certificates: [c1] }, context())).rejects.toThrow(/does not chain/);
    await expect(planWrite(at({}), { certificates: [await cert(null, 5)] }, context())).rejects.toThrow(/carries sequence 5 but would be #1/);
    await expect(planWrite(at({}), { certificates: [c1] }, context({ signer: undefined }))).rejects.toThrow(LedgerWriteError);
    await expect(planWrite(at({}), { files: { 'keys/x.pub': 'k' } }, context())).rejects.toThrow(/reserved/);
    expect(() => ledgerRelative('../escape')).toThrow(/invalid ledger path/);
    expect(ledgerRelative('.bridge/postmortems/x.md')).toBe('postmortems/x.md');
  });

  test('a checkpoint that disagrees with the certificates, or a deleted one over sequenced certificates, is never built on', async () => {
    const c1 = await cert(null, 1);
    const c2 = await cert(c1.certificate_hash, 2);
    const first = await planWrite(at({}), { certificates: [c1] }, context());
    const files = Object.fromEntries(first.files);
    // The tail is cut: the branch has no certificate but the checkpoint says 1.
    const { [certificatePath(1, c1.certificate_hash)]: _cut, ...cutFiles } = files;
    await expect(planWrite(at(cutFiles, { checkpoint: first.next.checkpoint, certificateCount: 0, lastCertificateHash: null }), { certificates: [c1] }, context())).rejects.toThrow(LedgerCorruptError);
    // The checkpoint was deleted although certificate #1 carries a sequence number.
    const { [LEDGER_PATHS.checkpoint]: _gone, ...withoutCheckpoint } = files;
    await expect(planWrite(at(withoutCheckpoint, { certificateCount: 1, lastCertificateHash: c1.certificate_hash }), { certificates: [c2] }, context())).rejects.toThrow(/checkpoint was deleted/);
  });

  test('audit entries append to their month file byte for byte; a revocation list only grows', async () => {
    const existing = '{"old":true}';
    const entry = { at: '2026-03-01T00:00:00Z', door: 'cli' as const, actor: 'a', event: 'e', repository: 'acme/shop', detail: 'd', certificate_hash: null };
    const plan = await planWrite(at({ '.bridge/audit/2026-03.jsonl': existing }, { revokedGrantIds: ['g1'] }), { audit: [entry], revokedGrantIds: ['g2'] }, context());
    const text = plan.files.get('.bridge/audit/2026-03.jsonl')!;
    expect(text.startsWith(`${existing}\n`)).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(plan.next.revokedGrantIds).toEqual(['g1', 'g2']);
  });
});
