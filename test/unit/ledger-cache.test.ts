import { LedgerCache, copyLoaded, liveTexts, type LoadedLedger } from '../../src/ledger/cache.js';
import { emptySnapshot } from '../../src/ledger/snapshot.js';
import type { GitDataPort } from '../../src/ports/index.js';

const repo = { owner: 'Acme', repo: 'Shop' };
const port = (cacheScope?: string): GitDataPort => ({ cacheScope }) as unknown as GitDataPort;
const loaded = (head: string, texts: [string, string][] = []): LoadedLedger => ({
  snapshot: { ...emptySnapshot(), head },
  tree: `tree-${head}`,
  blobs: new Map(texts.map(([sha], i) => [`.bridge/f${i}.json`, sha])),
  texts: new Map(texts),
});

describe('ledger snapshot cache', () => {
  test('keys by the port scope, repository and branch, case-insensitively; scope-less ports get one key each', () => {
    const cache = new LedgerCache();
    expect(cache.key(port('https://api.github.com'), repo, 'bridge-ledger')).toBe('https://api.github.com|acme/shop|bridge-ledger');
    expect(cache.key(port('https://api.github.com'), { owner: 'acme', repo: 'shop' }, 'Bridge-Ledger')).toBe(cache.key(port('https://api.github.com'), repo, 'bridge-ledger'));
    const a = port();
    const b = port();
    expect(cache.key(a, repo, 'x')).toBe(cache.key(a, repo, 'x'));
    expect(cache.key(a, repo, 'x')).not.toBe(cache.key(b, repo, 'x'));
  });

  test('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new LedgerCache(2);
    cache.set('a', loaded('1'));
    cache.set('b', loaded('2'));
    expect(cache.get('a')?.snapshot.head).toBe('1'); // a is now the most recent
    cache.set('c', loaded('3'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.snapshot.head).toBe('1');
    expect(cache.get('c')?.snapshot.head).toBe('3');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  test('copies handed out can be changed without changing the cache', () => {
    const cache = new LedgerCache();
    cache.set('k', loaded('1', [['s1', '{"a":1}']]));
    const copy = copyLoaded(cache.get('k')!);
    copy.snapshot.state.halted = true;
    copy.blobs.set('.bridge/new.json', 's2');
    expect(cache.get('k')!.snapshot.state.halted).toBe(false);
    expect(cache.get('k')!.blobs.has('.bridge/new.json')).toBe(false);
  });

  test('export and import round-trip an entry as plain JSON, leaving out large texts', () => {
    const cache = new LedgerCache();
    cache.set('k', loaded('1', [['small', 'x'], ['big', 'y'.repeat(100)]]));
    const exported = cache.exportEntry('k', 50)!;
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    expect(exported.texts).toEqual([['small', 'x']]);
    expect(cache.exportEntry('missing')).toBeNull();
    const other = new LedgerCache();
    other.importEntry('k', exported);
    expect(other.get('k')?.snapshot.head).toBe('1');
    expect(other.get('k')?.blobs.get('.bridge/f1.json')).toBe('big');
    other.importEntry('bad', { nonsense: true } as never);
    expect(other.get('bad')).toBeUndefined();
  });

  test('liveTexts keeps only texts whose blob is still in the tree and that are not huge', () => {
    const blobs = new Map([['.bridge/a', 's1'], ['.bridge/b', 's3']]);
    const texts = liveTexts(blobs, [['s1', 'one'], ['s2', 'gone'], ['s3', 'z'.repeat(256 * 1024 + 1)]]);
    expect([...texts.keys()]).toEqual(['s1']);
  });
});
