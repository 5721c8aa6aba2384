import { createSigner, generateSigningKey, signCertificate, verifyChain, type Signer } from '../../src/core/certificate/index.js';
import type { AuditEntry, Certificate } from '../../src/core/schemas/index.js';
import { createGitLedger, LedgerConflictError, LedgerCorruptError, LedgerWriteError, type LedgerSnapshot } from '../../src/ledger/index.js';
import { MemoryGit } from '../support/memory-git.js';

const repo = { owner: 'acme', repo: 'shop' };
const BRANCH = 'bridge-ledger';

let signer: Signer;
beforeAll(async () => {
  const key = await generateSigningKey(new Uint8Array(32).fill(7));
  signer = await createSigner(key.secretKey);
});

function setup(opts: { maxAttempts?: number } = {}) {
  const git = new MemoryGit();
  const delays: number[] = [];
  const ledger = createGitLedger(git, repo, BRANCH, { ...opts, signer, delay: async (ms) => { delays.push(ms); }, random: () => 0.5 });
  return { git, ledger, delays };
}

const cert = (snap: Pick<LedgerSnapshot, 'lastCertificateHash'>, reason: string, previous: string | null = snap.lastCertificateHash): Promise<Certificate> =>
  signCertificate(
    {
      timestamp: '2026-01-15T10:00:00Z',
      action: 'RERUN',
      reason,
      targets: ['run:42'],
      certified: true,
      report_hash: 'a'.repeat(64),
      repository: 'acme/shop',
      run_id: 42,
      run_attempt: 1,
      policy_version: 1,
      changes: [],
      previous_certificate_hash: previous,
      certificate_type: 'action',
    },
    signer,
  );

const audit = (detail: string, at = '2026-01-15T10:00:00Z'): AuditEntry => ({ at, door: 'cli', actor: 'test', event: 'test', repository: 'acme/shop', detail, certificate_hash: null });

