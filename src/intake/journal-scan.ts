/**
 * Reading the embedded intake's journal at start, in one pass over its bytes.
 *
 * A long-running App's journal (before its first compaction) is mostly history: a `submitted` line
 * (the job, with the webhook's run: most of the bytes) and a `done` line per finished job. A restart
 * needs only the jobs that are not finished, the finished ones still inside the de-duplication window,
 * and the few other lines. So the file is scanned as bytes: a line's type is told by its first bytes,
 * a `submitted` or `done` line's id and time are read from its first few hundred bytes, and a
 * submitted line is parsed only when it turns out to be needed (read again by its offset). Finished
 * jobs older than the window are never decoded whole, and memory does not grow with the file: a
 * finished job's entry is dropped as soon as its `done` line (which follows it) is seen.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { HealJob } from '../core/schemas/index.js';
import type { IntentRecord } from './types.js';

/**
 * Journal lines. `submitted` carries the job; `seen` is what compaction keeps of a finished job
 * (its de-duplication keys and when it finished); `retry`/`dead`/`revive` track failing jobs;
 * `intent` records a heal step before and after it acts.
 */
export type JournalLine =
  | { t: 'submitted'; id?: string; at?: number; job: HealJob }
  | { t: 'done'; id: string; ok: boolean; at?: number; repo?: string; r?: unknown }
  | { t: 'seen'; d: string; k: string; at: number }
  | { t: 'retry'; id: string; tries: number; error: string; at: number }
  | { t: 'dead'; id: string; tries: number; error: string; at: number }
  | { t: 'revive'; id: string; at: number }
  | { t: 'intent'; key: string; rec: IntentRecord };

export type DoneLine = Extract<JournalLine, { t: 'done' }>;

const SUBMITTED_ID = Buffer.from('{"t":"submitted","id":"');
const DONE_ID = Buffer.from('{"t":"done","id":"');
const SUBMITTED = SUBMITTED_ID.subarray(0, '{"t":"submitted"'.length);
const DONE = DONE_ID.subarray(0, '{"t":"done"'.length);
const AT = Buffer.from(',"at":');
const OK_TRUE_AT = Buffer.from(',"ok":true,"at":');
const OK_FALSE_AT = Buffer.from(',"ok":false,"at":');
const CHUNK_BYTES = 1 << 20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The id and time at the head of a line the journal wrote (`{"t":"submitted","id":"…","at":123,…` or
 * `{"t":"done","id":"…","ok":true,"at":123,…`), read from the bytes without decoding the line; null
 * when the line is shaped otherwise (then it is parsed as JSON).
 */
function headOf(buf: Buffer, start: number, end: number, idPrefix: Buffer, beforeAt: Buffer[]): { id: string; at?: number } | null {
  const from = start + idPrefix.length;
  const rel = buf.subarray(from, end).indexOf(QUOTE);
  if (rel === -1) return null;
  const close = from + rel;
  // An escaped character in the id (a quote or a backslash): leave it to JSON.parse.
  if (buf.subarray(from, close).includes(BACKSLASH)) return null;
  const id = buf.toString('utf8', from, close);
  let pos = close + 1;
  const marker = beforeAt.find((m) => end - pos >= m.length && buf.compare(m, 0, m.length, pos, pos + m.length) === 0);
  if (!marker) return idPrefix === DONE_ID ? null : { id };
  pos += marker.length;
  let at = 0;
  let digits = 0;
  for (; pos < end; pos++, digits++) {
    const c = buf[pos]!;
    if (c < 0x30 || c > 0x39) break;
    at = at * 10 + (c - 0x30);
  }
  return digits > 0 && digits <= 15 ? { id, at } : null;
}

/** A short prefix compared byte by byte (cheaper than a native call per line). */
function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * Calls `fn` with each line's bytes (`buf[start..end)`, no newline) and its offset in the file, reading
 * in 1 MiB chunks into one reused buffer (grown only for a line longer than it). Returns the line count.
 */
