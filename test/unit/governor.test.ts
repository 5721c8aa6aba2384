import {
  ACTIONS_KEEP,
  EMA_HISTORY_MAX,
  POLICY_HISTORY_MAX,
  candidatesFor,
  candidatesForIncident,
  cooldownKey,
  decide,
  levelFor,
  predictSuccess,
  recordAction,
  recordHumanFeedback,
  recordOutcome,
  targetKey,
  type DecideInput,
} from '../../src/core/governor/index.js';
import {
  Decision,
  GovernorState,
  Incident,
  INCIDENT_KINDS,
  RepoConfig,
  emptyGovernorState,
  type ActionKind,
  type ActionRecord,
  type GovernorStateInput,
  type IncidentKind,
  type RepoConfigInput,
} from '../../src/core/schemas/index.js';

const REPO = 'acme/web';
const T0 = new Date('2025-03-01T12:00:00.000Z');
const MIN = 60_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const config = (c: RepoConfigInput = {}): RepoConfig => RepoConfig.parse(c);
const full = (c: RepoConfigInput = {}): RepoConfig => config({ default_level: 'full', ...c });
const state = (s: GovernorStateInput = {}): GovernorState => GovernorState.parse(s);

const TARGETS: Partial<Record<IncidentKind, { type: 'secret' | 'variable' | 'file' | 'host' | 'package' | 'job'; name: string }>> = {
  'secret.missing': { type: 'secret', name: 'DEPLOY_TOKEN' },
  'variable.missing': { type: 'variable', name: 'API_URL' },
  'credential.invalid': { type: 'secret', name: 'DEPLOY_TOKEN' },
  'config.invalid': { type: 'file', name: 'deploy.yml' },
  'transient.network': { type: 'host', name: 'registry.npmjs.org' },
  'dependency.resolution': { type: 'package', name: 'left-pad' },
};

function incident(kind: IncidentKind = 'secret.missing', over: Partial<Incident> = {}): Incident {
  return Incident.parse({
    kind,
    target: TARGETS[kind] ?? null,
    confidence: 0.9,
    fingerprint: `fp-${kind}`,
    summary: `${kind} in deploy`,
    evidence: [],
    repo: { owner: 'acme', repo: 'web' },
    run: { id: 100, attempt: 1 },
    ...over,
  });
}

function run(over: Partial<DecideInput> = {}): Decision {
  const d = decide({ incident: incident(), state: emptyGovernorState(), config: full(), now: T0, repository: REPO, ...over });
  expect(Decision.safeParse(d).success).toBe(true);
  return d;
}

function record(over: Partial<ActionRecord> & { at: string }): ActionRecord {
  return {
    action: 'RERUN',
    cooldown_key: cooldownKey(REPO, null, 'transient.network', 'RERUN'),
    incident_kind: 'transient.network',
    incident_fingerprint: 'other',
    target_key: `${REPO}#host:x`,
    run_id: 1,
    run_attempt: 1,
    certificate_hash: null,
    outcome: null,
    ...over,
  };
}

/** n rate-limited actions in the last hour on an unrelated key. */
const recentActions = (n: number, lastAt = T0.getTime() - MIN): ActionRecord[] =>
  Array.from({ length: n }, (_, i) => record({ at: new Date(lastAt - i * 1000).toISOString() }));

const tKey = (kind: IncidentKind = 'secret.missing'): string => targetKey(REPO, incident(kind));
const ckey = (kind: IncidentKind, action: ActionKind, env: string | null = null): string => cooldownKey(REPO, env, kind, action);

describe('keys and levels', () => {
  it('target key names the target, else the fingerprint', () => {
    expect(targetKey(REPO, incident('secret.missing'))).toBe('acme/web#secret:DEPLOY_TOKEN');
    expect(targetKey(REPO, incident('unknown'))).toBe('acme/web#fp:fp-unknown');
  });
  it('cooldown key is (repo, environment, incident kind, action)', () => {
    expect(cooldownKey(REPO, 'prod', 'secret.missing', 'CREATE_SECRET')).toBe('acme/web|prod|secret.missing|CREATE_SECRET');
    expect(cooldownKey(REPO, undefined, 'unknown', 'ESCALATE')).toBe('acme/web|-|unknown|ESCALATE');
  });
  it('levelFor: listed environment, else default level', () => {
    const c = config({ default_level: 'suggest', environments: { prod: { level: 'observe' } } });
    expect(levelFor(c, 'prod')).toBe('observe');
    expect(levelFor(c, 'staging')).toBe('suggest');
    expect(levelFor(c, undefined)).toBe('suggest');
    expect(levelFor(config(), null)).toBe('balanced');
  });
});

