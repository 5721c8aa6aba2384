/** Failure kinds a drill seeds (sandbox scenarios) and what Living Bridge should do with each. */
export const DRILL_KINDS = ['missing-secret', 'flaky-network', 'wrong-credential', 'broken-code', 'observe-level'] as const;
export type DrillKind = (typeof DRILL_KINDS)[number];

/** heal: fixed without a human; escalate: a human is asked (issue); hold: observe level, nothing may be written. */
export const EXPECTED: Record<DrillKind, 'heal' | 'escalate' | 'hold'> = {
  'missing-secret': 'heal',
  'flaky-network': 'heal',
  'wrong-credential': 'escalate',
  'broken-code': 'escalate',
  'observe-level': 'hold',
};

export interface DrillOptions {
  /** Failures of each kind. */
  failures: number;
  /** Repositories per healing kind (failures there come one after another). */
  repos: number;
  kinds: DrillKind[];
  /** Share of sandbox API requests that fail (0..1). */
  faultRate: number;
  seed: number;
  /** App kills (SIGKILL, then a restart) at random moments. */
  kills: number;
  intake: 'embedded' | 'redis';
  redisUrl: string;
  sweepSeconds: number;
  timeoutSeconds: number;
  /** Append the App's log (every restart) to this file, at this pino level (default warn). */
  appLog?: { path: string; level?: string };
}

export type Outcome = 'pending' | 'healed' | 'escalated' | 'held' | 'dead' | 'lost' | 'silent';

export interface FailureRecord {
  kind: DrillKind;
  repo: string;
  runId: number;
  triggeredAt: number;
  /** Sandbox effects before this failure (its window starts after). */
  effectsFrom: number;
  settledAt: number | null;
  outcome: Outcome;
}
