/** The ledger over the real GitHub adapter: the exact git data API calls, and a lost race retried. */
import nock from 'nock';
import { emptyGovernorState, SyncState } from '../../src/core/schemas/index.js';
import { createOctokit, GitHubAdapter } from '../../src/github/index.js';
import { createGitLedger } from '../../src/ledger/index.js';

const API = 'https://api.github.com';
const R = '/repos/acme/shop';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/(localhost|127\.0\.0\.1)/);
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

function readBranch(scope: nock.Scope, commit: string, tree: string, halted: boolean) {
  return scope
    .get(`${R}/git/ref/heads/bridge-ledger`).reply(200, { object: { sha: commit } })
    .get(`${R}/git/commits/${commit}`).reply(200, { sha: commit, tree: { sha: tree } })
    .get(`${R}/git/trees/${tree}`).query({ recursive: '1' })
    .reply(200, { truncated: false, tree: [
      { path: '.bridge', type: 'tree', sha: 'd' },
      { path: '.bridge/state.json', type: 'blob', sha: `${tree}-state` },
      { path: '.bridge/sync-state.json', type: 'blob', sha: `${tree}-sync` },
      { path: '.bridge/certificates/000001-aaaaaaaaaaaa.json', type: 'blob', sha: `${tree}-cert` },
    ] })
    .get(`${R}/git/blobs/${tree}-state`).reply(200, { encoding: 'base64', content: b64({ ...emptyGovernorState(), halted, last_certificate_hash: 'a'.repeat(64) }) })
    .get(`${R}/git/blobs/${tree}-sync`).reply(200, { encoding: 'base64', content: b64(SyncState.parse({})) });
}

test('commit: blobs -> tree on base_tree -> commit -> PATCH ref (force false); a 422 non-fast-forward re-reads and retries', async () => {
  const gh = new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
  const ledger = createGitLedger(gh, { owner: 'acme', repo: 'shop' }, 'bridge-ledger', { delay: async () => undefined });
  const scope = nock(API);
  readBranch(scope, 'c1', 't1', false)
    .post(`${R}/git/blobs`, (b: { content: string; encoding: string }) => b.encoding === 'utf-8' && JSON.parse(b.content).halted === true).reply(201, { sha: 'nb1' })
    .post(`${R}/git/trees`, { base_tree: 't1', tree: [{ path: '.bridge/state.json', mode: '100644', type: 'blob', sha: 'nb1' }] }).reply(201, { sha: 'nt1' })
    .post(`${R}/git/commits`, { message: 'halt', tree: 'nt1', parents: ['c1'] }).reply(201, { sha: 'nc1' })
    .patch(`${R}/git/refs/heads/bridge-ledger`, { sha: 'nc1', force: false }).reply(422, { message: 'Update is not a fast forward' });
  // Someone else committed c2 meanwhile: read again, mutate again, land on top of it.
  readBranch(scope, 'c2', 't2', false)
    .post(`${R}/git/blobs`).reply(201, { sha: 'nb2' })
    .post(`${R}/git/trees`, { base_tree: 't2', tree: [{ path: '.bridge/state.json', mode: '100644', type: 'blob', sha: 'nb2' }] }).reply(201, { sha: 'nt2' })
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
});

test('first commit on a missing branch: orphan commit and POST refs', async () => {
  const gh = new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));
  const ledger = createGitLedger(gh, { owner: 'acme', repo: 'shop' });
  const paths: string[] = [];
  nock(API)
    .get(`${R}/git/ref/heads/bridge-ledger`).reply(404, { message: 'Not Found' })
    .post(`${R}/git/blobs`).times(3).reply(201, (_uri, body) => ({ sha: `b${(body as { content: string }).content.length}` }))
    .post(`${R}/git/trees`, (b: { base_tree?: string; tree: { path: string }[] }) => { paths.push(...b.tree.map((e) => e.path)); return b.base_tree === undefined; }).reply(201, { sha: 't0' })
    .post(`${R}/git/commits`, { message: 'init', tree: 't0', parents: [] }).reply(201, { sha: 'c0' })
    .post(`${R}/git/refs`, { ref: 'refs/heads/bridge-ledger', sha: 'c0' }).reply(201, { ref: 'refs/heads/bridge-ledger' });
  const res = await ledger.commit('init', () => ({}));
  expect(res.commitSha).toBe('c0');
  expect(paths.sort()).toEqual(['.bridge/state.json', '.bridge/sync-state.json', 'README.md']);
});