describe('candidates', () => {
  it('has an ordered step-list menu per incident kind', () => {
    expect(candidatesFor('secret.missing')).toEqual([['CREATE_SECRET', 'RERUN']]);
    expect(candidatesFor('variable.missing')).toEqual([['SYNC_AND_CERTIFY', 'RERUN']]);
    expect(candidatesFor('config.invalid')).toEqual([['REGENERATE_CONFIG']]);
    expect(candidatesFor('transient.network')).toEqual([['RERUN']]);
    expect(candidatesFor('timeout.cancelled')).toEqual([['RERUN']]);
    expect(candidatesFor('resource.exhausted')).toEqual([['RERUN'], ['ESCALATE']]);
    expect(candidatesFor('dependency.resolution')).toEqual([['RERUN'], ['ESCALATE']]);
    expect(candidatesFor('credential.invalid')).toEqual([['ESCALATE']]);
    expect(candidatesFor('code.failure')).toEqual([['ESCALATE'], ['ROLLBACK']]);
    expect(candidatesFor('unknown')).toEqual([['ESCALATE']]);
  });
  it('returns fresh arrays', () => {
    const a = candidatesFor('secret.missing');
    a[0]?.push('ROLLBACK');
    expect(candidatesFor('secret.missing')).toEqual([['CREATE_SECRET', 'RERUN']]);
  });
  it('CREATE_SECRET is only ever a candidate for secret.missing', () => {
    for (const kind of INCIDENT_KINDS) {
      if (kind === 'secret.missing') continue;
      expect(candidatesFor(kind).flat()).not.toContain('CREATE_SECRET');
    }
  });
  it('dependency.resolution re-runs only when the evidence looks transient', () => {
    const plain = incident('dependency.resolution', { summary: 'No matching version found for left-pad@^9' });
    expect(candidatesForIncident(plain, full()).lists).toEqual([['ESCALATE']]);
    const flaky = incident('dependency.resolution', {
      summary: 'npm install failed',
      evidence: [{ line: 3, text: 'npm ERR! network request to https://registry.npmjs.org failed, reason: ETIMEDOUT' }],
    });
    expect(candidatesForIncident(flaky, full()).lists).toEqual([['RERUN'], ['ESCALATE']]);
    expect(run({ incident: flaky }).steps).toEqual(['RERUN']);
    expect(run({ incident: plain }).steps).toEqual(['ESCALATE']);
  });
  it('no RERUN once the run used max_rerun_attempts re-runs', () => {
    const c = full({ limits: { max_rerun_attempts: 3 } });
    expect(run({ incident: incident('transient.network', { run: { id: 1, attempt: 3 } as Incident['run'] }), config: c }).steps).toEqual(['RERUN']);
    const d = run({ incident: incident('transient.network', { run: { id: 1, attempt: 4 } as Incident['run'] }), config: c });
    expect(d.steps).toEqual(['ESCALATE']);
    expect(d.reason).toContain('max_rerun_attempts 3');
  });
});

describe('guardrail 1: halted', () => {
  const everythingElse = state({
    fail_streaks: { [tKey()]: 5 },
    recurrences: { 'fp-secret.missing': 9 },
    actions: [...recentActions(20), record({ at: at(-MIN).toISOString(), action: 'CREATE_SECRET', cooldown_key: ckey('secret.missing', 'CREATE_SECRET') })],
  });
  it.each([
    ['state.halted', { state: { ...everythingElse, halted: true, halted_reason: 'incident drill' } }, 'incident drill'],
    ['config.enabled false', { state: everythingElse, config: full({ enabled: false }) }, 'enabled: false'],
    ['autonomyEnabled false', { state: everythingElse, autonomyEnabled: false }, 'installation'],
  ] as const)('%s → NOOP(halted), beating every other guardrail', (_n, over, why) => {
    const d = run(over as Partial<DecideInput>);
    expect(d).toMatchObject({ verdict: 'noop', action: 'NOOP', steps: [], guardrail: 'halted' });
    expect(d.reason).toContain(why);
  });
  it('autonomyEnabled true or absent does not halt', () => {
    expect(run({ autonomyEnabled: true }).guardrail).toBeNull();
  });
});

describe('guardrail 2: fail streak', () => {
  it('streak ≥ max_fail_streak → ESCALATE (execute)', () => {
    const d = run({ state: state({ fail_streaks: { [tKey()]: 3 } }) });
    expect(d).toMatchObject({ verdict: 'execute', action: 'ESCALATE', steps: ['ESCALATE'], guardrail: 'fail_streak' });
    expect(d.reason).toContain('fail streak 3 ≥ max_fail_streak 3');
  });
  it('streak below the limit does not escalate; the limit is configurable', () => {
    expect(run({ state: state({ fail_streaks: { [tKey()]: 2 } }) }).action).toBe('CREATE_SECRET');
    expect(run({ state: state({ fail_streaks: { [tKey()]: 2 } }), config: full({ limits: { max_fail_streak: 2 } }) }).guardrail).toBe('fail_streak');
  });
  it('only the same target counts', () => {
    expect(run({ state: state({ fail_streaks: { [`${REPO}#secret:OTHER`]: 9 } }) }).action).toBe('CREATE_SECRET');
  });
  it('beats recurrence, rate limit and cooldown', () => {
    const s = state({
      fail_streaks: { [tKey()]: 3 },
      recurrences: { 'fp-secret.missing': 5 },
      actions: [...recentActions(10), record({ at: at(-MIN).toISOString(), action: 'CREATE_SECRET', cooldown_key: ckey('secret.missing', 'CREATE_SECRET') })],
    });
    expect(run({ state: s }).guardrail).toBe('fail_streak');
  });
  it('escalation executes at suggest level and is recorded only at observe', () => {
    const s = state({ fail_streaks: { [tKey()]: 3 } });
    expect(run({ state: s, config: config({ default_level: 'suggest' }) }).verdict).toBe('execute');
    const d = run({ state: s, config: config({ default_level: 'observe' }) });
    expect(d).toMatchObject({ verdict: 'noop', action: 'NOOP', guardrail: 'fail_streak', proposed_steps: ['ESCALATE'] });
    expect(d.reason).toMatch(/^observe level: recorded only/);
  });
});

