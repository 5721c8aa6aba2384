/**
 * The typed state of one heal, as the stages of `heal()` fill it in (src/pipeline/heal.ts):
 * load config → gather evidence → learn from the last outcome → decide → authorize → act →
 * certify and record → announce. Each stage takes the state so far and returns the next one, or
 * `Finished` when the heal ends there (a noop, a suggestion, a dry run, a run that needs no heal).
 */
import type { EnvironmentResolution } from '../../core/governor/environment.js';
import type { Proposal } from '../../core/governor/index.js';
import type { AutonomyLevel, Decision, EnvironmentFile, HealJob, HealRequest, Incident, RepoConfig, RepoRef } from '../../core/schemas/index.js';
import type { Ledger, LedgerSnapshot } from '../../ledger/types.js';
import type { WorkflowRun } from '../../ports/index.js';
import type { HealResult, PipelineContext } from '../context.js';
import type { StepJournal } from '../resume.js';

/** A heal that ends at this stage, with its result. */
export interface Finished {
  finished: HealResult;
}

export const isFinished = (s: object): s is Finished => 'finished' in s;

/** Stage 1, load config: the repository's declarations, its ledger and the job's intent journal. */
export interface Loaded {
  ctx: PipelineContext;
  job: HealJob;
  request: HealRequest;
  repository: string;
  repo: RepoRef;
  config: RepoConfig;
  envFile: EnvironmentFile | null;
  ledger: Ledger;
  journal: StepJournal;
}

/** Stage 2, gather evidence: the failed run, what its jobs' logs show, and its environment(s). */
export interface Evidenced extends Loaded {
  run: WorkflowRun | null;
  /** How many jobs of the run failed (null without a run). */
  failedJobs: number | null;
  incidents: Incident[];
  resolution: EnvironmentResolution;
  /** The environment label of the incident and the decision (several names joined). */
  environmentName: string | undefined;
  /** The one environment a step acts in (environment-scoped secrets): only when exactly one is resolved. */
  environment: string | undefined;
  level: AutonomyLevel;
  /** How the environment was resolved, in one line. */
  environmentResolution: string;
}

/** Stage 3, learn: the ledger as of now, with the last action's outcome judged and the classifier's memory applied. */
export interface Learned extends Evidenced {
  snapshot: LedgerSnapshot;
  incidents: Incident[];
  /** The incident the heal acts on. */
  incident: Incident;
}

/** Stage 4, decide: the Governor's proposal. */
export interface Decided extends Learned {
  proposal: Proposal;
}

/** Stage 5, authorize: the decision as it stands after grants, and the grant that lifted it. */
export interface Authorized extends Learned {
  decision: Decision;
  grantId: string | null;
}