describe('git ledger', () => {
  test('reading a missing ledger gives an empty snapshot; the first commit creates the branch as an orphan', async () => {
    const { git, ledger } = setup();
    const empty = await ledger.read();
    expect(empty.head).toBeNull();
    expect(empty.certificateCount).toBe(0);
    expect(empty.state.halted).toBe(false);

    const res = await ledger.commit('init', () => ({}));
    expect(res.attempts).toBe(1);
    expect(git.refs.get(BRANCH)).toBe(res.commitSha);
    expect(git.commits.get(res.commitSha)?.parents).toEqual([]);
    const files = git.filesOf(BRANCH);
    expect(Object.keys(files).sort()).toEqual(['.bridge/checkpoint.json', '.bridge/state.json', '.bridge/sync-state.json', 'README.md']);
    expect(files['README.md']).toMatch(/Living Bridge ledger/);
    expect(res.snapshot.head).toBe(res.commitSha);
  });

  test('state, sync, keys, grants, approvals and extra files round-trip', async () => {
    const { ledger } = setup();
    await ledger.commit('write everything', (s) => ({
      state: { ...s.state, halted: true, halted_reason: 'drill', ema: { RERUN: 0.7 } },
      sync: { ...s.sync, etags: { 'variables:repository': '"e1"' } },
      publicKeys: { [signer.keyid]: signer.publicKey },
      revokedGrantIds: ['g1'],
      grantUses: { g2: 1 },
      pendingApprovals: [{ id: 'p1', created_at: 'c', expires_at: 'e', issue_number: 3, decision: { action: 'RERUN' }, incident: {}, status: 'pending', decided_by: null }],
      files: { 'postmortems/2026-01-15-run-42.md': '# Postmortem\n' },
    }));
    await ledger.commit('more', (s) => ({ revokedGrantIds: ['g3'], grantUses: { g2: s.grantUses.g2! + 1 } }));

    const snap = await ledger.read();
    expect(snap.state.halted).toBe(true);
    expect(snap.state.halted_reason).toBe('drill');
    expect(snap.state.ema).toEqual({ RERUN: 0.7 });
    expect(snap.sync.etags).toEqual({ 'variables:repository': '"e1"' });
    expect(snap.publicKeys).toEqual({ [signer.keyid]: signer.publicKey });
    expect(snap.revokedGrantIds).toEqual(['g1', 'g3']);
    expect(snap.grantUses).toEqual({ g2: 2 });
    expect(snap.pendingApprovals.map((p) => p.id)).toEqual(['p1']);
    await expect(ledger.readFile('postmortems/2026-01-15-run-42.md')).resolves.toBe('# Postmortem\n');
    await expect(ledger.readFile('postmortems/none.md')).resolves.toBeNull();
  });

  test('a write that changes nothing makes no commit; only changed files are written, inline in the tree call', async () => {
    const { git, ledger } = setup();
    const written: string[][] = [];
    const createTree = git.createTree.bind(git);
    git.createTree = (r, base, entries) => {
      written.push(entries.map((e) => e.path));
      return createTree(r, base, entries);
    };
    const first = await ledger.commit('init', () => ({}));
    const same = await ledger.commit('noop', (s) => ({ state: s.state }));
    expect(same.commitSha).toBe(first.commitSha);
    expect(written).toHaveLength(1);
    await ledger.commit('halt', (s) => ({ state: { ...s.state, halted: true }, sync: s.sync }));
    expect(written[1]).toEqual(['.bridge/state.json']);
    expect(git.calls.createBlob ?? 0).toBe(0); // small files travel in the tree call
  });

  test('a staged write travels in the next commit of the branch (any ledger object of it), not in a commit of its own', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({}));
    const before = git.commits.size;
    const memory = { version: 1 as const, signatures: {}, runs: [{ run_id: 7, attempt: 1, signature: '0123456789abcdef', at: '2026-01-15T10:00:00Z' }] };
    ledger.stage!('classifier: run 7 attempt 1 failed', (s) => ({ classifierMemory: { ...(s.classifierMemory ?? memory), runs: memory.runs } }));
    expect(git.commits.size).toBe(before); // nothing written yet
    // Another ledger object of the same branch (a flow that asked for its own) commits: the staged write goes with it.
    const other = createGitLedger(git, repo, BRANCH, { signer, delay: async () => {}, random: () => 0.5 });
    const seen: unknown[] = [];
    const done = await other.commit('decision: noop (cooldown)', (s) => {
      seen.push(s.classifierMemory?.runs);
      return { audit: [audit('noop')] };
    });
    expect(git.commits.size).toBe(before + 1);
    expect(seen).toEqual([memory.runs]); // the commit's own mutate sees the staged change
    expect(done.snapshot.classifierMemory?.runs).toEqual(memory.runs);
    expect((await ledger.read()).classifierMemory?.runs).toEqual(memory.runs);
    expect(git.commits.get(done.commitSha)?.message).toBe('decision: noop (cooldown)\n\n+ classifier: run 7 attempt 1 failed');
    // Taken once: the next commit carries nothing staged.
    const next = await ledger.commit('halt', (s) => ({ state: { ...s.state, halted: true } }));
    expect(git.commits.get(next.commitSha)?.message).toBe('halt');
  });

  test('a staged write whose carrying commit fails waits for the next commit; staged writes never carry certificates', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({}));
    ledger.stage!('staged audit', () => ({ audit: [audit('staged')] }));
    await expect(ledger.commit('broken', () => { throw new Error('mutate failed'); })).rejects.toThrow('mutate failed');
    const ok = await ledger.commit('after', () => ({ audit: [audit('own')] }));
    expect(git.commits.get(ok.commitSha)?.message).toBe('after\n\n+ staged audit');
    ledger.stage!('bad', async (s) => ({ certificates: [await cert(s, 'staged')] }));
    await expect(ledger.commit('carrier', () => ({}))).rejects.toThrow(/cannot carry certificates/);
  });

  test('flush commits what is staged, once; with nothing staged it sends no request', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({}));
    const before = git.commits.size;
    const calls = JSON.stringify(git.calls);
    await ledger.flush!();
    expect(git.commits.size).toBe(before);
    expect(JSON.stringify(git.calls)).toBe(calls);
    ledger.stage!('first', () => ({ audit: [audit('one')] }));
    ledger.stage!('second', () => ({ audit: [audit('two')] }));
    await ledger.flush!();
    expect(git.commits.size).toBe(before + 1);
    const head = (await ledger.read()).head!;
    expect(git.commits.get(head)?.message).toBe('first\n\n+ second');
    await ledger.flush!();
    expect(git.commits.size).toBe(before + 1);
  });

  test('audit trail is append-only: old lines are kept byte for byte, months get their own file', async () => {
    const { git, ledger } = setup();
    await ledger.commit('a1', () => ({ audit: [audit('one'), audit('two')] }));
    const jan1 = git.filesOf(BRANCH)['.bridge/audit/2026-01.jsonl']!;
    expect(jan1.trim().split('\n')).toHaveLength(2);
    await ledger.commit('a2', () => ({ audit: [audit('three'), audit('feb', '2026-02-01T00:00:00Z')] }));
    const files = git.filesOf(BRANCH);
    const jan2 = files['.bridge/audit/2026-01.jsonl']!;
    expect(jan2.startsWith(jan1)).toBe(true);
    expect(jan2.trim().split('\n').map((l) => (JSON.parse(l) as AuditEntry).detail)).toEqual(['one', 'two', 'three']);
    expect(files['.bridge/audit/2026-02.jsonl']?.trim().split('\n')).toHaveLength(1);
  });

  test('certificates chain, get sequential files, update last_certificate_hash; read() does not read them', async () => {
    const { git, ledger } = setup();
    const r1 = await ledger.commit('c1', async (s) => ({ certificates: [await cert(s, 'first')], publicKeys: { [signer.keyid]: signer.publicKey } }));
    const r2 = await ledger.commit('c2', async (s) => {
      const a = await cert(s, 'second');
      const b = await cert({ lastCertificateHash: a.certificate_hash }, 'third');
      return { certificates: [a, b] };
    });
    expect(r1.snapshot.certificateCount).toBe(1);
    expect(r2.snapshot.certificateCount).toBe(3);
    const paths = Object.keys(git.filesOf(BRANCH)).filter((p) => p.startsWith('.bridge/certificates/')).sort();
    expect(paths.map((p) => p.replace(/-[0-9a-f]{12}\.json$/, ''))).toEqual(['.bridge/certificates/000001', '.bridge/certificates/000002', '.bridge/certificates/000003']);

    const files = git.filesOf(BRANCH);
    const certBlobShas = new Set([...git.blobs].filter(([, content]) => paths.some((p) => files[p] === content)).map(([sha]) => sha));
    expect(certBlobShas.size).toBe(3);
    git.blobReads.length = 0;
    const snap = await ledger.read();
    expect(snap.certificateCount).toBe(3);
    expect(git.blobReads.filter((sha) => certBlobShas.has(sha))).toEqual([]);

    const certs = await ledger.readCertificates();
    expect(certs).toHaveLength(3);
    expect(snap.lastCertificateHash).toBe(certs[2]?.certificate_hash);
    expect(snap.state.last_certificate_hash).toBe(certs[2]?.certificate_hash);
    expect(verifyChain(certs, snap.publicKeys).ok).toBe(true);
  });

  test('a certificate that does not chain is refused and nothing is written', async () => {
    const { git, ledger } = setup();
    await ledger.commit('c1', async (s) => ({ certificates: [await cert(s, 'first')] }));
    const head = git.refs.get(BRANCH);
    await expect(ledger.commit('bad', async () => ({ certificates: [await cert({ lastCertificateHash: null }, 'fork of the chain')] }))).rejects.toThrow(LedgerWriteError);
    await expect(ledger.commit('bad', async () => ({ certificates: [await cert({ lastCertificateHash: null }, 'x')] }))).rejects.toThrow(/does not chain/);
    const tampered = { ...(await cert(await ledger.read(), 'tampered')), certificate_hash: 'f'.repeat(64) };
    await expect(ledger.commit('bad', () => ({ certificates: [tampered] }))).rejects.toThrow(/not sha256 of its payload/);
    expect(git.refs.get(BRANCH)).toBe(head);
  });

  test.each([
    ['on a new branch', false],
    ['on an existing branch', true],
  ])('two concurrent commits both land %s (compare-and-swap, retry, nothing lost)', async (_label, existing) => {
    const { git, ledger, delays } = setup();
    if (existing) await ledger.commit('init', () => ({}));
    let mutateCalls = 0;
    const bump = (who: string) =>
      ledger.commit(`bump by ${who}`, async (s) => {
        mutateCalls++;
        const counter = (s.state.predictions.counter?.successes ?? 0) + 1;
        return {
          state: { ...s.state, predictions: { ...s.state.predictions, counter: { successes: counter, failures: 0 } } },
          certificates: [await cert(s, `by ${who}`)],
          audit: [audit(`bumped by ${who}`)],
        };
      });
    const results = await Promise.all([bump('app'), bump('action')]);

    expect(results.map((r) => r.attempts).sort()).toEqual([1, 2]);
    expect(mutateCalls).toBe(3);
    expect(delays).toHaveLength(1);
    const snap = await ledger.read();
    expect(snap.state.predictions.counter?.successes).toBe(2);
    expect(snap.certificateCount).toBe(2);
    const lines = git.filesOf(BRANCH)['.bridge/audit/2026-01.jsonl']!.trim().split('\n').map((l) => (JSON.parse(l) as AuditEntry).detail).sort();
    expect(lines).toEqual(['bumped by action', 'bumped by app']);
    const certs = await ledger.readCertificates();
    expect(certs[1] && JSON.parse(Buffer.from(certs[1].envelope.payload, 'base64').toString()).predicate.previous_certificate_hash).toBe(certs[0]?.certificate_hash);
    expect(verifyChain(certs, { [signer.keyid]: signer.publicKey }).ok).toBe(true);
    expect(git.historyLength(BRANCH)).toBe(existing ? 3 : 2);
  });

  test('gives up with a clear error after maxAttempts when the ref keeps moving', async () => {
    const { git, ledger, delays } = setup({ maxAttempts: 3 });
    await ledger.commit('init', () => ({}));
    git.beforeRefUpdate = () => { git.putFile(BRANCH, '.bridge/postmortems/noise.md', String(Math.random())); };
    const err = await ledger.commit('never lands', (s) => ({ state: { ...s.state, halted: true } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerConflictError);
    expect((err as Error).message).toMatch(/gave up after 3 attempts/);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
  });

  test('a corrupt state.json gives an error naming the file', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({}));
    git.putFile(BRANCH, '.bridge/state.json', '{ not json');
    await expect(ledger.read()).rejects.toThrow(LedgerCorruptError);
    await expect(ledger.read()).rejects.toThrow(/\.bridge\/state\.json on branch bridge-ledger is corrupt: not valid JSON/);
    git.putFile(BRANCH, '.bridge/state.json', JSON.stringify({ halted: 'yes' }));
    await expect(ledger.commit('x', () => ({}))).rejects.toThrow(/\.bridge\/state\.json .*halted/);
  });

  test('a read whose branch did not move costs one head request; our own commits need no read at all', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', async (s) => ({ certificates: [await cert(s, 'first')], publicKeys: { [signer.keyid]: signer.publicKey } }));
    const before = { ...git.calls };
    const delta = (name: string): number => (git.calls[name] ?? 0) - (before[name] ?? 0);

    const snap = await ledger.read();
    expect(snap.certificateCount).toBe(1);
    expect(delta('getBranchHead')).toBe(1);
    expect(delta('readCommitTree') + delta('getCommitTree') + delta('listTree') + delta('readBlob')).toBe(0);

    // A second ledger object of the same process (a new App job) shares the cache.
    const other = createGitLedger(git, repo, BRANCH, { signer });
    await other.commit('halt', (s) => ({ state: { ...s.state, halted: true } }));
    expect(delta('getBranchHead')).toBe(1); // the commit built on the cached snapshot
    expect(delta('readBlob')).toBe(0);
    expect((await ledger.read()).state.halted).toBe(true);
    expect(delta('readCommitTree') + delta('readBlob')).toBe(0);

    // Mutating a snapshot a caller got never changes the cache.
    const got = await ledger.read();
    got.state.halted = false;
    got.publicKeys.x = 'AAAA';
    expect((await ledger.read()).state.halted).toBe(true);
    expect((await ledger.read()).publicKeys.x).toBeUndefined();
  });

  test('another writer moved the branch: reads see it, and a commit built on the stale cache is refused by the ref and retried on a fresh read', async () => {
    const { git, ledger, delays } = setup();
    await ledger.commit('init', () => ({ audit: [audit('one')] }));
    // Another process (own cache) appends to the audit trail.
    const action = createGitLedger(git, repo, BRANCH, { cache: false, signer });
    await action.commit('action', () => ({ audit: [audit('from the action')] }));
    const heads: (string | null)[] = [];
    const res = await ledger.commit('app', (s) => {
      heads.push(s.head);
      return { audit: [audit('from the app')] };
    });
    expect(heads).toHaveLength(2);
    expect(heads[0]).not.toBe(heads[1]);
    expect(res.attempts).toBe(2);
    expect(delays).toHaveLength(1);
    const lines = git.filesOf(BRANCH)['.bridge/audit/2026-01.jsonl']!.trim().split('\n').map((l) => (JSON.parse(l) as AuditEntry).detail);
    expect(lines).toEqual(['one', 'from the action', 'from the app']);

    git.putFile(BRANCH, '.bridge/postmortems/hand.md', '# by hand\n');
    await expect(ledger.readFile('postmortems/hand.md')).resolves.toBe('# by hand\n');
  });

  test('a cached snapshot of a branch that was deleted: the commit reads again and recreates it', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({ audit: [audit('one')] }));
    git.refs.delete(BRANCH);
    const res = await ledger.commit('again', () => ({ audit: [audit('two')] }));
    expect(git.refs.get(BRANCH)).toBe(res.commitSha);
    expect(git.commits.get(res.commitSha)?.parents).toEqual([]);
    expect(git.filesOf(BRANCH)['.bridge/audit/2026-01.jsonl']!.trim().split('\n')).toHaveLength(1);
  });

  test('a refusal computed from a stale cached snapshot is re-checked on a fresh one', async () => {
    const { git, ledger } = setup();
    await ledger.commit('init', () => ({}));
    await createGitLedger(git, repo, BRANCH, { cache: false, signer }).commit('approve', (s) => ({ pendingApprovals: [...s.pendingApprovals, { id: 'p1', created_at: '2026-01-15T10:00:00Z', expires_at: '2026-01-18T10:00:00Z', issue_number: null, decision: {}, incident: {}, status: 'pending', decided_by: null }] }));
    let calls = 0;
    const res = await ledger.commit('decide', (s) => {
      calls++;
      if (!s.pendingApprovals.some((p) => p.id === 'p1')) throw new Error('no such approval');
      return { pendingApprovals: s.pendingApprovals.map((p) => ({ ...p, status: 'approved' as const })) };
    });
    expect(calls).toBe(2);
    expect(res.snapshot.pendingApprovals[0]?.status).toBe('approved');
    // ...and a refusal on a current snapshot stands, with mutate called once.
    calls = 0;
    await expect(ledger.commit('x', () => { calls++; throw new Error('refused'); })).rejects.toThrow('refused');
    expect(calls).toBe(1);
  });

  test('cache: false reads the whole branch for every read', async () => {
    const git = new MemoryGit();
    const ledger = createGitLedger(git, repo, BRANCH, { cache: false, signer });
    await ledger.commit('init', () => ({}));
    const reads = git.calls.readBlob ?? 0;
    await ledger.read();
    await ledger.read();
    // state, sync-state and the checkpoint, twice (the empty ledger has no other files).
    expect((git.calls.readBlob ?? 0) - reads).toBe(6);
  });

  test('reserved and escaping paths are refused in files', async () => {
    const { ledger } = setup();
    await expect(ledger.commit('x', () => ({ files: { 'state.json': '{}' } }))).rejects.toThrow(/reserved/);
    await expect(ledger.commit('x', () => ({ files: { 'certificates/000001-abc.json': '{}' } }))).rejects.toThrow(/reserved/);
    await expect(ledger.commit('x', () => ({ files: { '../README.md': 'x' } }))).rejects.toThrow(/invalid ledger path/);
  });
});