describe('guardrail 2b: recurrence', () => {
  it('recurrences ≥ recurrence_limit → ESCALATE(recurrence)', () => {
    const d = run({ state: state({ recurrences: { 'fp-secret.missing': 2 } }) });
    expect(d).toMatchObject({ verdict: 'execute', action: 'ESCALATE', guardrail: 'recurrence' });
    expect(run({ state: state({ recurrences: { 'fp-secret.missing': 1 } }) }).guardrail).toBeNull();
  });
  it('beats rate limit and cooldown', () => {
    const s = state({ recurrences: { 'fp-secret.missing': 2 }, actions: recentActions(10) });
    expect(run({ state: s }).guardrail).toBe('recurrence');
  });
  it('a "successful" heal whose fingerprint comes back counts as failed; at the limit it escalates', () => {
    const c = full();
    const inc = incident('secret.missing');
    let s = emptyGovernorState();
    // Heal 1 on run 100 succeeds.
    let d = decide({ incident: inc, state: s, config: c, now: T0, repository: REPO });
    s = recordAction(s, d, { at: T0, runId: 100, runAttempt: 1, certificateHash: 'c1' });
    s = recordOutcome(s, { at: at(5 * MIN), runId: 100, conclusion: 'success' }, c).state;
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.55, 12);
    // The same failure is back on run 101: one recurrence (not yet counted in state), below the limit 2.
    d = decide({ incident: { ...inc, run: { ...inc.run!, id: 101 } }, state: s, config: c, now: at(60 * MIN), repository: REPO });
    expect(d.action).toBe('CREATE_SECRET');
    s = recordAction(s, d, { at: at(60 * MIN), runId: 101, runAttempt: 1, certificateHash: 'c2' });
    expect(s.recurrences['fp-secret.missing']).toBe(1);
    expect(s.actions[0]?.outcome).toBe('failure'); // the first heal counted as failed
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.9 * 0.55, 12);
    expect(s.predictions['secret.missing|CREATE_SECRET']).toEqual({ successes: 1, failures: 1 });
    s = recordOutcome(s, { at: at(65 * MIN), runId: 101, conclusion: 'success' }, c).state;
    // Back again on run 102: 1 counted + 1 now = 2 ≥ 2.
    d = decide({ incident: { ...inc, run: { ...inc.run!, id: 102 } }, state: s, config: c, now: at(120 * MIN), repository: REPO });
    expect(d).toMatchObject({ action: 'ESCALATE', guardrail: 'recurrence' });
    expect(d.reason).toContain('came back 2 time(s)');
  });
  it('recordOutcome: a failure carrying a fingerprint an earlier heal "fixed" flips that heal', () => {
    const c = full();
    let s = recordAction(emptyGovernorState(), run(), { at: T0, runId: 100, runAttempt: 1, certificateHash: null });
    s = recordOutcome(s, { at: at(MIN), runId: 100, conclusion: 'success' }, c).state;
    const r = recordOutcome(s, { at: at(10 * MIN), runId: 555, conclusion: 'failure', incidentFingerprintNow: 'fp-secret.missing' }, c);
    expect(r.judged).toMatchObject({ run_id: 100, outcome: 'failure' });
    expect(r.state.recurrences['fp-secret.missing']).toBe(1);
    expect(r.state.fail_streaks[tKey()]).toBe(1);
  });
});

describe('guardrail 2c: half-open after escalation', () => {
  const c = full({ limits: { half_open_after_minutes: 60 } });
  const escalated = (): GovernorState => {
    const s = state({ fail_streaks: { [tKey()]: 3 } });
    const d = run({ state: s, config: c });
    expect(d.action).toBe('ESCALATE');
    return recordAction(s, d, { at: T0, runId: 100, runAttempt: 1, certificateHash: null });
  };
  it('recording ESCALATE opens the circuit', () => {
    expect(escalated().escalations[tKey()]).toEqual({ at: T0.toISOString(), probe_used: false });
  });
  it('NOOP(half_open) before the cool-off, even though the streak is still over the limit', () => {
    const d = run({ state: escalated(), config: c, now: at(60 * MIN - 1) });
    expect(d).toMatchObject({ verdict: 'noop', guardrail: 'half_open' });
    expect(d.reason).toContain('one probe allowed after 60 min');
  });
  it('exactly one probe after the cool-off; then NOOP while it is in flight', () => {
    let s = escalated();
    const probe = run({ state: s, config: c, now: at(60 * MIN) });
    expect(probe).toMatchObject({ verdict: 'execute', action: 'CREATE_SECRET', probe: true, guardrail: null });
    expect(probe.reason).toMatch(/^half-open probe/);
    s = recordAction(s, probe, { at: at(60 * MIN), runId: 100, runAttempt: 2, certificateHash: null });
    expect(s.escalations[tKey()]?.probe_used).toBe(true);
    const again = run({ state: s, config: c, now: at(61 * MIN) });
    expect(again).toMatchObject({ verdict: 'noop', guardrail: 'half_open' });
    expect(again.reason).toContain('awaiting');
  });
  it('a successful probe closes the circuit: escalation and streak cleared', () => {
    let s = escalated();
    s = recordAction(s, run({ state: s, config: c, now: at(60 * MIN) }), { at: at(60 * MIN), runId: 100, runAttempt: 2, certificateHash: null });
    s = recordOutcome(s, { at: at(70 * MIN), runId: 100, conclusion: 'success' }, c).state;
    expect(s.escalations[tKey()]).toBeUndefined();
    expect(s.fail_streaks[tKey()]).toBeUndefined();
    expect(run({ state: s, config: c, now: at(300 * MIN) }).guardrail).toBeNull();
  });
  it('a failed probe re-opens the circuit with a fresh timestamp', () => {
    let s = escalated();
    s = recordAction(s, run({ state: s, config: c, now: at(60 * MIN) }), { at: at(60 * MIN), runId: 100, runAttempt: 2, certificateHash: null });
    s = recordOutcome(s, { at: at(70 * MIN), runId: 100, conclusion: 'failure' }, c).state;
    expect(s.escalations[tKey()]).toEqual({ at: at(70 * MIN).toISOString(), probe_used: false });
    expect(run({ state: s, config: c, now: at(130 * MIN - 1) }).guardrail).toBe('half_open');
    expect(run({ state: s, config: c, now: at(130 * MIN) }).probe).toBe(true);
  });
  it('halted still beats half-open', () => {
    expect(run({ state: { ...escalated(), halted: true }, config: c }).guardrail).toBe('halted');
  });
});