function scanLines(fd: number, fn: (buf: Buffer, start: number, end: number, offset: number, line: number) => void): number {
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let filled = 0;
  let base = 0;
  let line = 0;
  for (;;) {
    if (filled === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    const n = readSync(fd, buf, filled, buf.length - filled, null);
    if (n === 0) break;
    const end = filled + n;
    const view = buf.subarray(0, end);
    let start = 0;
    // The carried-over part has no newline: search the new bytes only.
    let nl = view.indexOf(0x0a, filled);
    while (nl !== -1) {
      fn(buf, start, nl, base + start, line++);
      start = nl + 1;
      nl = view.indexOf(0x0a, start);
    }
    buf.copyWithin(0, start, end);
    base += start;
    filled = end - start;
  }
  if (filled > 0) fn(buf, 0, filled, base, line++);
  return line;
}

interface NeededSubmit { line: number; offset: number; length: number; at?: number; doneAt?: number; entry?: JournalLine }

export interface ScanOptions {
  /** Finished before this (ms): history the restart does not need. */
  horizon: number;
  now: () => number;
  /** The last this many `done` lines are handed to `onDone` (the intake's recent job statuses). */
  keepDone: number;
  onDone: (line: DoneLine) => void;
  onUnreadable: (line: number) => void;
}

/**
 * Hands `fn` what a restart needs, in journal order: each `submitted` line of a job that is not
 * finished (`doneAt` undefined) or finished at or after the horizon, and every other line but `done`.
 * Returns the journal's line count.
 */
export function scanJournal(path: string, opts: ScanOptions, fn: (entry: JournalLine, doneAt: number | undefined) => void): number {
  const fd = openSync(path, 'r');
  try {
    const submits = new Map<string, NeededSubmit>();
    const others: { line: number; entry: JournalLine }[] = [];
    /** `done` lines whose `submitted` line was not (yet) seen. */
    const doneBefore = new Map<string, number>();
    const lastDone: { offset: number; length: number }[] = [];
    const lineCount = scanLines(fd, (buf, start, end, offset, line) => {
      if (end === start) return;
      if (startsWith(buf, start, end, DONE)) {
        let id: string;
        let at: number;
        try {
          const head = headOf(buf, start, end, DONE_ID, [OK_TRUE_AT, OK_FALSE_AT]);
          if (head) {
            id = head.id;
            at = head.at ?? opts.now();
          } else {
            const e = JSON.parse(buf.toString('utf8', start, end)) as DoneLine;
            id = e.id;
            at = e.at ?? opts.now();
          }
        } catch {
          opts.onUnreadable(line);
          return;
        }
        const submit = submits.get(id);
        if (!submit) doneBefore.set(id, at);
        else if (at < opts.horizon) submits.delete(id);
        else submit.doneAt = at;
        lastDone.push({ offset, length: end - start });
        if (lastDone.length > 2 * opts.keepDone) lastDone.splice(0, lastDone.length - opts.keepDone);
        return;
      }
      if (startsWith(buf, start, end, SUBMITTED)) {
        let need: NeededSubmit;
        let id: string;
        try {
          const head = startsWith(buf, start, end, SUBMITTED_ID) ? headOf(buf, start, end, SUBMITTED_ID, [AT]) : null;
          if (head) {
            id = head.id;
            need = { line, offset, length: end - start, ...(head.at !== undefined ? { at: head.at } : {}) };
          } else {
            // Another line shape (an older one without the id up front, or an id with escapes): parsed now.
            const entry = JSON.parse(buf.toString('utf8', start, end)) as Extract<JournalLine, { t: 'submitted' }>;
            id = entry.id ?? entry.job.id;
            need = { line, offset, length: end - start, ...(entry.at !== undefined ? { at: entry.at } : {}), entry };
          }
        } catch {
          opts.onUnreadable(line);
          return;
        }
        const doneAt = doneBefore.get(id);
        if (doneAt !== undefined && doneAt < opts.horizon) return;
        if (doneAt !== undefined) need.doneAt = doneAt;
        submits.set(id, need);
        return;
      }
      try {
        others.push({ line, entry: JSON.parse(buf.toString('utf8', start, end)) as JournalLine });
      } catch {
        // A torn last line (crash mid-write) must not stop the app from starting.
        opts.onUnreadable(line);
      }
    });

    // One scratch buffer for the lines read again by offset.
    let scratch = Buffer.allocUnsafe(64 * 1024);
    const readLine = (offset: number, length: number): string => {
      if (length > scratch.length) scratch = Buffer.allocUnsafe(length);
      readSync(fd, scratch, 0, length, offset);
      return scratch.toString('utf8', 0, length);
    };
    for (const d of lastDone.slice(-opts.keepDone)) {
      try {
        opts.onDone(JSON.parse(readLine(d.offset, d.length)) as DoneLine);
      } catch {
        // counted as unreadable when it was scanned
      }
    }
    // Journal order: the needed submitted lines (a Map keeps insertion order) merged with the other lines.
    let o = 0;
    const flushOthers = (before: number) => {
      while (o < others.length && others[o]!.line < before) fn(others[o++]!.entry, undefined);
    };
    for (const s of submits.values()) {
      // Not finished, but submitted before the horizon: dropped, as a finished one would be (unparsed).
      if (s.doneAt === undefined && s.at !== undefined && s.at < opts.horizon) continue;
      flushOthers(s.line);
      let entry = s.entry;
      if (!entry) {
        try {
          entry = JSON.parse(readLine(s.offset, s.length)) as JournalLine;
        } catch {
          opts.onUnreadable(s.line);
          continue;
        }
      }
      fn(entry, s.doneAt);
    }
    flushOthers(Infinity);
    return lineCount;
  } finally {
    closeSync(fd);
  }
}
