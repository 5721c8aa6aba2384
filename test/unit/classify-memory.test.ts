import { applyLearning, applyLearningAll, classifyText, emptyClassifierMemory, failureSignature, normalizeDecidingLine, recordFailure, recordLabel, recordSuccess, transientAdjustment } from '../../src/core/classify/index.js';
import { ClassifierMemory, Incident } from '../../src/core/schemas/index.js';
import { parseLabelCommand } from '../../src/pipeline/label.js';

const ctx = { repo: { owner: 'o', repo: 'r' }, job_name: 'deploy' };
const flakyLog = (n: number) => `2024-05-01T10:00:0${n}.1Z ##[group]Run npm ci\n2024-05-01T10:00:0${n}.2Z npm ERR! request to https://registry.npmjs.org/x failed after ${n * 100}ms\n2024-05-01T10:00:0${n}.3Z Error: Process completed with exit code ${n}.`;
const t0 = new Date('2026-01-01T00:00:00Z');
const later = (h: number) => new Date(t0.getTime() + h * 3600_000);

describe('failure signature', () => {
  it('is the same for the same failure on another run (numbers, durations, timestamps differ) and differs otherwise', () => {
    const a = classifyText(flakyLog(1), ctx)[0]!;
    const b = classifyText(flakyLog(2), ctx)[0]!;
    expect(a.signature).toMatch(/^[0-9a-f]{16}$/);
    expect(a.signature).toBe(b.signature);
    expect(classifyText('Error: something entirely different\n', ctx)[0]!.signature).not.toBe(a.signature);
    expect(normalizeDecidingLine('Pushing Foo.1.2.3 to https://x.org/a/b?token=abc took 12ms (deadbeef1234)')).toBe('pushing foo.<n> to https://x.org/a/b took <n> (<hex>)');
  });
  it('is absent when there is nothing to sign', () => {
    expect(failureSignature([])).toBeNull();
  });
});