describe('guardrail 3: rate limit', () => {
  it('actions in the last hour ≥ max_actions_per_hour → NOOP(rate_limited)', () => {
    const d = run({ state: state({ actions: recentActions(10) }) });
    expect(d).toMatchObject({ verdict: 'noop', action: 'NOOP', guardrail: 'rate_limited', proposed_steps: ['CREATE_SECRET', 'RERUN'] });
    expect(d.reason).toContain('10 action(s) in the last hour ≥ max_actions_per_hour 10');
    expect(run({ state: state({ actions: recentActions(9) }) }).guardrail).toBeNull();
  });
  it('the window is (now − 1 h, now]: an action exactly 1 h old no longer counts', () => {
    const nine = recentActions(9);
    const edge = record({ at: at(-60 * MIN).toISOString() });
    expect(run({ state: state({ actions: [edge, ...nine] }) }).guardrail).toBeNull();
    const inside = record({ at: at(-60 * MIN + 1).toISOString() });
    expect(run({ state: state({ actions: [inside, ...nine] }) }).guardrail).toBe('rate_limited');
  });
  it('counts per repository and ignores ESCALATE', () => {
    const other = recentActions(10).map((a) => ({ ...a, cooldown_key: cooldownKey('acme/other', null, 'unknown', 'RERUN') }));
    const esc = recentActions(10).map((a) => ({ ...a, action: 'ESCALATE' as const }));
    expect(run({ state: state({ actions: [...other, ...esc] }) }).guardrail).toBeNull();
  });
  it('never silences an escalation', () => {
    const d = run({ incident: incident('credential.invalid'), state: state({ actions: recentActions(50) }) });
    expect(d).toMatchObject({ verdict: 'execute', action: 'ESCALATE', guardrail: null });
  });
  it('beats cooldown', () => {
    const s = state({ actions: [...recentActions(10), record({ at: at(-MIN).toISOString(), action: 'CREATE_SECRET', cooldown_key: ckey('secret.missing', 'CREATE_SECRET') })] });
    expect(run({ state: s }).guardrail).toBe('rate_limited');
  });
});

describe('guardrail 4: cooldown', () => {
  const last = (action: ActionKind, kind: IncidentKind, env: string | null = null, when = T0): GovernorState =>
    state({ actions: [record({ at: when.toISOString(), action, cooldown_key: ckey(kind, action, env), incident_kind: kind })] });

  it('in cooldown until exactly last + cooldown (the boundary millisecond is free)', () => {
    const s = last('CREATE_SECRET', 'secret.missing');
    const before = run({ state: s, now: at(30 * MIN - 1) });
    expect(before).toMatchObject({ verdict: 'noop', guardrail: 'cooldown', cooldown_key: ckey('secret.missing', 'CREATE_SECRET') });
    expect(before.reason).toContain(`until ${at(30 * MIN).toISOString()}`);
    const boundary = run({ state: s, now: at(30 * MIN) });
    expect(boundary).toMatchObject({ verdict: 'execute', guardrail: null });
    expect(boundary.candidates[0]?.cooldown_penalty).toBe(0);
  });
  it('per-action minutes override the default', () => {
    const s = last('CREATE_SECRET', 'secret.missing');
    const c = full({ cooldowns: { default_minutes: 30, per_action: { CREATE_SECRET: 5 } } });
    expect(run({ state: s, config: c, now: at(5 * MIN - 1) }).guardrail).toBe('cooldown');
    expect(run({ state: s, config: c, now: at(5 * MIN) }).guardrail).toBeNull();
  });
  it('keys by environment and incident kind', () => {
    expect(run({ state: last('CREATE_SECRET', 'secret.missing', 'staging'), environment: 'prod' }).guardrail).toBeNull();
    expect(run({ state: last('CREATE_SECRET', 'secret.missing', 'prod'), environment: 'prod' }).guardrail).toBe('cooldown');
    expect(run({ incident: incident('transient.network'), state: last('RERUN', 'timeout.cancelled') }).guardrail).toBeNull();
  });
  it('penalty = 0.5 × remaining / total, and it shows in the score', () => {
    const s = last('RERUN', 'resource.exhausted');
    // 3/4 of the cooldown left: penalty 0.375 → RERUN 0.125 < ESCALATE 0.5, so ESCALATE is chosen.
    const d = run({ incident: incident('resource.exhausted'), state: s, now: at(7.5 * MIN) });
    const rerun = d.candidates.find((x) => x.action === 'RERUN');
    expect(rerun).toMatchObject({ ema: 0.5, cooldown_penalty: 0.375, weight: 1, score: 0.125 });
    expect(d).toMatchObject({ action: 'ESCALATE', verdict: 'execute', guardrail: null });
    expect(d.candidates.map((x) => x.action)).toEqual(['ESCALATE', 'RERUN']);
  });
  it('penalty is 0 for unseen keys and never applies to ESCALATE', () => {
    const s = state({ actions: [record({ at: T0.toISOString(), action: 'ESCALATE', cooldown_key: ckey('unknown', 'ESCALATE') })] });
    const d = run({ incident: incident('unknown'), state: s, now: at(MIN) });
    expect(d).toMatchObject({ action: 'ESCALATE', verdict: 'execute' });
    expect(d.candidates[0]?.cooldown_penalty).toBe(0);
  });
});

