import { beforeAll } from '@jest/globals';
import fc from 'fast-check';
import { createSigner, generateSigningKey } from '../../src/core/certificate/index.js';
import { signGrant } from '../../src/core/grants/index.js';
import {
  RATE_WINDOW_MS,
  authorize,
  cooldownKey,
  decide,
  escalationFor,
  firstUnmet,
  levelFor,
  propose,
  recordAction,
  recordOutcome,
  targetKey,
  type DecideInput,
  type GrantSet,
  type PreconditionCheck,
} from '../../src/core/governor/index.js';
import { levelForResolution, type EnvironmentResolution } from '../../src/core/governor/environment.js';
import {
  ACTING_KINDS,
  AUTONOMY_LEVELS,
  Decision,
  EnvironmentFile,
  GovernorState,
  INCIDENT_KINDS,
  Incident,
  RepoConfig,
  emptyGovernorState,
  type ActionKind,
  type ActionRecord,
  type Grant,
  type IncidentKind,
} from '../../src/core/schemas/index.js';

const REPO = 'acme/web';
const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

const kindArb = fc.constantFrom(...INCIDENT_KINDS);
const envArb = fc.option(fc.constantFrom('prod', 'staging'), { nil: undefined });
const fingerprintArb = fc.constantFrom('fpA', 'fpB', 'fpC');
const targetArb = fc.option(
  fc.record({ type: fc.constantFrom('secret' as const, 'variable' as const, 'host' as const), name: fc.constantFrom('DEPLOY_TOKEN', 'API_URL') }),
  { nil: null },
);
const runArb = fc.option(
  fc.record({
    id: fc.integer({ min: 1, max: 5 }),
    attempt: fc.integer({ min: 1, max: 5 }),
    from_fork: fc.boolean(),
    actor: fc.option(fc.constantFrom('dependabot[bot]', 'alice', 'dependabot-preview[bot]'), { nil: undefined }),
    pull_requests: fc.constant([] as number[]),
  }),
  { nil: undefined },
);

const incidentArb = (kind: fc.Arbitrary<IncidentKind> = kindArb): fc.Arbitrary<Incident> =>
  fc
    .record({
      kind,
      target: targetArb,
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      fingerprint: fingerprintArb,
      summary: fc.constantFrom('deploy failed', 'ETIMEDOUT fetching registry', 'no matching version'),
      environment: envArb,
      run: runArb,
    })
    .map((i) => Incident.parse({ ...i, evidence: [], repo: { owner: 'acme', repo: 'web' } }));

const minutesArb = fc.integer({ min: 0, max: 90 });
const configArb: fc.Arbitrary<RepoConfig> = fc
  .record({
    enabled: fc.boolean(),
    default_level: fc.constantFrom(...AUTONOMY_LEVELS),
    prodLevel: fc.constantFrom(...AUTONOMY_LEVELS),
    default_minutes: minutesArb,
    rerunMinutes: fc.option(minutesArb, { nil: undefined }),
    max_actions_per_hour: fc.integer({ min: 0, max: 12 }),
    max_fail_streak: fc.integer({ min: 1, max: 4 }),
    recurrence_limit: fc.integer({ min: 1, max: 4 }),
    half_open_after_minutes: minutesArb,
    max_rerun_attempts: fc.integer({ min: 1, max: 5 }),
    min_success_probability: fc.double({ min: 0, max: 1, noNaN: true }),
    mode: fc.constantFrom('adaptive' as const, 'predictive' as const),
  })
  .map((c) =>
    RepoConfig.parse({
      enabled: c.enabled,
      default_level: c.default_level,
      environments: { prod: { level: c.prodLevel } },
      cooldowns: { default_minutes: c.default_minutes, per_action: c.rerunMinutes === undefined ? {} : { RERUN: c.rerunMinutes } },
      limits: {
        max_actions_per_hour: c.max_actions_per_hour,
        max_fail_streak: c.max_fail_streak,
        recurrence_limit: c.recurrence_limit,
        half_open_after_minutes: c.half_open_after_minutes,
        max_rerun_attempts: c.max_rerun_attempts,
      },
      prediction: { min_success_probability: c.min_success_probability },
      blueprint: { mode: c.mode },
    }),
  );

