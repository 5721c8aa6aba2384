import { createHash } from 'node:crypto';
import { EnvironmentFile, SyncState, type EnvironmentFileInput } from '../../src/core/schemas/index.js';
import {
  bridgeKey,
  discoveredInventory,
  planSync,
  planToJson,
  renderDriftTable,
  resolveFromEnv,
  sameDiscovered,
  type ActualInventory,
  type SyncPlan,
} from '../../src/core/env-plan/index.js';

const fp = (v: string): string => createHash('sha256').update(`k:${v}`).digest('hex').slice(0, 16);
const file = (f: EnvironmentFileInput): EnvironmentFile => EnvironmentFile.parse(f);
const state = (s: Partial<SyncState> = {}): SyncState => SyncState.parse(s);
const empty = (): ActualInventory => ({ repository: { variables: {}, secrets: {} }, environments: {} });

function plan(declared: EnvironmentFileInput, actual: ActualInventory, extra: { sync?: Partial<SyncState>; env?: Record<string, string>; scopeFilter?: string; names?: string[] } = {}): SyncPlan {
  return planSync({
    declared: file(declared),
    actual,
    sync: state(extra.sync),
    fingerprintOf: fp,
    resolveVariable: resolveFromEnv(extra.env ?? {}),
    ...(extra.scopeFilter ? { scopeFilter: extra.scopeFilter } : {}),
    ...(extra.names ? { names: extra.names } : {}),
  });
}
const find = (p: SyncPlan, kind: string, name: string, scope = 'repository') => p.items.find((i) => i.kind === kind && i.name === name && i.scope === scope);