describe('EMA: judged on the next run, new = 0.9·old + 0.1·outcome', () => {
  const c = full();
  // A distinct fingerprint per run: acting again on a fingerprint a success "fixed" would be a recurrence.
  const act = (s: GovernorState, runId: number, ms: number): GovernorState =>
    recordAction(
      s,
      run({ incident: incident('secret.missing', { fingerprint: `fp-${runId}` }), state: s, now: at(ms), config: full({ cooldowns: { default_minutes: 0 } }) }),
      { at: at(ms), runId, runAttempt: 1, certificateHash: null },
    );

  it('prior 0.5 → 0.55 → 0.595 after two successes', () => {
    let s = act(emptyGovernorState(), 1, 0);
    expect(s.ema.CREATE_SECRET).toBeUndefined();
    s = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'success' }, c).state;
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.55, 12);
    s = act(s, 2, 2 * MIN);
    s = recordOutcome(s, { at: at(3 * MIN), runId: 2, conclusion: 'success' }, c).state;
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.595, 12);
    expect(s.ema_history.map((h) => h.ema)).toEqual([expect.closeTo(0.55, 12), expect.closeTo(0.595, 12)]);
    const d = run({ state: s, now: at(4 * MIN), config: full({ cooldowns: { default_minutes: 0 } }) });
    expect(d.candidates[0]?.ema).toBeCloseTo(0.595, 12);
  });
  it('0.5 → 0.45 → 0.405 after two failures; success then failure → 0.495', () => {
    let s = act(emptyGovernorState(), 1, 0);
    s = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'failure' }, c).state;
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.45, 12);
    s = act(s, 2, 2 * MIN);
    s = recordOutcome(s, { at: at(3 * MIN), runId: 2, conclusion: 'timed_out' }, c).state;
    expect(s.ema.CREATE_SECRET).toBeCloseTo(0.405, 12);
    let t = act(emptyGovernorState(), 1, 0);
    t = recordOutcome(t, { at: at(MIN), runId: 1, conclusion: 'success' }, c).state;
    t = act(t, 2, 2 * MIN);
    t = recordOutcome(t, { at: at(3 * MIN), runId: 2, conclusion: 'failure' }, c).state;
    expect(t.ema.CREATE_SECRET).toBeCloseTo(0.495, 12);
  });
  it('the outcome is the next run of that run id, not the API call', () => {
    const s = act(emptyGovernorState(), 1, 0);
    expect(s.actions[0]?.outcome).toBeNull(); // recording the action learns nothing
    const other = recordOutcome(s, { at: at(MIN), runId: 2, conclusion: 'success' }, c);
    expect(other).toEqual({ state: s, judged: null, policyChanged: false });
    const neutral = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'neutral' }, c);
    expect(neutral.judged).toBeNull();
    const cancelled = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'cancelled' }, c);
    expect(cancelled.judged?.outcome).toBe('failure');
    // Judged once: a second conclusion for the same run finds nothing pending.
    expect(recordOutcome(cancelled.state, { at: at(2 * MIN), runId: 1, conclusion: 'success' }, c).judged).toBeNull();
  });
  it('fail streak counts failed outcomes and a success resets it', () => {
    let s = act(emptyGovernorState(), 1, 0);
    s = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'failure' }, c).state;
    s = act(s, 2, 2 * MIN);
    s = recordOutcome(s, { at: at(3 * MIN), runId: 2, conclusion: 'failure' }, c).state;
    expect(s.fail_streaks[tKey()]).toBe(2);
    s = act(s, 3, 4 * MIN);
    s = recordOutcome(s, { at: at(5 * MIN), runId: 3, conclusion: 'success' }, c).state;
    expect(s.fail_streaks[tKey()]).toBeUndefined();
  });
  it('ESCALATE is never judged by a run', () => {
    const s = recordAction(emptyGovernorState(), run({ incident: incident('unknown') }), { at: T0, runId: 7, runAttempt: 1, certificateHash: null });
    expect(recordOutcome(s, { at: at(MIN), runId: 7, conclusion: 'success' }, c).judged).toBeNull();
  });
});

