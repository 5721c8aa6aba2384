/**
 * Scores the classifier on the labelled corpus (bench/failure-corpus.ts): per-kind precision/recall, the confusion
 * matrix, the combined "missing secret/variable" figures and the dangerous count, for one split at a time.
 * Used by test/unit/classify-corpus.test.ts and by bench/classifier-corpus-report.ts (which writes docs/classifier.md).
 */
import { classifyText } from '../src/core/classify/index.js';
import { INCIDENT_KINDS, type IncidentKind } from '../src/core/schemas/index.js';
import { loadLabelledCorpus, type LabelledCase, type Split } from './failure-corpus.js';

/** Below this confidence a top incident counts as "unknown" (the classifier abstains). */
export const CONFIDENT = 0.5;
/** Kinds whose incidents lead the pipeline to write (create/overwrite a secret, sync a variable). */
export const WRITE_KINDS: readonly IncidentKind[] = ['secret.missing', 'variable.missing'];
const isWrite = (k: IncidentKind): boolean => WRITE_KINDS.includes(k);

export interface CaseResult {
  case: LabelledCase;
  predicted: IncidentKind;
  confidence: number;
  kindOk: boolean;
  /** A write-leading top answer for a case of another kind. */
  dangerous: boolean;
  /** Any actionable (>= CONFIDENT) write-leading incident, at any rank, for a case of another kind. */
  dangerousAnyRank: boolean;
  /** A credential.invalid case with any secret/variable.missing incident at all (any rank, any confidence). */
  credentialAsMissing: boolean;
}
export interface KindRow { kind: IncidentKind; cases: number; predicted: number; tp: number; precision: number; recall: number }
export interface Scores {
  n: number;
  correct: number;
  accuracy: number;
  unknownAnswers: number;
  rows: KindRow[];
  /** confusion[actual][predicted] */
  confusion: Record<string, Record<string, number>>;
  /** Missing secret OR variable, as one class: predicted write-kind vs labelled write-kind. */
  missing: { cases: number; predicted: number; tp: number; precision: number; recall: number };
  dangerous: number;
  dangerousAnyRank: number;
  credentialAsMissing: number;
}

export function classifyCase(c: LabelledCase): CaseResult {
  const incidents = classifyText(c.log, { repo: { owner: 'corpus', repo: 'cases' }, job_name: 'deploy' });
  const top = incidents[0];
  const predicted: IncidentKind = top && top.confidence >= CONFIDENT ? top.kind : 'unknown';
  return {
    case: c,
    predicted,
    confidence: top?.confidence ?? 0,
    kindOk: predicted === c.kind,
    dangerous: isWrite(predicted) && predicted !== c.kind,
    dangerousAnyRank: incidents.some((i) => i.confidence >= CONFIDENT && isWrite(i.kind) && i.kind !== c.kind),
    credentialAsMissing: c.kind === 'credential.invalid' && incidents.some((i) => isWrite(i.kind)),
  };
}

export function score(results: CaseResult[]): Scores {
  const confusion: Record<string, Record<string, number>> = {};
  for (const a of INCIDENT_KINDS) confusion[a] = Object.fromEntries(INCIDENT_KINDS.map((p) => [p, 0]));
  for (const r of results) confusion[r.case.kind]![r.predicted]!++;
  const rows = INCIDENT_KINDS.map((kind): KindRow => {
    const cases = results.filter((r) => r.case.kind === kind).length;
    const predicted = results.filter((r) => r.predicted === kind).length;
    const tp = results.filter((r) => r.predicted === kind && r.case.kind === kind).length;
    return { kind, cases, predicted, tp, precision: predicted ? tp / predicted : 1, recall: cases ? tp / cases : 1 };
  });
  const mCases = results.filter((r) => isWrite(r.case.kind)).length;
  const mPred = results.filter((r) => isWrite(r.predicted)).length;
  const mTp = results.filter((r) => isWrite(r.predicted) && isWrite(r.case.kind)).length;
  const correct = results.filter((r) => r.kindOk).length;
  return {
    n: results.length,
    correct,
    accuracy: results.length ? correct / results.length : 1,
    unknownAnswers: results.filter((r) => r.predicted === 'unknown').length,
    rows,
    confusion,
    missing: { cases: mCases, predicted: mPred, tp: mTp, precision: mPred ? mTp / mPred : 1, recall: mCases ? mTp / mCases : 1 },
    dangerous: results.filter((r) => r.dangerous).length,
    dangerousAnyRank: results.filter((r) => r.dangerousAnyRank).length,
    credentialAsMissing: results.filter((r) => r.credentialAsMissing).length,
  };
}

export function evaluateSplit(split: Split, cases = loadLabelledCorpus()): { results: CaseResult[]; scores: Scores } {
  const results = cases.filter((c) => c.split === split).map(classifyCase);
  return { results, scores: score(results) };
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
const SHORT: Record<IncidentKind, string> = {
  'secret.missing': 'sec', 'variable.missing': 'var', 'credential.invalid': 'cred', 'config.invalid': 'cfg',
  'transient.network': 'net', 'timeout.cancelled': 'time', 'resource.exhausted': 'res', 'dependency.resolution': 'dep',
  'code.failure': 'code', unknown: 'unk',
};

export function markdownScores(title: string, s: Scores): string {
  const lines = [
    `**${title}**: ${s.n} cases; top-1 kind correct ${s.correct}/${s.n} (${pct(s.accuracy)}); ` +
      `answered \`unknown\` ${s.unknownAnswers}; missing secret/variable (as one class) precision ${pct(s.missing.precision)} ` +
      `(${s.missing.tp}/${s.missing.predicted}), recall ${pct(s.missing.recall)} (${s.missing.tp}/${s.missing.cases}); ` +
      `dangerous answers ${s.dangerous} (any rank: ${s.dangerousAnyRank}); credential.invalid given a missing incident: ${s.credentialAsMissing}.`,
    '',
    '| kind | cases | predicted | correct | precision | recall |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...s.rows.map((r) => `| \`${r.kind}\` | ${r.cases} | ${r.predicted} | ${r.tp} | ${r.predicted ? pct(r.precision) : '–'} | ${r.cases ? pct(r.recall) : '–'} |`),
    '',
    `Confusion matrix (rows: labelled kind, columns: answer; ${INCIDENT_KINDS.map((k) => `${SHORT[k]} = \`${k}\``).join(', ')}):`,
    '',
    `| labelled \\ answer | ${INCIDENT_KINDS.map((k) => SHORT[k]).join(' | ')} |`,
    `| --- | ${INCIDENT_KINDS.map(() => '---:').join(' | ')} |`,
    ...INCIDENT_KINDS.map((a) => `| ${SHORT[a]} | ${INCIDENT_KINDS.map((p) => String(s.confusion[a]![p])).join(' | ')} |`),
  ];
  return lines.join('\n');
}