const actingArb = fc.constantFrom(...(ACTING_KINDS as ActionKind[]));
const targetKeys = ['secret:DEPLOY_TOKEN', 'variable:API_URL', 'host:DEPLOY_TOKEN', 'fp:fpA', 'fp:fpB'].map((t) => `${REPO}#${t}`);
const targetKeyArb = fc.constantFrom(...targetKeys);
const isoArb = (fromMs: number, toMs: number): fc.Arbitrary<string> =>
  fc.integer({ min: fromMs, max: toMs }).map((ms) => new Date(ms).toISOString());

const recordArb: fc.Arbitrary<ActionRecord> = fc
  .record({
    at: isoArb(T0 - 30 * HOUR, T0 + HOUR),
    action: actingArb,
    env: fc.option(fc.constantFrom('prod', 'staging'), { nil: null }),
    incident_kind: kindArb,
    incident_fingerprint: fingerprintArb,
    target_key: targetKeyArb,
    run_id: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    outcome: fc.constantFrom(null, 'success' as const, 'failure' as const),
  })
  .map(({ env, ...r }) => ({
    ...r,
    cooldown_key: cooldownKey(REPO, env, r.incident_kind, r.action),
    run_attempt: r.run_id === null ? null : 1,
    certificate_hash: null,
  }));

const stateArb: fc.Arbitrary<GovernorState> = fc
  .record({
    halted: fc.boolean(),
    ema: fc.dictionary(actingArb, fc.double({ min: 0, max: 1, noNaN: true }), { maxKeys: 4 }),
    version: fc.integer({ min: 1, max: 30 }),
    weights: fc.dictionary(actingArb, fc.double({ min: 0.2, max: 2, noNaN: true }), { maxKeys: 4 }),
    predictions: fc.dictionary(
      fc.tuple(kindArb, actingArb).map(([k, a]) => `${k}|${a}`),
      fc.record({ successes: fc.nat(20), failures: fc.nat(20) }),
      { maxKeys: 6 },
    ),
    fail_streaks: fc.dictionary(targetKeyArb, fc.nat(5), { maxKeys: 3 }),
    recurrences: fc.dictionary(fingerprintArb, fc.nat(4), { maxKeys: 2 }),
    escalations: fc.dictionary(targetKeyArb, fc.record({ at: isoArb(T0 - 4 * HOUR, T0 + HOUR), probe_used: fc.boolean() }), { maxKeys: 2 }),
    actions: fc.array(recordArb, { maxLength: 40 }),
  })
  .map((s) =>
    GovernorState.parse({
      ...s,
      halted_reason: s.halted ? 'drill' : null,
      policy: { version: s.version, weights: s.weights, history: [] },
    }),
  );

const nowArb = fc.integer({ min: T0, max: T0 + 3 * HOUR }).map((ms) => new Date(ms));

