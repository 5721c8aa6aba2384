/**
 * decide() throughput on a realistic state, against baselines measured in the same run.
 *   node --import tsx bench/decide.ts [--ms=1000] [--rounds=5] [--warmup-ms=500]
 * Prints one JSON object. Not a test: numbers depend on the machine; the ratios travel better.
 */
import { cpus, loadavg } from 'node:os';
import { cooldownKey, decide, targetKey } from '../src/core/governor/index.js';
import {
  GovernorState,
  Incident,
  RepoConfig,
  type ActionKind,
  type ActionRecord,
  type IncidentKind,
} from '../src/core/schemas/index.js';

const arg = (name: string, dflt: number): number => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : dflt;
};
const MS_PER_ROUND = arg('ms', 1000);
const ROUNDS = arg('rounds', 5);
const WARMUP_MS = arg('warmup-ms', 500);

const REPO = 'acme/web';
const NOW = new Date('2025-03-01T12:00:00.000Z');
const MIN = 60_000;

const kinds: IncidentKind[] = ['secret.missing', 'variable.missing', 'transient.network', 'resource.exhausted', 'code.failure'];
const leads: Record<string, ActionKind> = {
  'secret.missing': 'CREATE_SECRET',
  'variable.missing': 'SYNC_AND_CERTIFY',
  'transient.network': 'RERUN',
  'resource.exhausted': 'RERUN',
  'code.failure': 'ROLLBACK',
};

const incidents: Incident[] = kinds.map((kind, i) =>
  Incident.parse({
    kind,
    target: kind === 'code.failure' ? null : { type: kind === 'variable.missing' ? 'variable' : 'secret', name: `NAME_${i}` },
    confidence: 0.9,
    fingerprint: `fp-${kind}-${i}`,
    summary: `${kind} while deploying`,
    evidence: [{ line: 12, text: `Error: ${kind} (masked)` }],
    repo: { owner: 'acme', repo: 'web' },
    run: { id: 9000 + i, attempt: 1, workflow_name: 'Build & Deploy', actor: 'alice' },
    environment: i % 2 ? 'prod' : 'staging',
  }),
);

/** 200 actions over the last ~3 days (a few inside the rate window), 10 prediction keys. */
const actions: ActionRecord[] = Array.from({ length: 200 }, (_, i) => {
  const kind = kinds[i % kinds.length] as IncidentKind;
  const action = leads[kind] as ActionKind;
  const inc = incidents[i % incidents.length] as Incident;
  return {
    at: new Date(NOW.getTime() - (200 - i) * 21 * MIN).toISOString(),
    action,
    cooldown_key: cooldownKey(REPO, inc.environment, kind, action),
    incident_kind: kind,
    incident_fingerprint: `old-${i % 17}`,
    target_key: targetKey(REPO, inc),
    run_id: 1000 + i,
    run_attempt: 1,
    certificate_hash: 'a'.repeat(64),
    outcome: i > 195 ? null : i % 3 ? 'success' : 'failure',
  };
});

const predictions = Object.fromEntries(
  kinds.flatMap((k) => [
    [`${k}|${leads[k]}`, { successes: 12, failures: 4 }],
    [`${k}|ESCALATE`, { successes: 3, failures: 1 }],
  ]),
);

const state = GovernorState.parse({
  ema: { CREATE_SECRET: 0.71, SYNC_AND_CERTIFY: 0.8, RERUN: 0.64, ESCALATE: 0.5, ROLLBACK: 0.45 },
  ema_history: Array.from({ length: 500 }, (_, i) => ({ at: actions[i % 200]?.at ?? NOW.toISOString(), action: 'RERUN', ema: 0.6 })),
  policy: {
    version: 17,
    weights: { RERUN: 1.1, CREATE_SECRET: 0.95 },
    history: Array.from({ length: 16 }, (_, i) => ({ version: i + 2, at: NOW.toISOString(), reason: 'bench', weights: { RERUN: 1.1 } })),
  },
  predictions,
  fail_streaks: { [`${REPO}#secret:OTHER`]: 1 },
  actions,
});
const configs = {
  adaptive: RepoConfig.parse({ default_level: 'balanced', environments: { prod: { level: 'full' } } }),
  predictive: RepoConfig.parse({ default_level: 'balanced', blueprint: { mode: 'predictive' } }),
};