describe('prediction', () => {
  it('Beta(2,2) prior: 0.5 unseen, (s+2)/(s+f+4) after evidence', () => {
    expect(predictSuccess(emptyGovernorState(), 'secret.missing', 'CREATE_SECRET')).toBe(0.5);
    const s = state({ predictions: { 'secret.missing|CREATE_SECRET': { successes: 2, failures: 0 } } });
    expect(predictSuccess(s, 'secret.missing', 'CREATE_SECRET')).toBeCloseTo(4 / 6, 12);
    expect(run({ state: s }).reason).toContain('predicted success 0.67 (2 successes, 0 failures, prior Beta(2,2))');
  });
  it('resource.exhausted re-runs start lower (Beta(1,3) = 0.25) and are only suggested', () => {
    expect(predictSuccess(emptyGovernorState(), 'resource.exhausted', 'RERUN')).toBe(0.25);
    const d = run({ incident: incident('resource.exhausted') });
    expect(d).toMatchObject({ verdict: 'suggest', action: 'RERUN', suggested_because: 'prediction' });
    expect(d.reason).toContain('predicted success 0.25 < min_success_probability 0.3');
  });
  it('threshold: 0.2999 → suggest, 0.3 → execute', () => {
    const low = state({ predictions: { 'secret.missing|CREATE_SECRET': { successes: 2997, failures: 6999 } } });
    expect(predictSuccess(low, 'secret.missing', 'CREATE_SECRET')).toBe(0.2999);
    const dLow = run({ state: low });
    expect(dLow).toMatchObject({ verdict: 'suggest', action: 'CREATE_SECRET', steps: ['CREATE_SECRET', 'RERUN'] });
    expect(dLow.reason).toContain('predicted success 0.2999 < min_success_probability 0.3 → suggest');
    const edge = state({ predictions: { 'secret.missing|CREATE_SECRET': { successes: 1, failures: 5 } } });
    expect(predictSuccess(edge, 'secret.missing', 'CREATE_SECRET')).toBe(0.3);
    expect(run({ state: edge }).verdict).toBe('execute');
  });
  it('ESCALATE is never downgraded by prediction', () => {
    expect(run({ incident: incident('unknown'), config: full({ prediction: { min_success_probability: 1 } }) }).verdict).toBe('execute');
  });
});

describe('autonomy levels', () => {
  it('observe → noop, recorded only, with the would-be steps', () => {
    const d = run({ config: config({ default_level: 'observe' }) });
    expect(d).toMatchObject({ verdict: 'noop', action: 'NOOP', guardrail: null, proposed_steps: ['CREATE_SECRET', 'RERUN'] });
    expect(d.reason).toMatch(/^observe level: recorded only; would do CREATE_SECRET DEPLOY_TOKEN → RERUN/);
  });
  it('suggest → suggest for everything but ESCALATE', () => {
    const c = config({ default_level: 'suggest' });
    expect(run({ config: c, incident: incident('transient.network') })).toMatchObject({ verdict: 'suggest', suggested_because: 'level' });
    expect(run({ config: c, incident: incident('unknown') }).verdict).toBe('execute');
  });
  it.each([
    ['transient.network', 'RERUN', 'execute'],
    ['variable.missing', 'SYNC_AND_CERTIFY', 'execute'],
    ['credential.invalid', 'ESCALATE', 'execute'],
    ['secret.missing', 'CREATE_SECRET', 'suggest'],
    ['config.invalid', 'REGENERATE_CONFIG', 'suggest'],
  ] as const)('balanced: %s → %s %s', (kind, action, verdict) => {
    const d = run({ incident: incident(kind), config: config({ default_level: 'balanced' }) });
    expect(d).toMatchObject({ action, verdict });
  });
  it('balanced: ROLLBACK is suggested', () => {
    const s = state({ policy: { version: 3, weights: { ROLLBACK: 1.5 }, history: [] }, predictions: { 'code.failure|ROLLBACK': { successes: 5, failures: 0 } } });
    const d = run({ incident: incident('code.failure'), state: s, config: config() });
    expect(d).toMatchObject({ action: 'ROLLBACK', verdict: 'suggest', suggested_because: 'level', policy_version: 3 });
  });
  it('full → execute; the environment picks the level', () => {
    const c = config({ default_level: 'full', environments: { prod: { level: 'suggest' } } });
    expect(run({ config: c }).verdict).toBe('execute');
    expect(run({ config: c, environment: 'prod' })).toMatchObject({ verdict: 'suggest', autonomy_level: 'suggest', environment: 'prod' });
    expect(run({ config: c, incident: incident('secret.missing', { environment: 'prod' }) }).verdict).toBe('suggest');
  });
});

