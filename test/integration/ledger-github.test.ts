/** The ledger over the real GitHub adapter: the exact git data API calls, and a lost race retried. */
import nock from 'nock';
import { emptyGovernorState, SyncState } from '../../src/core/schemas/index.js';
import { createOctokit, GitHubAdapter, resetGitHubCache } from '../../src/github/index.js';
import { createGitLedger, resetLedgerCache } from '../../src/ledger/index.js';

const API = 'https://api.github.com';
const R = '/repos/acme/shop';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/(localhost|127\.0\.0\.1)/);
});
beforeEach(() => {
  // These tests replay fixed shas ("c1", "t1") with different content: start every test cold.
  resetGitHubCache();
  resetLedgerCache();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

function readBranch(scope: nock.Scope, commit: string, tree: string, halted: boolean) {
  return scope
    .get(`${R}/git/ref/heads/bridge-ledger`).reply(200, { object: { sha: commit } }, { etag: `W/"ref-${commit}"` })
    // The trees endpoint takes the commit sha: tree sha and listing in one request.
    .get(`${R}/git/trees/${commit}`).query({ recursive: '1' })
    .reply(200, { sha: tree, truncated: false, tree: [
      { path: '.bridge', type: 'tree', sha: 'd' },
      { path: '.bridge/state.json', type: 'blob', sha: `${tree}-state` },
      { path: '.bridge/sync-state.json', type: 'blob', sha: `${tree}-sync` },
      { path: '.bridge/certificates/000001-aaaaaaaaaaaa.json', type: 'blob', sha: `${tree}-cert` },
    ] })
    .get(`${R}/git/blobs/${tree}-state`).reply(200, { encoding: 'base64', content: b64({ ...emptyGovernorState(), halted, last_certificate_hash: 'a'.repeat(64) }) })
    .get(`${R}/git/blobs/${tree}-sync`).reply(200, { encoding: 'base64', content: b64(SyncState.parse({})) });
}

type TreeBody = { base_tree?: string; tree: { path: string; mode: string; type: string; content?: string; sha?: string }[] };
const haltedStateOnly = (base: string) => (b: TreeBody): boolean =>
  b.base_tree === base && b.tree.length === 1 && b.tree[0]?.path === '.bridge/state.json' && b.tree[0].sha === undefined && JSON.parse(b.tree[0].content ?? '{}').halted === true;

test('commit: tree (changed files inline) on base_tree -> commit -> PATCH ref (force false); a 422 non-fast-forward re-reads and retries', async () => {
  const gh = new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
  const ledger = createGitLedger(gh, { owner: 'acme', repo: 'shop' }, 'bridge-ledger', { delay: async () => undefined });
  const scope = nock(API);
  readBranch(scope, 'c1', 't1', false)
    .post(`${R}/git/trees`, haltedStateOnly('t1')).reply(201, { sha: 'nt1' })
    .post(`${R}/git/commits`, { message: 'halt', tree: 'nt1', parents: ['c1'] }).reply(201, { sha: 'nc1' })
    .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'nc1', force: false }).reply(422, { message: 'Update is not a fast forward' });
  // Someone else committed c2 meanwhile: read again (the old ETag goes along), mutate again, land on top of it.
  scope.get(`${R}/git/ref/heads/bridge-ledger`).matchHeader('if-none-match', 'W/"ref-c1"').reply(200, { object: { sha: 'c2' } }, { etag: 'W/"ref-c2"' })
    .get(`${R}/git/trees/c2`).query({ recursive: '1' })
    .reply(200, { sha: 't2', truncated: false, tree: [
      { path: '.bridge/state.json', type: 'blob', sha: 't2-state' },
      { path: '.bridge/sync-state.json', type: 'blob', sha: 't2-sync' },
      { path: '.bridge/certificates/000001-aaaaaaaaaaaa.json', type: 'blob', sha: 't2-cert' },
    ] })
    .get(`${R}/git/blobs/t2-state`).reply(200, { encoding: 'base64', content: b64({ ...emptyGovernorState(), halted: false, last_certificate_hash: 'a'.repeat(64) }) })
    // t1-sync is still the same blob in c2's tree in real git; here it is a new sha, read once.
    .get(`${R}/git/blobs/t2-sync`).reply(200, { encoding: 'base64', content: b64(SyncState.parse({})) })
    .post(`${R}/git/trees`, haltedStateOnly('t2')).reply(201, { sha: 'nt2' })
    .post(`${R}/git/commits`, { message: 'halt', tree: 'nt2', parents: ['c2'] }).reply(201, { sha: 'nc2' })
    .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'nc2', force: false }).reply(200, { object: { sha: 'nc2' } });

  const heads: (string | null)[] = [];
  const res = await ledger.commit('halt', (s) => {
    heads.push(s.head);
    return { state: { ...s.state, halted: true } };
  });
  expect(heads).toEqual(['c1', 'c2']);
  expect(res).toMatchObject({ commitSha: 'nc2', attempts: 2 });
  expect(res.snapshot.certificateCount).toBe(1);
  expect(res.snapshot.state.halted).toBe(true);

  // Our own commit is cached: a read asks only whether the head moved (304: free against the rate limit).
  nock(API).get(`${R}/git/ref/heads/bridge-ledger`).reply(200, { object: { sha: 'nc2' } }, { etag: 'W/"ref-nc2"' });
  expect((await ledger.read()).state.halted).toBe(true);
  nock(API).get(`${R}/git/ref/heads/bridge-ledger`).matchHeader('if-none-match', 'W/"ref-nc2"').reply(304);
  const again = await ledger.read();
  expect(again.head).toBe('nc2');
  expect(again.certificateCount).toBe(1);
  // ...and the next commit builds on it without reading: tree, commit, ref.
  nock(API)
    .post(`${R}/git/trees`, (b: TreeBody) => b.base_tree === 'nt2' && b.tree.length === 1 && b.tree[0]?.path === '.bridge/state.json').reply(201, { sha: 'nt3' })
    .post(`${R}/git/commits`, { message: 'resume', tree: 'nt3', parents: ['nc2'] }).reply(201, { sha: 'nc3' })
    .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'nc3', force: false }).reply(200, { object: { sha: 'nc3' } });
  const resumed = await ledger.commit('resume', (s) => ({ state: { ...s.state, halted: false } }));
  expect(resumed).toMatchObject({ commitSha: 'nc3', attempts: 1 });
});