const emptyLog = { ...state, actions: [] };
let sink = 0;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Operations per second of `fn`, median over ROUNDS rounds of MS_PER_ROUND (wall clock) each.
 * `ops_per_cpu_sec` divides by the process's CPU time instead: on a shared, loaded machine the wall
 * clock also counts time the process was not scheduled, CPU time does not.
 */
function measure(fn: (i: number) => void): { ops_per_sec: number; ops_per_cpu_sec: number; rounds: number[] } {
  // Warm-up (JIT): up to 100k calls but at most WARMUP_MS, so a slow baseline (structuredClone of
  // the state runs ~1k/s) does not spend minutes warming up.
  const warmEnd = process.hrtime.bigint() + BigInt(WARMUP_MS) * 1_000_000n;
  for (let i = 0; i < 100_000 && (i % 256 !== 0 || process.hrtime.bigint() < warmEnd); i++) fn(i);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const budget = BigInt(MS_PER_ROUND) * 1_000_000n;
    let elapsed = 0n;
    while (elapsed < budget) {
      for (let j = 0; j < 1000; j++) fn(n++);
      elapsed = process.hrtime.bigint() - start;
    }
    const used = process.cpuUsage(cpu0);
    wall.push(Math.round(n / (Number(elapsed) / 1e9)));
    cpu.push(Math.round(n / ((used.user + used.system) / 1e6)));
  }
  return { ops_per_sec: median(wall), ops_per_cpu_sec: median(cpu), rounds: wall };
}

const run = (config: RepoConfig) => (i: number): void => {
  const d = decide({ incident: incidents[i % incidents.length] as Incident, state, config, now: NOW, repository: REPO });
  sink += d.candidates.length;
};

const results = {
  decide_adaptive: measure(run(configs.adaptive)),
  decide_predictive: measure(run(configs.predictive)),
  /**
   * Every decision on a log it has not seen (a fresh array each call, as when a heal loads the
   * state from the ledger): the one-pass scan, no index. The array copy is part of the cost.
   */
  decide_adaptive_fresh_log: measure((i) => {
    const d = decide({ incident: incidents[i % incidents.length] as Incident, state: { ...state, actions: state.actions.slice() }, config: configs.adaptive, now: NOW, repository: REPO });
    sink += d.candidates.length;
  }),
  /** The same decisions with an empty action log: what the 200-record log costs. */
  decide_adaptive_empty_log: measure((i) => {
    const d = decide({ incident: incidents[i % incidents.length] as Incident, state: emptyLog, config: configs.adaptive, now: NOW, repository: REPO });
    sink += d.candidates.length;
  }),
  baseline_structured_clone_state: measure(() => {
    sink += structuredClone(state).actions.length;
  }),
  baseline_json_roundtrip_incident: measure((i) => {
    sink += (JSON.parse(JSON.stringify(incidents[i % incidents.length])) as Incident).evidence.length;
  }),
};

const decideOps = results.decide_adaptive.ops_per_sec;
const decideCpuOps = results.decide_adaptive.ops_per_cpu_sec;
const wallSeconds = +(process.uptime()).toFixed(1);
const report = {
  wall_seconds: wallSeconds,
  bench: 'governor.decide',
  node: process.version,
  state: { actions: state.actions.length, prediction_keys: Object.keys(state.predictions).length, ema_history: state.ema_history.length },
  incidents: incidents.length,
  ms_per_round: MS_PER_ROUND,
  rounds: ROUNDS,
  results,
  goal_ops_per_sec: 100_000,
  meets_goal_wall: decideOps >= 100_000,
  meets_goal_cpu: decideCpuOps >= 100_000,
  load_average_1m: +loadavg()[0]!.toFixed(2),
  cpus: cpus().length,
  ratios: {
    decide_vs_structured_clone_state: +(decideCpuOps / results.baseline_structured_clone_state.ops_per_cpu_sec).toFixed(2),
    decide_vs_json_roundtrip_incident: +(decideCpuOps / results.baseline_json_roundtrip_incident.ops_per_cpu_sec).toFixed(2),
    fresh_log_vs_indexed: +(results.decide_adaptive_fresh_log.ops_per_cpu_sec / decideCpuOps).toFixed(2),
    predictive_vs_adaptive: +(results.decide_predictive.ops_per_cpu_sec / decideCpuOps).toFixed(2),
  },
  sink: sink > 0,
};
console.log(JSON.stringify(report, null, 2));
