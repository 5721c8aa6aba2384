/**
 * Evaluates the classifier on the real-log corpus in test/fixtures/failure-logs (used by the corpus test
 * and by bench/classifier-corpus-report.ts, which writes the table into docs/classifier.md).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyText } from '../src/core/classify/index.js';
import { INCIDENT_KINDS, type IncidentKind, type IncidentTarget } from '../src/core/schemas/index.js';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'failure-logs');
/** Below this confidence a top incident counts as "unknown" (the classifier abstains). */
export const CONFIDENT = 0.5;

export interface CorpusCase { file: string; kind: IncidentKind; target: IncidentTarget | null; source_url: string; note: string }
export interface CaseResult { case: CorpusCase; predicted: IncidentKind; target: IncidentTarget | null; confidence: number; kindOk: boolean; targetOk: boolean }
export interface KindRow { kind: IncidentKind; cases: number; predicted: number; tp: number; precision: number; recall: number }

export function loadCorpus(): CorpusCase[] {
  return JSON.parse(readFileSync(join(CORPUS_DIR, 'manifest.json'), 'utf8')) as CorpusCase[];
}

export function evaluate(cases = loadCorpus()): { results: CaseResult[]; rows: KindRow[] } {
  const results = cases.map((c): CaseResult => {
    const log = readFileSync(join(CORPUS_DIR, c.file), 'utf8');
    const top = classifyText(log, { repo: { owner: 'corpus', repo: 'cases' }, job_name: 'deploy' })[0];
    const predicted: IncidentKind = top && top.confidence >= CONFIDENT ? top.kind : 'unknown';
    const target = top && predicted !== 'unknown' ? top.target : null;
    const kindOk = predicted === c.kind;
    const targetOk = kindOk && (c.kind === 'unknown' || JSON.stringify(target) === JSON.stringify(c.target));
    return { case: c, predicted, target, confidence: top?.confidence ?? 0, kindOk, targetOk };
  });
  const rows = INCIDENT_KINDS.map((kind): KindRow => {
    const cases = results.filter((r) => r.case.kind === kind).length;
    const predicted = results.filter((r) => r.predicted === kind).length;
    const tp = results.filter((r) => r.predicted === kind && r.case.kind === kind).length;
    return { kind, cases, predicted, tp, precision: predicted ? tp / predicted : 1, recall: cases ? tp / cases : 1 };
  });
  return { results, rows };
}

export function markdownTable(rows: KindRow[], results: CaseResult[]): string {
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const lines = [
    `Corpus: ${results.length} real log excerpts (see \`test/fixtures/failure-logs/manifest.json\` for sources). ` +
      `A case counts as predicted kind K when the top incident is K with confidence >= ${CONFIDENT}; otherwise as \`unknown\`.`,
    '',
    '| kind | cases | predicted | correct | precision | recall |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| \`${r.kind}\` | ${r.cases} | ${r.predicted} | ${r.tp} | ${pct(r.precision)} | ${pct(r.recall)} |`),
  ];
  const kindOk = results.filter((r) => r.kindOk).length;
  const targetOk = results.filter((r) => r.targetOk).length;
  lines.push('', `Overall: kind correct ${kindOk}/${results.length}, kind and target correct ${targetOk}/${results.length}.`);
  const misses = results.filter((r) => !r.targetOk);
  if (misses.length) {
    lines.push('', 'Misses:', ...misses.map((r) => `- \`${r.case.file}\`: expected ${r.case.kind} ${JSON.stringify(r.case.target)}, got ${r.predicted} ${JSON.stringify(r.target)} (${r.confidence})`));
  }
  return lines.join('\n');
}
