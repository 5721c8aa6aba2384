/**
 * The labelled corpus of real CI failure excerpts, split by SOURCE REPOSITORY into train / dev / test.
 *
 * Sources:
 *  - test/fixtures/failure-corpus/gathered/*.md: excerpts gathered with the `search` tool from public issue and pull
 *    request threads. Each record is `### <thread URL>`, `label: <kind>`, `reason: <one line>` and the log excerpt
 *    in a fenced block, copied as it appeared in the thread (nothing invented; an excerpt may be cut short).
 *  - test/fixtures/failure-logs and failure-logs-heldout (the older fixtures, with manifest.json).
 *
 * Split rule (deterministic): a repository whose logs the rules were written from (every repository of the old
 * fixtures, and every repository listed in moved-to-train.json, each with its `why`: new excerpts gathered to write
 * rules from, and dev/test threads that were studied or seen while writing a rule) is in train. Any other repository goes by the first
 * byte of sha256(owner/name, lower-cased): 0-101 train, 102-178 dev, 179-255 test (many gathered threads
 * come from repositories of the old fixtures and land in train, so new repositories are split 40/30/30). So a thread, and a repository,
 * never straddles splits.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INCIDENT_KINDS, type IncidentKind, type IncidentTarget } from '../src/core/schemas/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
export const CORPUS_ROOT = join(FIXTURES, 'failure-corpus');
const GATHERED_DIR = join(CORPUS_ROOT, 'gathered');
const OLD_DIRS = ['failure-logs', 'failure-logs-heldout'];

export type Split = 'train' | 'dev' | 'test';
export interface LabelledCase {
  /** Stable id: `<source file>#<n>`. */
  id: string;
  url: string;
  /** owner/name, lower-cased. */
  repo: string;
  kind: IncidentKind;
  /** Expected target, when the old fixtures recorded one (gathered cases leave it undefined: kind only). */
  target?: IncidentTarget | null;
  reason: string;
  log: string;
  origin: 'gathered' | 'fixture';
  split: Split;
}

export function repoOf(url: string): string {
  const m = /^https:\/\/github\.com\/([^/]+)\/([^/#?]+)/.exec(url);
  if (!m) throw new Error(`not a GitHub thread URL: ${url}`);
  return `${m[1]}/${m[2]}`.toLowerCase();
}

function hashSplit(repo: string): Split {
  const b = createHash('sha256').update(repo).digest()[0]!;
  return b <= 101 ? 'train' : b <= 178 ? 'dev' : 'test';
}

/** Parse one gathered markdown file into records (without split). */
export function parseGathered(text: string, file: string): Omit<LabelledCase, 'split'>[] {
  const out: Omit<LabelledCase, 'split'>[] = [];
  const parts = text.split(/^### /m).slice(1);
  parts.forEach((part, i) => {
    const url = part.slice(0, part.indexOf('\n')).trim();
    const label = /^label: (\S+)$/m.exec(part)?.[1];
    const reason = /^reason: (.+)$/m.exec(part)?.[1]?.trim() ?? '';
    const fence = /^```\n([\s\S]*?)\n```$/m.exec(part);
    if (!label || !(INCIDENT_KINDS as readonly string[]).includes(label)) throw new Error(`${file} #${i + 1}: bad label ${label}`);
    if (!fence) throw new Error(`${file} #${i + 1}: no log block`);
    if (!reason) throw new Error(`${file} #${i + 1}: no reason`);
    out.push({ id: `${file}#${i + 1}`, url, repo: repoOf(url), kind: label as IncidentKind, reason, log: fence[1]!, origin: 'gathered' });
  });
  return out;
}

interface OldManifestEntry { file: string; kind: IncidentKind; target: IncidentTarget | null; source_url: string; note: string }

/** Every case, with its split. */
export function loadLabelledCorpus(): LabelledCase[] {
  const old: Omit<LabelledCase, 'split'>[] = [];
  for (const d of OLD_DIRS) {
    const manifest = JSON.parse(readFileSync(join(FIXTURES, d, 'manifest.json'), 'utf8')) as OldManifestEntry[];
    for (const e of manifest) {
      old.push({
        id: `${d}/${e.file}`, url: e.source_url, repo: repoOf(e.source_url), kind: e.kind, target: e.target,
        reason: e.note, log: readFileSync(join(FIXTURES, d, e.file), 'utf8'), origin: 'fixture',
      });
    }
  }
  // A thread already in the old fixtures is counted once (the fixture copy wins; it often has more context).
  const oldUrls = new Set(old.map((c) => c.url));
  const gathered = readdirSync(GATHERED_DIR).filter((f) => f.endsWith('.md')).sort()
    .flatMap((f) => parseGathered(readFileSync(join(GATHERED_DIR, f), 'utf8'), f))
    .filter((c) => !oldUrls.has(c.url));
  const moved = new Set((JSON.parse(readFileSync(join(CORPUS_ROOT, 'moved-to-train.json'), 'utf8')) as { repo: string }[]).map((m) => m.repo.toLowerCase()));
  const seen = new Set(old.map((c) => c.repo));
  return [...old, ...gathered].map((c) => ({ ...c, split: seen.has(c.repo) || moved.has(c.repo) ? 'train' : hashSplit(c.repo) }));
}