describe('secrets: forks, Dependabot, credentials, confidence', () => {
  it('never CREATE_SECRET for a fork run → ESCALATE with the reason', () => {
    const d = run({ incident: incident('secret.missing', { run: { id: 1, attempt: 1, from_fork: true, pull_requests: [] } }) });
    expect(d).toMatchObject({ action: 'ESCALATE', steps: ['ESCALATE'], verdict: 'execute' });
    expect(d.reason).toContain('forks get no secrets by design');
  });
  it.each(['dependabot[bot]', 'Dependabot[bot]', 'dependabot-preview[bot]'])('never CREATE_SECRET for %s', (actor) => {
    const d = run({ incident: incident('secret.missing', { run: { id: 1, attempt: 1, from_fork: false, actor, pull_requests: [] } }) });
    expect(d.steps).toEqual(['ESCALATE']);
    expect(d.reason).toContain('Dependabot runs get no secrets by design');
  });
  it('secret.missing that names no secret escalates: there is nothing to create', () => {
    for (const target of [null, { type: 'step' as const, name: 'Deploy' }]) {
      const d = run({ incident: incident('secret.missing', { target }) });
      expect(d.steps).toEqual(['ESCALATE']);
      expect(d.reason).toContain('does not name the missing secret');
    }
  });
  it('credential.invalid only escalates, whatever the state says', () => {
    const s = state({ ema: { CREATE_SECRET: 1 }, policy: { version: 9, weights: { CREATE_SECRET: 2, ESCALATE: 0.2 }, history: [] } });
    const d = run({ incident: incident('credential.invalid'), state: s });
    expect(d.steps).toEqual(['ESCALATE']);
    expect(d.candidates.map((x) => x.action)).toEqual(['ESCALATE']);
  });
  it('secret.missing below confidence 0.6 is suggested, at 0.6 executed', () => {
    const d = run({ incident: incident('secret.missing', { confidence: 0.59 }) });
    expect(d).toMatchObject({ verdict: 'suggest', suggested_because: 'confidence', action: 'CREATE_SECRET' });
    expect(d.reason).toContain('confidence 0.59 < 0.6');
    expect(run({ incident: incident('secret.missing', { confidence: 0.6 }) }).verdict).toBe('execute');
  });
});

describe('Blueprint policy', () => {
  it('adaptive: a judged outcome moves the weight and bumps the version with a reason', () => {
    const c = full();
    let s = recordAction(emptyGovernorState(), run(), { at: T0, runId: 1, runAttempt: 1, certificateHash: null });
    const r = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'success' }, c);
    expect(r.policyChanged).toBe(true);
    expect(r.state.policy.version).toBe(2);
    expect(r.state.policy.weights.CREATE_SECRET).toBe(1.05);
    expect(r.state.policy.history).toEqual([
      { version: 2, at: at(MIN).toISOString(), reason: 'run 1 success after CREATE_SECRET: CREATE_SECRET weight 1.00 → 1.05', weights: { CREATE_SECRET: 1.05 } },
    ]);
    s = r.state;
    const d = run({ state: s, now: at(31 * MIN) });
    expect(d.policy_version).toBe(2);
    expect(d.blueprint_mode).toBe('adaptive');
    expect(d.candidates[0]).toMatchObject({ weight: 1.05, score: expect.closeTo(1.05 * 0.55, 12) });
    expect(d.reason).toContain('score 0.58 = weight 1.05 × (EMA 0.55 − cooldown 0.00)');
  });
  it('failures step −0.10, approvals +0.10, rejections −0.20; clamped to [0.2, 2] without a bump at the bound', () => {
    const c = full();
    let s = recordHumanFeedback(emptyGovernorState(), { action: 'RERUN', approved: false, at: T0 }, c);
    expect(s.policy).toMatchObject({ version: 2, weights: { RERUN: 0.8 } });
    s = recordHumanFeedback(s, { action: 'RERUN', approved: true, at: T0 }, c);
    expect(s.policy).toMatchObject({ version: 3, weights: { RERUN: 0.9 } });
    for (let i = 0; i < 10; i++) s = recordHumanFeedback(s, { action: 'RERUN', approved: false, at: T0 }, c);
    expect(s.policy.weights.RERUN).toBe(0.2);
    const v = s.policy.version;
    expect(recordHumanFeedback(s, { action: 'RERUN', approved: false, at: T0 }, c)).toBe(s);
    expect(v).toBe(7); // 0.9 → 0.7 → 0.5 → 0.3 → 0.2, then no more changes
    let t = recordAction(emptyGovernorState(), run(), { at: T0, runId: 1, runAttempt: 1, certificateHash: null });
    t = recordOutcome(t, { at: at(MIN), runId: 1, conclusion: 'failure', approvalSignal: 'rejected' }, c).state;
    expect(t.policy.weights.CREATE_SECRET).toBe(0.7);
    expect(t.policy.version).toBe(3);
  });
  it('human approvals lift ROLLBACK above ESCALATE for code.failure', () => {
    const c = full();
    expect(run({ incident: incident('code.failure'), config: c }).action).toBe('ESCALATE'); // tie → ESCALATE first
    const s = recordHumanFeedback(emptyGovernorState(), { action: 'ROLLBACK', approved: true, at: T0 }, c);
    const d = run({ incident: incident('code.failure'), state: s, config: c });
    // ROLLBACK now scores 0.55 > 0.50 but its prediction (Beta(1,3) = 0.25) keeps it a suggestion.
    expect(d).toMatchObject({ action: 'ROLLBACK', verdict: 'suggest', suggested_because: 'prediction' });
  });
  it('history is bounded to the last 50 versions', () => {
    const c = full();
    let s = emptyGovernorState();
    for (let i = 0; i < 80; i++) s = recordHumanFeedback(s, { action: 'RERUN', approved: i % 2 === 0, at: at(i) }, c);
    expect(s.policy.version).toBe(81);
    expect(s.policy.history).toHaveLength(POLICY_HISTORY_MAX);
    expect(s.policy.history[0]?.version).toBe(32);
  });
  it('predictive: weights are neither learned nor applied; predicted success orders the candidates', () => {
    const c = full({ blueprint: { mode: 'predictive' } });
    expect(recordHumanFeedback(emptyGovernorState(), { action: 'RERUN', approved: true, at: T0 }, c).policy.version).toBe(1);
    let s = recordAction(emptyGovernorState(), run({ config: c }), { at: T0, runId: 1, runAttempt: 1, certificateHash: null });
    const r = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'success' }, c);
    expect(r.policyChanged).toBe(false);
    expect(r.state.policy.version).toBe(1);
    s = state({
      ema: { ESCALATE: 0.9, ROLLBACK: 0.3 },
      policy: { version: 4, weights: { ROLLBACK: 0.2 }, history: [] },
      predictions: { 'code.failure|ROLLBACK': { successes: 20, failures: 0 } },
    });
    const d = run({ incident: incident('code.failure'), state: s, config: c });
    expect(d.candidates.map((x) => [x.action, x.weight])).toEqual([['ROLLBACK', 1], ['ESCALATE', 1]]);
    expect(d).toMatchObject({ action: 'ROLLBACK', blueprint_mode: 'predictive', policy_version: 4 });
    expect(d.reason).toContain('predictive: ranked by predicted success');
    expect(run({ incident: incident('code.failure'), state: s, config: full() }).action).toBe('ESCALATE');
  });
});

