import { LedgerCorruptError } from '../../src/ledger/errors.js';
import { SnapshotReader, emptySnapshot } from '../../src/ledger/snapshot.js';
import { MemoryGit } from '../support/memory-git.js';

const repo = { owner: 'acme', repo: 'shop' };

async function branchWith(git: MemoryGit, files: Record<string, string>): Promise<string> {
  const tree = await git.createTree(repo, null, Object.entries(files).map(([path, content]) => ({ path, mode: '100644' as const, type: 'blob' as const, sha: null, content })));
  const commit = await git.createCommit(repo, 'x', tree, []);
  await git.createBranch(repo, 'bridge-ledger', commit);
  return commit;
}

describe('ledger snapshot reader', () => {
  test('no head: the empty snapshot, without a request', async () => {
    const git = new MemoryGit();
    const loaded = await new SnapshotReader(git, repo, 'bridge-ledger').loadAt(null, undefined);
    expect(loaded.snapshot).toEqual(emptySnapshot());
    expect(git.calls).toEqual({});
  });

  test('reads state files and keys, counts certificates, and reuses texts it already knows by blob id', async () => {
    const git = new MemoryGit();
    const head = await branchWith(git, {
      '.bridge/grants/revoked.json': '["g1"]',
      '.bridge/keys/abc.pub': 'AAAA\n',
      '.bridge/certificates/000001-aaaaaaaaaaaa.json': '{}',
      '.bridge/checkpoint.json': 'not json',
    });
    const reader = new SnapshotReader(git, repo, 'bridge-ledger');
    const first = await reader.loadAt(head, undefined);
    expect(first.snapshot).toMatchObject({ head, revokedGrantIds: ['g1'], publicKeys: { abc: 'AAAA' }, certificateCount: 1, checkpoint: null });
    const reads = git.calls.readBlob;
    const again = await reader.loadAt(head, first);
    expect(again.snapshot).toEqual(first.snapshot);
    expect(git.calls.readBlob).toBe(reads);
  });

  test('a file that does not parse is a LedgerCorruptError naming it', async () => {
    const git = new MemoryGit();
    const head = await branchWith(git, { '.bridge/grants/uses.json': '{"g1": -1}' });
    const err = await new SnapshotReader(git, repo, 'bridge-ledger').loadAt(head, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerCorruptError);
    expect(err).toMatchObject({ path: '.bridge/grants/uses.json', branch: 'bridge-ledger' });
  });
});