test('a tree answer that echoes the commit sha falls back to reading the commit', async () => {
  const gh = new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
  nock(API)
    .get(`${R}/git/trees/c9`).query({ recursive: '1' }).reply(200, { sha: 'c9', truncated: false, tree: [{ path: 'a', type: 'blob', sha: 'b1' }] })
    .get(`${R}/git/commits/c9`).reply(200, { sha: 'c9', tree: { sha: 't9' } });
  await expect(gh.readCommitTree({ owner: 'acme', repo: 'shop' }, 'c9')).resolves.toEqual({ tree: 't9', entries: [{ path: 'a', sha: 'b1' }] });
  // Cached by sha from now on: commits and trees never change.
  await expect(gh.readCommitTree({ owner: 'acme', repo: 'shop' }, 'c9')).resolves.toEqual({ tree: 't9', entries: [{ path: 'a', sha: 'b1' }] });
});

test('first commit on a missing branch: orphan commit and POST refs', async () => {
  const gh = new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
  const ledger = createGitLedger(gh, { owner: 'acme', repo: 'shop' });
  const paths: string[] = [];
  nock(API)
    .get(`${R}/git/ref/heads/bridge-ledger`).reply(404, { message: 'Not Found' })
    .post(`${R}/git/trees`, (b: TreeBody) => { paths.push(...b.tree.map((e) => e.path)); return b.base_tree === undefined && b.tree.every((e) => typeof e.content === 'string'); }).reply(201, { sha: 't0' })
    .post(`${R}/git/commits`, { message: 'init', tree: 't0', parents: [] }).reply(201, { sha: 'c0' })
    .post(`${R}/git/refs`, { ref: 'refs/heads/bridge-ledger', sha: 'c0' }).reply(201, { ref: 'refs/heads/bridge-ledger' });
  const res = await ledger.commit('init', () => ({}));
  expect(res.commitSha).toBe('c0');
  expect(paths.sort()).toEqual(['.bridge/state.json', '.bridge/sync-state.json', 'README.md']);
});