const inputArb: fc.Arbitrary<DecideInput> = fc
  .record({
    incident: incidentArb(),
    state: stateArb,
    config: configArb,
    now: nowArb,
    environment: envArb,
    autonomyEnabled: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((i) => ({ ...i, repository: REPO }));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const NUM_RUNS = 300;

describe('Governor properties', () => {
  it('every decision is a valid Decision, consistent with its verdict', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decide(input);
        expect(Decision.safeParse(d).success).toBe(true);
        expect(d.decided_at).toBe(input.now.toISOString());
        expect(d.reason.length).toBeGreaterThan(0);
        if (d.verdict === 'noop') {
          expect(d.action).toBe('NOOP');
          expect(d.steps).toEqual([]);
        } else {
          expect(d.action).not.toBe('NOOP');
          expect(d.steps[0]).toBe(d.action);
        }
        for (const c of d.candidates) expect(c.score).toBeCloseTo(c.weight * (c.ema - c.cooldown_penalty), 12);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('while halted, nothing but NOOP(halted)', () => {
    const haltedArb = fc
      .tuple(inputArb, fc.constantFrom('state', 'config', 'door'))
      .map(([i, how]) =>
        how === 'state'
          ? { ...i, state: { ...i.state, halted: true } }
          : how === 'config'
            ? { ...i, config: { ...i.config, enabled: false } }
            : { ...i, autonomyEnabled: false },
      );
    fc.assert(
      fc.property(haltedArb, (input) => {
        const d = decide(input);
        expect(d).toMatchObject({ verdict: 'noop', action: 'NOOP', steps: [], guardrail: 'halted' });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never CREATE_SECRET for credential.invalid, another kind, a fork or Dependabot', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decide(input);
        const run = input.incident.run;
        const secretless = run?.from_fork === true || /^dependabot/i.test(run?.actor ?? '');
        if (input.incident.kind !== 'secret.missing' || secretless) {
          expect(d.steps).not.toContain('CREATE_SECRET');
          expect(d.proposed_steps ?? []).not.toContain('CREATE_SECRET');
          expect(d.candidates.map((c) => c.action)).not.toContain('CREATE_SECRET');
        }
      }),
      { numRuns: NUM_RUNS },
    );
    fc.assert(
      fc.property(inputArb, incidentArb(fc.constant('credential.invalid')), (input, incident) => {
        const d = decide({ ...input, incident });
        expect(d.steps).not.toContain('CREATE_SECRET');
        expect(['ESCALATE', 'NOOP']).toContain(d.action);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decide() is deterministic and never mutates its input', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const before = structuredClone(input);
        const frozen = deepFreeze(structuredClone(input));
        const a = decide(frozen); // a write to frozen input would throw
        const b = decide(input);
        expect(b).toEqual(a);
        expect(input).toEqual(before);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a log decided on again (answered by its index) gives the same decisions as a fresh scan', () => {
    // Stored timestamps in other spellings (offsets, no milliseconds, garbage) must index like the scan reads them.
    const respell = (at: string, how: number): string =>
      how === 1 ? at.replace('.000Z', 'Z') : how === 2 ? new Date(Date.parse(at) + HOUR).toISOString().replace('Z', '+01:00') : how === 3 ? 'not a time' : at;
    fc.assert(
      fc.property(inputArb, fc.array(incidentArb(), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(5), { maxLength: 40 }), fc.array(fc.integer({ min: -3, max: 14 }), { maxLength: 40 }), (input, more, spellings, steps) => {
        // Half the records moved around `now` (10-minute steps), where window edges and cooldowns bite.
        const near = (at: string, i: number): string => (i % 2 ? at : new Date(input.now.getTime() - (steps[i] ?? 0) * 10 * MIN).toISOString());
        // A third keyed like this incident, so cooldown keys repeat and "latest" matters.
        const env = input.environment ?? input.incident.environment;
        const keyed = (a: ActionRecord, i: number): ActionRecord =>
          i % 3 ? a : { ...a, incident_kind: input.incident.kind, cooldown_key: cooldownKey(REPO, env, input.incident.kind, a.action) };
        const actions = input.state.actions.map((a, i) => ({ ...keyed(a, i), at: respell(near(a.at, i), spellings[i] ?? 0) }));
        const state = { ...input.state, actions };
        decide({ ...input, state }); // first decision on this log: a scan
        for (const incident of [input.incident, ...more]) {
          const indexed = decide({ ...input, state, incident });
          const scanned = decide({ ...input, state: { ...state, actions: [...actions] }, incident });
          expect(indexed).toEqual(scanned);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('recordAction and recordOutcome never mutate their input', () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom('success' as const, 'failure' as const, 'neutral' as const), (input, conclusion) => {
        const d = decide(input);
        const state = deepFreeze(structuredClone(input.state));
        const config = deepFreeze(structuredClone(input.config));
        const next = recordAction(state, deepFreeze(d), { at: input.now, runId: input.incident.run?.id ?? null, runAttempt: 1, certificateHash: null });
        const r = recordOutcome(deepFreeze(next), { at: new Date(input.now.getTime() + MIN), runId: input.incident.run?.id ?? 1, conclusion, incidentFingerprintNow: input.incident.fingerprint }, config);
        expect(GovernorState.safeParse(r.state).success).toBe(true);
        expect(r.state.policy.history.length).toBeLessThanOrEqual(50);
        for (const w of Object.values(r.state.policy.weights)) {
          expect(w).toBeGreaterThanOrEqual(0.2);
          expect(w).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never more than max_actions_per_hour actions in any hour, decisions applied in sequence', () => {
    const stepArb = fc.record({
      dt: fc.integer({ min: 0, max: 20 * MIN }),
      incident: incidentArb(),
      conclusion: fc.option(fc.constantFrom('success' as const, 'failure' as const), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom('adaptive' as const, 'predictive' as const),
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        (max, cooldown, mode, steps) => {
          const config = RepoConfig.parse({
            default_level: 'full',
            cooldowns: { default_minutes: cooldown },
            limits: { max_actions_per_hour: max, max_fail_streak: 100, recurrence_limit: 100 },
            prediction: { min_success_probability: 0 },
            blueprint: { mode },
          });
          let state = emptyGovernorState();
          let now = T0;
          const acted: number[] = [];
          steps.forEach((step, i) => {
            now += step.dt;
            const d = decide({ incident: step.incident, state, config, now: new Date(now), repository: REPO });
            // Suggestions are approved at once: the rate limit must hold for them too.
            if (d.action !== 'NOOP') {
              state = recordAction(state, d, { at: new Date(now), runId: 1000 + i, runAttempt: 1, certificateHash: null });
              if (d.action !== 'ESCALATE') acted.push(now);
            }
            if (step.conclusion) state = recordOutcome(state, { at: new Date(now), runId: 1000 + i, conclusion: step.conclusion }, config).state;
          });
          for (const t of acted) {
            const inWindow = acted.filter((x) => x > t - RATE_WINDOW_MS && x <= t).length;
            expect(inWindow).toBeLessThanOrEqual(max);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a target over its fail streak with a closed circuit only escalates (or stays silent)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const tKey = targetKey(input.repository, input.incident);
        const state = {
          ...input.state,
          escalations: Object.fromEntries(Object.entries(input.state.escalations).filter(([k]) => k !== tKey)),
          fail_streaks: { ...input.state.fail_streaks, [tKey]: input.config.limits.max_fail_streak },
        };
        const d = decide({ ...input, state });
        expect(['ESCALATE', 'NOOP']).toContain(d.action);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('Governor safety invariants (issue #10)', () => {
  const RANK: Record<string, number> = { observe: 0, suggest: 1, balanced: 2, full: 3 };
  const resolutionArb: fc.Arbitrary<EnvironmentResolution> = fc.oneof(
    fc.subarray(['prod', 'staging', 'qa', 'production']).map((names) => ({ names, source: names.length ? ('workflow' as const) : ('none' as const), detail: 'generated' })),
    fc.constant<EnvironmentResolution>({ names: [], source: 'unresolved', detail: 'generated' }),
  );

  it('never acts above the resolved level (unresolved = the strictest declared level)', () => {
    fc.assert(
      fc.property(inputArb, resolutionArb, (input, resolution) => {
        const level = levelForResolution(input.config, resolution);
        if (resolution.source === 'unresolved') {
          for (const e of Object.values(input.config.environments)) expect(RANK[level]!).toBeLessThanOrEqual(RANK[e.level]!);
        }
        for (const name of resolution.names) expect(RANK[level]!).toBeLessThanOrEqual(RANK[levelFor(input.config, name)]!);
        if (resolution.names.includes('production') && !input.config.environments.production) expect(RANK[level]!).toBeLessThanOrEqual(RANK.suggest!);
        const d = decide({ ...input, environment: resolution.names.join(',') || undefined, level });
        expect(d.autonomy_level).toBe(level);
        if (d.verdict !== 'execute') return;
        if (level === 'observe') throw new Error('executed at observe');
        if (level === 'suggest') expect(d.steps).toEqual(['ESCALATE']);
        if (level === 'balanced') expect(['RERUN', 'SYNC_AND_CERTIFY', 'ESCALATE']).toContain(d.action);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never acts on a target whose circuit is open (escalated, within the half-open cool-off)', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 59 }), (input, minutesAgo) => {
        const key = targetKey(input.repository, input.incident);
        const config = { ...input.config, limits: { ...input.config.limits, half_open_after_minutes: 60 } };
        const at = new Date(input.now.getTime() - minutesAgo * MIN).toISOString();
        const state = { ...input.state, escalations: { ...input.state.escalations, [key]: { at, probe_used: false } } };
        const d = decide({ ...input, config, state });
        expect(d.verdict).toBe('noop');
        expect(d.steps).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('Preconditions and refusals (issue #10 items 2 and 3)', () => {
  const NOW_GRANTS: { all: Grant[] } = { all: [] };
  let trustedKeys: Record<string, string> = {};
  beforeAll(async () => {
    const signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(77))).secretKey);
    trustedKeys = { [signer.keyid]: signer.publicKey };
    // One break-glass grant covering everything: grants may lift any decision, and still never past a precondition.
    NOW_GRANTS.all = [
      await signGrant(
        { id: 'g-all', repository: REPO, actions: [...ACTING_KINDS], environments: ['*'], targets: ['*'], not_before: new Date(T0 - HOUR).toISOString(), expires_at: new Date(T0 + 3 * HOUR).toISOString(), issued_by: 'ops', reason: 'property test', break_glass: true },
        signer,
      ),
    ];
  });

  const sourceArb = fc.constantFrom(undefined, { source: 'generate' as const }, { source: 'from_env' as const, env: 'LB_SOURCE_TOKEN' }, { source: 'external' as const });
  const envFileArb = fc.option(
    fc.record({ declaresVariable: fc.boolean(), secret: sourceArb }).map(({ declaresVariable, secret }) =>
      EnvironmentFile.parse({ repository: { variables: declaresVariable ? { API_URL: 'https://api.example.com' } : {}, secrets: secret ? { DEPLOY_TOKEN: secret } : {} } }),
    ),
    { nil: null },
  );
  const factsArb = fc.record({
    envFile: envFileArb,
    configSecret: sourceArb,
    fromEnvAllowed: fc.boolean(),
    failedJobs: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }),
    maxFailedJobs: fc.integer({ min: 1, max: 8 }),
    withGrants: fc.boolean(),
  });

  it('never proposes a step whose precondition is unmet (it escalates with what would make it possible)', () => {
    fc.assert(
      fc.property(inputArb, factsArb, (input, f) => {
        const config = RepoConfig.parse({
          ...input.config,
          secrets: f.configSecret ? { DEPLOY_TOKEN: f.configSecret } : {},
          limits: { ...input.config.limits, max_failed_jobs_for_rerun: f.maxFailedJobs },
        });
        const run = input.incident.run;
        const check: PreconditionCheck = {
          incident: input.incident,
          config,
          facts: {
            environment: input.environment,
            envFile: f.envFile,
            run: run ? { id: run.id, run_attempt: run.attempt, workflow_id: 1, head_branch: 'main' } : null,
            failedJobs: run ? f.failedJobs : null,
            fromEnvRefusal: (name) => (f.fromEnvAllowed ? null : `${name} is not in LIVING_BRIDGE_FROM_ENV_ALLOW`),
          },
        };
        const proposal = propose({ ...input, config });
        const grants: GrantSet = { grants: f.withGrants ? NOW_GRANTS.all : null, trustedKeys, revokedIds: [], uses: {}, repository: REPO, environment: input.environment, halted: input.state.halted, haltedReason: input.state.halted_reason };
        const level = proposal.decision.autonomy_level ?? 'suggest';
        const { decision } = authorize(proposal, grants, level, input.now, check);
        expect(Decision.safeParse(decision).success).toBe(true);
        if (decision.verdict !== 'noop') expect(firstUnmet(decision.steps, input.incident, config, check.facts)).toBeNull();
        const unmet = proposal.decision.verdict !== 'noop' ? firstUnmet(proposal.decision.steps, input.incident, config, check.facts) : null;
        if (unmet) {
          expect(decision).toMatchObject({ verdict: 'execute', steps: ['ESCALATE'], guardrail: 'precondition', unmet });
          expect(unmet.instruction.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a refused step or an unmet precondition counts toward the fail streak and opens the circuit', () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...(ACTING_KINDS.filter((a) => a !== 'ESCALATE') as ActionKind[])), fc.boolean(), (input, step, viaPrecondition) => {
        const config = { ...input.config, enabled: true, limits: { ...input.config.limits, half_open_after_minutes: 30 } };
        const state = { ...input.state, halted: false, escalations: {}, actions: [] }; // no earlier heal to count as a recurrence
        const base = decide({ ...input, config, state, autonomyEnabled: true });
        const key = targetKey(REPO, input.incident);
        const decision = viaPrecondition
          ? escalationFor({ ...base, steps: [step], action: step, verdict: 'execute' }, { step, reason: 'generated', instruction: 'do the thing' })
          : { ...base, steps: [step], action: step, verdict: 'execute' as const, target_key: key };
        const info = { at: input.now, runId: 3, runAttempt: 1, certificateHash: null, ...(viaPrecondition ? {} : { refused: { step, escalated: true } }) };
        const after = recordAction(state, decision, info);
        expect(after.fail_streaks[key]).toBe((state.fail_streaks[key] ?? 0) + 1);
        expect(after.escalations[key]).toEqual({ at: input.now.toISOString(), probe_used: false });
        if (!viaPrecondition) expect(after.actions.at(-1)?.outcome).toBe('failure');
        // The next failure of the same target within the cool-off does nothing at all.
        const next = decide({ ...input, config, state: after, now: new Date(input.now.getTime() + 10 * MIN), autonomyEnabled: true });
        expect(next).toMatchObject({ verdict: 'noop', guardrail: 'half_open', steps: [] });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
