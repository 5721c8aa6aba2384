import { createHash } from 'node:crypto';
import { classifyCase, evaluateSplit, score } from '../../bench/classifier-corpus.js';
import { loadLabelledCorpus, repoOf } from '../../bench/failure-corpus.js';
import { classifyText } from '../../src/core/classify/index.js';
import { Incident, INCIDENT_KINDS } from '../../src/core/schemas/index.js';

/**
 * The labelled corpus of real CI failure excerpts (bench/failure-corpus.ts). Rules are written against `train`,
 * checked on `dev`; `test` is scored once at the end of a change and reported in docs/classifier.md. The floors
 * below are the figures measured (train/dev: after the change; test: the untouched figure), so a regression fails.
 */
const cases = loadLabelledCorpus();

describe('labelled failure corpus', () => {
  it('has at least 400 real excerpts, each with its thread URL, a label, a reason and the log text', () => {
    expect(cases.length).toBeGreaterThanOrEqual(400);
    for (const c of cases) {
      expect(c.url).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/(?:issues|pull)\/\d+$/);
      expect(INCIDENT_KINDS).toContain(c.kind);
      expect(c.reason.length).toBeGreaterThan(10);
      expect(c.log.trim().length).toBeGreaterThan(10);
      expect(c.repo).toBe(repoOf(c.url));
    }
    for (const kind of INCIDENT_KINDS) expect(cases.filter((c) => c.kind === kind).length).toBeGreaterThanOrEqual(5);
  });

  it('never lets a source repository straddle splits, and the split is a pure function of the repository', () => {
    const splitOf = new Map<string, string>();
    for (const c of cases) {
      const seen = splitOf.get(c.repo);
      if (seen) expect(c.split).toBe(seen);
      splitOf.set(c.repo, c.split);
      if (c.origin === 'gathered' && c.split !== 'train') {
        const b = createHash('sha256').update(c.repo).digest()[0]!;
        expect(c.split).toBe(b <= 178 ? 'dev' : 'test');
      }
    }
    expect(cases.filter((c) => c.split === 'test').length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => c.split === 'dev').length).toBeGreaterThanOrEqual(60);
  });

  it('train: top-1 >= 0.9, no dangerous answer at any rank, missing precision 1.0', () => {
    const s = evaluateSplit('train', cases).scores;
    expect(s.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(s.dangerous).toBe(0);
    expect(s.dangerousAnyRank).toBe(0);
    expect(s.missing.precision).toBe(1);
    // 45/55 since 19-no-credential.md and two moved threads joined train (bare non-TTY / ENEEDAUTH / "no valid
    // credential sources" lines are answered below the bar or as wiring on purpose: precision over recall).
    expect(s.missing.recall).toBeGreaterThanOrEqual(0.8);
    expect(s.credentialAsMissing).toBe(0);
  });

  it('dev: top-1 >= 0.85, no dangerous answer at any rank', () => {
    const s = evaluateSplit('dev', cases).scores;
    expect(s.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(s.dangerousAnyRank).toBe(0);
    expect(s.credentialAsMissing).toBe(0);
  });

  it('test (figure scored at the end of the change as floor): top-1 >= 0.86, no dangerous answer, credential.invalid never missing', () => {
    const s = evaluateSplit('test', cases).scores;
    expect(s.accuracy).toBeGreaterThanOrEqual(0.86);
    expect(s.dangerous).toBe(0);
    expect(s.dangerousAnyRank).toBe(0);
    expect(s.credentialAsMissing).toBe(0);
  });

  it('scores a hand-made result set the way the report says (confusion matrix, missing as one class)', () => {
    const r = [cases.find((c) => c.kind === 'secret.missing')!, cases.find((c) => c.kind === 'code.failure')!].map(classifyCase);
    const s = score(r);
    expect(s.n).toBe(2);
    expect(Object.values(s.confusion['secret.missing']!).reduce((a, b) => a + b, 0)).toBe(1);
    expect(s.missing.cases).toBe(1);
  });

  it('every incident validates against the Incident schema', () => {
    for (const c of cases) {
      for (const i of classifyText(c.log, { repo: { owner: 'o', repo: 'r' }, run: { id: 7, attempt: 1, from_fork: false, pull_requests: [] }, environment: 'prod' })) {
        expect(() => Incident.parse(i)).not.toThrow();
      }
    }
  });
});
