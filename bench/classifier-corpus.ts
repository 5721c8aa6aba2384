/**
 * Evaluates the classifier on a real-log corpus: the development corpus in test/fixtures/failure-logs (the rules
 * were written looking at it) and the held-out set in test/fixtures/failure-logs-heldout (labelled before the
 * classifier was run on it). Used by the corpus tests and by bench/classifier-corpus-report.ts, which writes the
 * tables into docs/classifier.md.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyText } from '../src/core/classify/index.js';
import { INCIDENT_KINDS, type IncidentKind, type IncidentTarget } from '../src/core/schemas/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
export const CORPUS_DIR = join(FIXTURES, 'failure-logs');
export const HELDOUT_DIR = join(FIXTURES, 'failure-logs-heldout');
/** Below this confidence a top incident counts as "unknown" (the classifier abstains). */
export const CONFIDENT = 0.5;
/** Kinds whose incidents lead the pipeline to write (create/overwrite a secret, sync a variable). */
export const WRITE_KINDS: readonly IncidentKind[] = ['secret.missing', 'variable.missing'];

export interface CorpusCase { file: string; kind: IncidentKind; target: IncidentTarget | null; source_url: string; note: string }
export interface CaseResult { case: CorpusCase; predicted: IncidentKind; target: IncidentTarget | null; confidence: number; kindOk: boolean; targetOk: boolean; dangerous: boolean; dangerousAnyRank: boolean }
export interface KindRow { kind: IncidentKind; cases: number; predicted: number; tp: number; precision: number; recall: number }

export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as CorpusCase[];
}

export function evaluate(cases = loadCorpus(), dir = CORPUS_DIR): { results: CaseResult[]; rows: KindRow[] } {
  const results = cases.map((c): CaseResult => {
    const log = readFileSync(join(dir, c.file), 'utf8');
    const incidents = classifyText(log, { repo: { owner: 'corpus', repo: 'cases' }, job_name: 'deploy' });
    const top = incidents[0];
    const predicted: IncidentKind = top && top.confidence >= CONFIDENT ? top.kind : 'unknown';
    const target = top && predicted !== 'unknown' ? top.target : null;
    const kindOk = predicted === c.kind;
    const targetOk = kindOk && (c.kind === 'unknown' || JSON.stringify(target) === JSON.stringify(c.target));
    // A write-leading prediction on a case that is not that kind: the pipeline would create or change a value.
    const dangerous = WRITE_KINDS.includes(predicted) && predicted !== c.kind;
    // Stricter: any actionable (>= CONFIDENT) write-leading incident anywhere in the list.
    const dangerousAnyRank = incidents.some((i) => i.confidence >= CONFIDENT && WRITE_KINDS.includes(i.kind) && i.kind !== c.kind);
    return { case: c, predicted, target, confidence: top?.confidence ?? 0, kindOk, targetOk, dangerous, dangerousAnyRank };
  });
  const rows = INCIDENT_KINDS.map((kind): KindRow => {
    const cases = results.filter((r) => r.case.kind === kind).length;
    const predicted = results.filter((r) => r.predicted === kind).length;
    const tp = results.filter((r) => r.predicted === kind && r.case.kind === kind).length;
    return { kind, cases, predicted, tp, precision: predicted ? tp / predicted : 1, recall: cases ? tp / cases : 1 };
  });
  return { results, rows };
}

export function markdownTable(rows: KindRow[], results: CaseResult[], title = 'Corpus', manifest = 'test/fixtures/failure-logs/manifest.json'): string {
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const lines = [
    `${title}: ${results.length} real log excerpts (see \`${manifest}\` for sources). ` +
      `A case counts as predicted kind K when the top incident is K with confidence >= ${CONFIDENT}; otherwise as \`unknown\`.`,
    '',
    '| kind | cases | predicted | correct | precision | recall |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| \`${r.kind}\` | ${r.cases} | ${r.predicted} | ${r.tp} | ${r.predicted ? pct(r.precision) : '–'} | ${r.cases ? pct(r.recall) : '–'} |`),
  ];
  const kindOk = results.filter((r) => r.kindOk).length;
  const targetOk = results.filter((r) => r.targetOk).length;
  const dangerous = results.filter((r) => r.dangerous);
  lines.push(
    '',
    `Overall: kind correct ${kindOk}/${results.length}, kind and target correct ${targetOk}/${results.length}; ` +
      `dangerous errors (top incident ${WRITE_KINDS.join('/')} for another kind): ${dangerous.length}` +
      ` (at any rank with confidence >= ${CONFIDENT}: ${results.filter((r) => r.dangerousAnyRank).length}).`,
  );
  const misses = results.filter((r) => !r.targetOk);
  if (misses.length) {
    lines.push('', 'Misses:', ...misses.map((r) => `- \`${r.case.file}\`: expected ${r.case.kind} ${JSON.stringify(r.case.target)}, got ${r.predicted} ${JSON.stringify(r.target)} (${r.confidence})${r.dangerous ? ' **DANGEROUS**' : ''}`));
  }
  return lines.join('\n');
}