describe('learning from labels and outcomes', () => {
  const incidents = (): Incident[] => classifyText(flakyLog(1), ctx);
  const sig = () => incidents()[0]!.signature!;

  it('a label classifies the signature as labelled, cites it, and demotes the rest below the actionable threshold', () => {
    const m = recordLabel(emptyClassifierMemory(), { signature: sig(), kind: 'secret.missing', by: 'maria', at: t0 });
    const out = applyLearning(incidents(), m);
    expect(out[0]).toMatchObject({ kind: 'secret.missing', confidence: 0.95, signature: sig() });
    expect(out[0]!.summary).toContain('Labelled `secret.missing` by @maria on 2026-01-01');
    for (const i of out.slice(1)) expect(i.confidence).toBeLessThanOrEqual(0.45);
    for (const i of out) expect(() => Incident.parse(i)).not.toThrow();
    expect(() => ClassifierMemory.parse(m)).not.toThrow();
  });

  it('two heals by re-run raise transient.network; a heal that did not last lowers it again', () => {
    let m = emptyClassifierMemory();
    for (const [run, h] of [[1, 0], [2, 48]] as const) {
      m = recordFailure(m, { signature: sig(), classifiedAs: 'unknown', runId: run, attempt: 1, at: later(h), excerpt: ['x'] });
      m = recordSuccess(m, { runId: run, attempt: 2, at: later(h + 1), rerunByLivingBridge: true });
    }
    const rec = m.signatures[sig()]!;
    expect(rec).toMatchObject({ rerun_healed: 2, flaky: 2, heal_regressed: 0 });
    const raised = transientAdjustment(rec);
    expect(raised).toBeGreaterThan(0);
    const top = applyLearning(incidents(), m)[0]!;
    expect(top.kind).toBe('transient.network');
    expect(top.summary).toContain('healed by re-run 2x');
    // The same signature fails again an hour after the last heal: the heal did not last.
    m = recordFailure(m, { signature: sig(), classifiedAs: 'unknown', runId: 3, attempt: 1, at: later(50), excerpt: ['x'] });
    expect(m.signatures[sig()]!.heal_regressed).toBe(1);
    expect(transientAdjustment(m.signatures[sig()]!)).toBeLessThan(raised);
  });

  it('a pass on a re-run of the same commit by anyone is flaky evidence, but not a heal', () => {
    let m = recordFailure(emptyClassifierMemory(), { signature: sig(), classifiedAs: 'unknown', runId: 9, attempt: 1, at: t0, excerpt: [] });
    m = recordSuccess(m, { runId: 9, attempt: 2, at: later(1), rerunByLivingBridge: false });
    expect(m.signatures[sig()]).toMatchObject({ flaky: 1, rerun_healed: 0 });
    expect(recordSuccess(m, { runId: 10, attempt: 2, at: later(2), rerunByLivingBridge: false })).toBe(m);
  });

  it('outcomes never produce or raise a write-leading kind without a human label', () => {
    const missing = classifyText('##[group]Run docker/login-action@v3\n  with:\n    logout: true\nError: Username and password required\n', ctx);
    expect(missing[0]!.kind).toBe('secret.missing');
    let m = emptyClassifierMemory();
    for (let run = 1; run <= 3; run++) {
      m = recordFailure(m, { signature: missing[0]!.signature!, classifiedAs: 'secret.missing', runId: run, attempt: 1, at: later(run * 48), excerpt: [] });
      m = recordSuccess(m, { runId: run, attempt: 2, at: later(run * 48 + 1), rerunByLivingBridge: true });
    }
    const out = applyLearning(missing, m);
    expect(out.map((i) => i.kind)).not.toContain('transient.network');
    expect(out[0]!.confidence).toBe(missing[0]!.confidence);
    const plain = incidents();
    const learned = applyLearning(plain, recordFailure(emptyClassifierMemory(), { signature: sig(), classifiedAs: 'unknown', runId: 1, attempt: 1, at: t0, excerpt: [] }));
    expect(learned).toEqual(plain);
  });

  it('applies per job when several jobs failed', () => {
    const a = classifyText(flakyLog(1), { ...ctx, job_id: 1 });
    const b = classifyText('Error: Username and password required\n', { ...ctx, job_id: 2 });
    const m = recordLabel(emptyClassifierMemory(), { signature: b[0]!.signature!, kind: 'config.invalid', by: 'x', at: t0 });
    const out = applyLearningAll([...a, ...b], m);
    expect(out.find((i) => i.kind === 'config.invalid')?.confidence).toBe(0.95);
    expect(out[0]!.kind).toBe(a[0]!.kind);
  });
});

describe('/bridge label command', () => {
  it('parses a signature and a kind, and explains what is wrong otherwise', () => {
    expect(parseLabelCommand('thanks!\n/bridge label 0123456789ABCDEF transient.network\n')).toEqual({ signature: '0123456789abcdef', kind: 'transient.network' });
    expect(parseLabelCommand('/bridge label 0123 transient.network')).toMatchObject({ error: expect.stringContaining('not a failure signature') });
    expect(parseLabelCommand('/bridge label 0123456789abcdef flaky')).toMatchObject({ error: expect.stringContaining('not a kind') });
    expect(parseLabelCommand('/bridge approve abc')).toBeNull();
  });
});

describe('explanation of a weak answer', () => {
  it('names the failing step and action, the exit code, the deciding lines (masked), what was ruled out, and how to label', () => {
    const log = '##[group]Run acme/deploy-action@v2\n  with:\n    token: ***\n##[endgroup]\nError: upload refused for token ghp_abcdefghijklmnopqrstuvwxyz0123456789\n##[error]The process \'/usr/bin/acme\' failed with exit code 3\n';
    const top = classifyText(log, ctx)[0]!;
    expect(top.kind).toBe('unknown');
    expect(top.summary).toContain('Failing step: `acme/deploy-action@v2` (action acme/deploy-action@v2), exit code 3.');
    expect(top.summary).toContain('First deciding lines:');
    expect(top.summary).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(top.summary).toContain('Ruled out: secret.missing (');
    expect(top.summary).toContain(`/bridge label ${top.signature} <kind>`);
  });
});