describe('planSync', () => {
  it('adds everything to a repository that has nothing', () => {
    const p = plan(
      {
        repository: { variables: { api_url: 'https://api', REGION: { value: 'eu' } }, secrets: { TOKEN: { source: 'generate' }, DB: { source: 'from_env', env: 'DB_PASS' } } },
        environments: { prod: { variables: { LEVEL: 'high' }, secrets: {}, settings: { wait_timer: 5 } } },
      },
      empty(),
      { env: { DB_PASS: 's3cret' } },
    );
    expect(p.summary).toEqual({ add: 6, update: 0, delete: 0, escalate: 0, noop: 0 });
    expect(p.writes).toBe(6);
    // environment first, names upper-cased
    expect(p.items[0]).toMatchObject({ op: 'add', kind: 'environment', name: 'prod', settings: { wait_timer: 5 } });
    expect(find(p, 'variable', 'API_URL')).toMatchObject({ op: 'add', after_fingerprint: fp('https://api') });
    expect(find(p, 'secret', 'DB')).toMatchObject({ op: 'add', after_fingerprint: fp('s3cret') });
    expect(find(p, 'variable', 'LEVEL', 'environment:prod')).toMatchObject({ op: 'add' });
    // never a value in the JSON or the table
    expect(planToJson(p)).not.toContain('s3cret');
    expect(renderDriftTable(p)).not.toContain('s3cret');
  });

  it('updates a variable whose value differs and keeps one that matches', () => {
    const actual = empty();
    actual.repository.variables = { A: 'old', B: 'same' };
    const p = plan({ repository: { variables: { A: 'new', B: 'same' } } }, actual);
    expect(find(p, 'variable', 'A')).toMatchObject({ op: 'update', before_fingerprint: fp('old'), after_fingerprint: fp('new') });
    expect(find(p, 'variable', 'B')).toMatchObject({ op: 'noop', reason: 'in sync' });
    expect(p.writes).toBe(1);
  });

  it('escalates a missing external secret and never writes it', () => {
    const p = plan({ repository: { secrets: { STRIPE_KEY: { source: 'external', description: 'from the Stripe dashboard' } } } }, empty());
    expect(find(p, 'secret', 'STRIPE_KEY')).toMatchObject({ op: 'escalate' });
    expect(find(p, 'secret', 'STRIPE_KEY')!.reason).toContain('Stripe dashboard');
    expect(p.writes).toBe(0);
  });

  it('escalates a missing from_env secret or variable whose env is not set', () => {
    const p = plan({ repository: { variables: { V: { from_env: 'NOPE' } }, secrets: { S: { source: 'from_env', env: 'NOPE2' } } } }, empty());
    expect(find(p, 'variable', 'V')).toMatchObject({ op: 'escalate' });
    expect(find(p, 'secret', 'S')).toMatchObject({ op: 'escalate', reason: expect.stringContaining('$NOPE2 is not set') });
  });

  it('never rewrites a present secret unless its stored fingerprint says the declared value changed', () => {
    const actual = empty();
    actual.repository.secrets = { A: { updated_at: 't1' }, B: { updated_at: 't1' }, C: { updated_at: 't2' }, D: { updated_at: 't9' } };
    const sync = {
      secret_fingerprints: {
        'repository/A': { fingerprint: fp('v1'), updated_at: 't1' },
        'repository/B': { fingerprint: fp('old'), updated_at: 't1' },
        'repository/D': { fingerprint: fp('v1'), updated_at: 't1' },
      },
    };
    const p = plan(
      { repository: { secrets: { A: { source: 'from_env', env: 'V1' }, B: { source: 'from_env', env: 'V1' }, C: { source: 'from_env', env: 'V1' }, D: { source: 'from_env', env: 'V1' } } } },
      actual,
      { sync, env: { V1: 'v1' } },
    );
    expect(find(p, 'secret', 'A')).toMatchObject({ op: 'noop' });
    expect(find(p, 'secret', 'B')).toMatchObject({ op: 'update', before_fingerprint: fp('old'), after_fingerprint: fp('v1') });
    expect(find(p, 'secret', 'C')).toMatchObject({ op: 'noop', reason: expect.stringContaining('not written by Living Bridge') });
    expect(find(p, 'secret', 'D')).toMatchObject({ op: 'noop', reason: expect.stringContaining('rewritten outside Living Bridge') });
  });

  it('detects a renamed variable (undeclared one holding the missing one\'s value) and keeps the old one with prune off', () => {
    const actual = empty();
    actual.repository.variables = { API_ENDPOINT: 'https://api.example', OTHER: 'x' };
    const p = plan({ repository: { variables: { API_URL: 'https://api.example' } } }, actual);
    expect(find(p, 'variable', 'API_URL')).toMatchObject({ op: 'add', renamed_from: ['API_ENDPOINT'] });
    expect(find(p, 'variable', 'API_URL')!.reason).toContain('probably renamed from API_ENDPOINT');
    expect(find(p, 'variable', 'API_ENDPOINT')).toMatchObject({ op: 'noop', declared: false, reason: expect.stringContaining('old name of API_URL') });
    expect(p.renames).toEqual([{ scope: 'repository', kind: 'variable', from: 'API_ENDPOINT', to: 'API_URL' }]);
    expect(renderDriftTable(p)).toContain('Probable renames');
  });

  it('detects a renamed secret by the fingerprint Living Bridge stored', () => {
    const actual = empty();
    actual.repository.secrets = { OLD_TOKEN: { updated_at: 't' } };
    const p = plan(
      { repository: { secrets: { NEW_TOKEN: { source: 'from_env', env: 'T' } } } },
      actual,
      { env: { T: 'tok' }, sync: { secret_fingerprints: { 'repository/OLD_TOKEN': { fingerprint: fp('tok'), updated_at: 't' } } } },
    );
    expect(find(p, 'secret', 'NEW_TOKEN')).toMatchObject({ op: 'add', renamed_from: ['OLD_TOKEN'] });
  });

  it('keeps undeclared items when prune is off', () => {
    const actual = empty();
    actual.repository.variables = { EXTRA: 'x' };
    actual.repository.secrets = { EXTRA_S: { updated_at: null } };
    const p = plan({ repository: { variables: {} } }, actual);
    expect(p.summary.delete).toBe(0);
    expect(find(p, 'variable', 'EXTRA')).toMatchObject({ op: 'noop', declared: false });
    expect(find(p, 'secret', 'EXTRA_S')).toMatchObject({ op: 'noop', declared: false });
  });

  it('plans deletions with prune on, listing those Living Bridge did not create separately', () => {
    const actual = empty();
    actual.repository.variables = { OURS: 'x', THEIRS: 'y' };
    const p = plan({ repository: { prune: true } }, actual, { sync: { created_by_bridge: [bridgeKey('variable', 'repository', 'OURS')] } });
    expect(p.deletions.map((d) => d.name)).toEqual(['OURS', 'THEIRS']);
    expect(p.foreignDeletions.map((d) => d.name)).toEqual(['THEIRS']);
    expect(find(p, 'variable', 'OURS')).toMatchObject({ created_by_bridge: true });
    // deletions come last
    expect(p.items.at(-1)!.op).toBe('delete');
    expect(renderDriftTable(p)).toContain('did not create');
  });

  it('diffs environment settings and only updates declared fields', () => {
    const actual = empty();
    actual.environments.prod = { variables: {}, secrets: {}, audited: true, settings: { wait_timer: 0, prevent_self_review: true, reviewers: [{ type: 'User', id: 1 }] } };
    const p = plan({ environments: { prod: { settings: { wait_timer: 10, reviewers: [{ type: 'User', id: 1 }] } } } }, actual);
    const env = find(p, 'environment', 'prod', 'environment:prod')!;
    expect(env.op).toBe('update');
    expect(env.reason).toContain('wait_timer 0 -> 10');
    expect(env.reason).not.toContain('reviewers');
    expect(env.settings).toEqual({ wait_timer: 10, prevent_self_review: true, reviewers: [{ type: 'User', id: 1 }] });
    // prevent_self_review is reported only with required reviewers: unreported is not drift.
    const noReviewers = empty();
    noReviewers.environments.prod = { variables: {}, secrets: {}, audited: true, settings: { wait_timer: 5 } };
    expect(find(plan({ environments: { prod: { settings: { wait_timer: 5, prevent_self_review: true } } } }, noReviewers), 'environment', 'prod', 'environment:prod')!.op).toBe('noop');
    const same = plan({ environments: { prod: { settings: { wait_timer: 0 } } } }, actual);
    expect(find(same, 'environment', 'prod', 'environment:prod')!.op).toBe('noop');
  });

  it('limits the plan to a scope and to names', () => {
    const p = plan(
      { repository: { variables: { A: 'a', B: 'b' } }, environments: { prod: { variables: { A: 'pa' } } } },
      empty(),
      { scopeFilter: 'prod', names: ['a'] },
    );
    expect(p.items.map((i) => `${i.kind}:${i.scope}/${i.name}`)).toEqual(['environment:environment:prod/prod', 'variable:environment:prod/A']);
  });

  it('renders a table with results and reports no drift', () => {
    const actual = empty();
    actual.repository.variables = { A: 'a' };
    const p = plan({ repository: { variables: { A: 'a' } } }, actual);
    expect(renderDriftTable(p)).toContain('No drift');
    const p2 = plan({ repository: { variables: { A: 'b|c' } } }, actual);
    const table = renderDriftTable(p2, { results: [{ item: p2.items[0]!, status: 'failed', detail: 'HTTP 500', before_fingerprint: null, after_fingerprint: null }], applied: 0, failed: 1, skipped: 0, writeAttempts: 1, waitedMs: 0, dryRun: false });
    expect(table).toContain('| ✏️ | update | variable | repository | `A` |');
    expect(table).toContain('failed: HTTP 500');
    expect(JSON.parse(planToJson(p2))).toMatchObject({ summary: { update: 1 }, items: [{ op: 'update', name: 'A' }] });
  });
});

describe('discoveredInventory', () => {
  it('lists undeclared names (never values), including whole undeclared environments', () => {
    const actual = empty();
    actual.repository.variables = { A: 'a', EXTRA: 'x' };
    actual.repository.secrets = { S: { updated_at: null } };
    actual.environments.qa = { variables: { Q: 'q' }, secrets: {}, audited: true, settings: {} };
    actual.environments.prod = { variables: {}, secrets: {}, audited: true, settings: {} };
    const d = discoveredInventory(actual, file({ repository: { variables: { a: 'a' } }, environments: { prod: {} } }), new Date('2026-01-01T00:00:00Z'));
    expect(d).toEqual({
      generated_at: '2026-01-01T00:00:00.000Z',
      repository: { variables: ['EXTRA'], secrets: ['S'] },
      environments: { qa: { variables: ['Q'], secrets: [] } },
    });
    expect(sameDiscovered(d, { ...d, generated_at: 'later' })).toBe(true);
    expect(sameDiscovered(d, { ...d, repository: { variables: [], secrets: ['S'] } })).toBe(false);
    expect(sameDiscovered(undefined, discoveredInventory(empty(), file({}), new Date(0)))).toBe(true);
    expect(sameDiscovered(undefined, d)).toBe(false);
  });
});
