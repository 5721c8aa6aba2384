import { evaluate, loadCorpus } from '../../bench/classifier-corpus.js';
import { Incident, INCIDENT_KINDS } from '../../src/core/schemas/index.js';
import { classifyText } from '../../src/core/classify/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR } from '../../bench/classifier-corpus.js';

const corpus = loadCorpus();
const { results, rows } = evaluate(corpus);

describe('classifier corpus (real CI log excerpts)', () => {
  it('has at least 60 cases, 4+ per real kind, and some unknowns', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    for (const kind of INCIDENT_KINDS.filter((k) => k !== 'unknown')) {
      expect(corpus.filter((c) => c.kind === kind).length).toBeGreaterThanOrEqual(4);
    }
    expect(corpus.filter((c) => c.kind === 'unknown').length).toBeGreaterThanOrEqual(3);
    for (const c of corpus) expect(c.source_url).toMatch(/^https:\/\//);
  });

  it.each(results.map((r) => [r.case.file, r] as const))('%s', (_file, r) => {
    expect({ kind: r.predicted, target: r.case.kind === 'unknown' ? null : r.target }).toEqual({
      kind: r.case.kind,
      target: r.case.kind === 'unknown' ? null : r.case.target,
    });
  });

  it('never calls a credential.invalid case secret.missing (at any rank)', () => {
    for (const c of corpus.filter((x) => x.kind === 'credential.invalid')) {
      const inc = classifyText(readFileSync(join(CORPUS_DIR, c.file), 'utf8'), { repo: { owner: 'o', repo: 'r' } });
      expect(inc.map((i) => i.kind)).not.toContain('secret.missing');
    }
  });

  it('every incident validates against the Incident schema', () => {
    for (const c of corpus) {
      const inc = classifyText(readFileSync(join(CORPUS_DIR, c.file), 'utf8'), { repo: { owner: 'o', repo: 'r' }, run: { id: 7, attempt: 1, from_fork: false, pull_requests: [] }, environment: 'prod' });
      for (const i of inc) expect(() => Incident.parse(i)).not.toThrow();
    }
  });

  it('per-kind precision on the corpus is at least 90%', () => {
    for (const r of rows) if (r.predicted > 0) expect(r.precision).toBeGreaterThanOrEqual(0.9);
  });
});
