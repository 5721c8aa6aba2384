/** The embedded journal's one-pass byte scan at start (src/intake/journal-scan.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { scanJournal, type DoneLine, type JournalLine } from '../../src/intake/journal-scan.js';
import { healJob } from '../support/heal-jobs.js';

const NOW = 1_000_000_000_000;
const HORIZON = NOW - 7 * 86_400_000;
const OLD = HORIZON - 1000;
const RECENT = HORIZON + 1000;

let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'journal-scan-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function scan(lines: string[], keepDone = 10) {
  const file = path.join(dir, 'intake.jsonl');
  writeFileSync(file, lines.join('\n'));
  const got: { entry: JournalLine; doneAt: number | undefined }[] = [];
  const unreadable: number[] = [];
  const done: DoneLine[] = [];
  const lineCount = scanJournal(file, { horizon: HORIZON, now: () => NOW, keepDone, onDone: (d) => done.push(d), onUnreadable: (l) => unreadable.push(l) }, (entry, doneAt) => got.push({ entry, doneAt }));
  return { got, unreadable, done, lineCount };
}

const submitted = (id: string, at: number, extra: Record<string, unknown> = {}) => JSON.stringify({ t: 'submitted', id, at, job: { ...healJob({ delivery: id, run: Number(id.replace(/\D/g, '') || 1) }), id, ...extra } });
const done = (id: string, at: number) => JSON.stringify({ t: 'done', id, ok: true, at, repo: 'acme/web' });

describe('scanJournal', () => {
  test('finished jobs older than the window are dropped without being parsed; unfinished and recent ones are handed on in journal order', () => {
    // The old job's body is not even JSON after its head: it is never decoded whole.
    const oldGarbage = `{"t":"submitted","id":"old-1","at":${OLD},"job":{this is not json`;
    const { got, unreadable, lineCount } = scan([
      oldGarbage, done('old-1', OLD),
      submitted('recent-2', RECENT), done('recent-2', RECENT + 5),
      JSON.stringify({ t: 'seen', d: 'd-9', k: 'acme/web#9@1', at: RECENT }),
      submitted('live-3', RECENT),
      JSON.stringify({ t: 'retry', id: 'live-3', tries: 1, error: 'x', at: RECENT }),
    ]);
    expect(unreadable).toEqual([]);
    expect(lineCount).toBe(7);
    expect(got.map((g) => [g.entry.t, (g.entry as { id?: string }).id ?? (g.entry as { d?: string }).d, g.doneAt])).toEqual([
      ['submitted', 'recent-2', RECENT + 5],
      ['seen', 'd-9', undefined],
      ['submitted', 'live-3', undefined],
      ['retry', 'live-3', undefined],
    ]);
  });

  test('an unfinished job submitted before the window is dropped too (as before); a recent garbage body is reported unreadable', () => {
    const { got, unreadable } = scan([
      submitted('stale-1', OLD),
      `{"t":"submitted","id":"bad-2","at":${RECENT},"job":{oops`,
    ]);
    expect(got).toEqual([]);
    expect(unreadable).toEqual([1]);
  });

  test('lines across the 1 MiB read chunks and a line longer than a chunk are read whole', () => {
    const big = 'x'.repeat(1.5 * 1024 * 1024);
    const lines = [submitted('a-1', RECENT, { note: 'y'.repeat(1024 * 1024 - 300) }), submitted('b-2', RECENT, { note: big }), submitted('c-3', RECENT)];
    const { got, unreadable } = scan(lines);
    expect(unreadable).toEqual([]);
    expect(got.map((g) => (g.entry as { id: string }).id)).toEqual(['a-1', 'b-2', 'c-3']);
    expect((got[1]!.entry as unknown as { job: { note: string } }).job.note).toHaveLength(big.length);
  });

  test('ids with escapes, the older line shape without an id up front, a done line before its submitted line, a torn last line', () => {
    const { got, unreadable } = scan([
      submitted('q"uote-1', RECENT), done('q"uote-1', OLD),
      JSON.stringify({ t: 'submitted', job: { ...healJob({ delivery: 'legacy-2', run: 2 }), id: 'legacy-2' } }),
      done('early-3', OLD), submitted('early-3', RECENT),
      '{"t":"submitted","id":"torn-4","at":',
    ]);
    expect(got.map((g) => (g.entry as { job: { id: string } }).job.id)).toEqual(['legacy-2']);
    expect(unreadable).toEqual([5]);
  });

  test('the last keepDone done lines are handed to onDone, in order', () => {
    const lines: string[] = [];
    for (let i = 1; i <= 25; i++) lines.push(submitted(`j-${i}`, OLD), done(`j-${i}`, OLD));
    const { done: seen, got } = scan(lines, 10);
    expect(got).toEqual([]);
    expect(seen.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => `j-${16 + i}`));
  });
});