describe('decision shape and bounded state', () => {
  it('every decision explains itself with the numbers and is stamped with now', () => {
    const s = state({ predictions: { 'secret.missing|CREATE_SECRET': { successes: 2, failures: 0 } } });
    const d = run({ state: s });
    expect(d.reason).toBe(
      'CREATE_SECRET DEPLOY_TOKEN → RERUN: score 0.50 = EMA 0.50 − cooldown 0.00; predicted success 0.67 ' +
        '(2 successes, 0 failures, prior Beta(2,2)); level full → execute',
    );
    expect(d.decided_at).toBe(T0.toISOString());
    expect(d).toMatchObject({ cooldown_key: ckey('secret.missing', 'CREATE_SECRET'), target_key: tKey(), incident_fingerprint: 'fp-secret.missing', policy_version: 1 });
  });
  it('recordAction ignores NOOP and never mutates its input', () => {
    const s = emptyGovernorState();
    expect(recordAction(s, run({ state: { ...s, halted: true } }), { at: T0, runId: 1, runAttempt: 1, certificateHash: null })).toBe(s);
    const frozen = JSON.stringify(s);
    const next = recordAction(s, run(), { at: T0, runId: 1, runAttempt: 1, certificateHash: 'abc' });
    expect(JSON.stringify(s)).toBe(frozen);
    expect(next.actions).toHaveLength(1);
    expect(next.last_certificate_hash).toBe('abc');
  });
  it('keeps the last 200 actions plus everything from the last 24 h', () => {
    const old = Array.from({ length: 250 }, (_, i) => record({ at: at(-48 * 60 * MIN + i * 1000).toISOString() }));
    const recent = Array.from({ length: 30 }, (_, i) => record({ at: at(-60 * MIN + i * 1000).toISOString() }));
    const s = recordAction(state({ actions: [...old, ...recent] }), run({ incident: incident('unknown') }), { at: T0, runId: 1, runAttempt: 1, certificateHash: null });
    expect(s.actions).toHaveLength(ACTIONS_KEEP);
    expect(s.actions[s.actions.length - 1]?.action).toBe('ESCALATE');
    const many = Array.from({ length: 300 }, (_, i) => record({ at: at(-20 * 60 * MIN + i * 1000).toISOString() }));
    expect(recordAction(state({ actions: many }), run(), { at: T0, runId: 1, runAttempt: 1, certificateHash: null }).actions).toHaveLength(301);
  });
  it('ema_history keeps the last 500 entries', () => {
    const c = full({ cooldowns: { default_minutes: 0 } });
    let s = state({ ema_history: Array.from({ length: EMA_HISTORY_MAX }, (_, i) => ({ at: at(-i).toISOString(), action: 'RERUN' as const, ema: 0.5 })) });
    s = recordAction(s, run({ config: c }), { at: T0, runId: 1, runAttempt: 1, certificateHash: null });
    s = recordOutcome(s, { at: at(MIN), runId: 1, conclusion: 'success' }, c).state;
    expect(s.ema_history).toHaveLength(EMA_HISTORY_MAX);
    expect(s.ema_history[EMA_HISTORY_MAX - 1]).toMatchObject({ action: 'CREATE_SECRET' });
  });
  it('timestamps with offsets compare like canonical ones', () => {
    // 13:00:00+01:00 is 12:00:00Z: one minute before T0 + 1 min, inside the window and the cooldown.
    const s = state({ actions: [record({ at: '2025-03-01T13:00:00+01:00', action: 'CREATE_SECRET', cooldown_key: ckey('secret.missing', 'CREATE_SECRET') })] });
    expect(run({ state: s, now: at(MIN) }).guardrail).toBe('cooldown');
    expect(run({ state: s, now: at(30 * MIN) }).guardrail).toBeNull();
  });
});

describe('time helpers', () => {
  it('isoHourBefore equals formatting now − 1 h, every hour of a day and across a year boundary', async () => {
    const { isoHourBefore } = await import('../../src/core/governor/time.js');
    for (const start of [Date.parse('2025-03-01T00:00:00.000Z'), Date.parse('2024-12-31T23:59:59.999Z'), Date.parse('2025-01-01T00:30:00.123Z')]) {
      for (let h = 0; h < 25; h++) {
        const ms = start + h * 3_600_000 + h * 61_001;
        expect(isoHourBefore(new Date(ms).toISOString(), ms)).toBe(new Date(ms - 3_600_000).toISOString());
      }
    }
  });
});
