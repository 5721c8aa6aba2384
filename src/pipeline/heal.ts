import { decide, recordAction, recordOutcome } from '../core/governor/index.js';
import { authorize, parseGrantFile } from '../core/grants/index.js';
import { canonicalJson, reportHash, sha256Hex, signCertificate } from '../core/certificate/index.js';
import {
  parseRepoFullName,
  type ActionRecord,
  SchemaError,
  type Certificate,
  type Change,
  type Decision,
  type EnvironmentFile,
  type HealJob,
  type Incident,
  type PendingApproval,
  type RepoConfig,
  type RepoRef,
  type SecretSource,
} from '../core/schemas/index.js';
import { executeCreateSecret, missingSourceMessage } from '../engines/create-secret.js';
import { executeEscalate } from '../engines/escalate.js';
import { bridgeKey, fingerprintKey } from '../core/env-plan/index.js';
import { executeRegenerateConfig } from '../engines/regenerate-config.js';
import { executeRerun } from '../engines/rerun.js';
import { executeRollback } from '../engines/rollback.js';
import { dispatchedByLoop, followProposal } from './config-loop.js';
import { REPOSITORY_SCOPE, type Scope, type WorkflowRun } from '../ports/index.js';
import type { LedgerSnapshot } from '../ledger/types.js';
import { anchorCheckpoint, announce, closeHealed, configInvalid, finish } from './heal-announce.js';
import type { EngineReport, HealResult, HealStatus, PipelineContext } from './context.js';
import { gatherEvidence, primaryIncident, runRefOf } from './evidence.js';
import { resolveEnvironment, resolutionNote } from './environment.js';
import { actingEnvironment, environmentLabel, levelForResolution } from '../core/governor/environment.js';
import { learnedIncidents, rememberFailure, rememberSuccess } from './classifier-memory.js';
import { auditEntry } from './audit.js';
import { fingerprintKeyOf } from './fingerprint-key.js';
import { loadEnvironmentFile, loadRepoConfig } from './repo-files.js';
import { DECIDE_STEP, JOB_STEP, StepJournal, intentLedgerPath, reconcileStep, recordable, type DecidedIntent } from './resume.js';
import { syncForIncident } from './sync.js';
import { intentKeyOf } from '../intake/types.js';
import { outcomeEventOf } from './observe.js';
import { safeMessage } from './safe-message.js';

export { safeMessage };

/**
 * Signed grants, as a JSON array, under the ledger root. (Not under `grants/`: the ledger reserves that
 * directory for its own revoked.json and uses.json and refuses other writes there.)
 */
export const GRANTS_FILE = 'grants.json';

/** At `balanced` these steps execute without a grant (core/governor's BALANCED_EXECUTES). */
const BALANCED_EXECUTES: ReadonlySet<Decision['action']> = new Set(['RERUN', 'SYNC_AND_CERTIFY', 'ESCALATE']);

/** A run's conclusion judged as the outcome of the action that preceded it. */
async function learnFromRun(
  ctx: PipelineContext,
  repo: RepoRef,
  repository: string,
  run: WorkflowRun,
  config: RepoConfig,
  incidentFingerprintNow: string | null,
  given?: LedgerSnapshot,
): Promise<{ snapshot: LedgerSnapshot; outcome: { certificate: Certificate; action: ActionRecord } | null }> {
  const snapshot = given ?? (await ctx.ledgerFor(repo, config.ledger.branch).read());
  const pending = snapshot.state.actions.some(
    (a) => a.run_id === run.id && a.outcome === null && (a.run_attempt ?? 0) < run.run_attempt,
  );
  if (!pending || (run.conclusion !== 'success' && run.conclusion !== 'failure')) return { snapshot, outcome: null };
  // What was judged, as of the mutate call that committed (a compare-and-swap retry calls it again).
  let judged: { action: ActionRecord; certificateHash: string; certificate: Certificate } | null = null;
  const committed = await ctx.ledgerFor(repo, config.ledger.branch).commit(
    `outcome: run ${run.id} attempt ${run.run_attempt} ${run.conclusion}`,
    async (snap) => {
      const at = ctx.now();
      const learned = recordOutcome(
        snap.state,
        { at, runId: run.id, conclusion: run.conclusion as 'success' | 'failure', incidentFingerprintNow },
        config,
      );
      judged = null;
      if (!learned.judged) return { state: learned.state };
      const certificate = await signCertificate(
        {
          timestamp: at.toISOString(),
          action: learned.judged.action,
          reason: `next run (attempt ${run.run_attempt}) concluded ${run.conclusion}`,
          targets: [learned.judged.target_key],
          certified: true,
          report_hash: reportHash({ run: run.id, attempt: run.run_attempt, conclusion: run.conclusion }),
          repository,
          run_id: run.id,
          run_attempt: run.run_attempt,
          policy_version: learned.state.policy.version,
          changes: [],
          previous_certificate_hash: snap.lastCertificateHash,
          sequence: snap.certificateCount + 1,
          certificate_type: 'outcome',
          judges_certificate_hash: learned.judged.certificate_hash,
          outcome: run.conclusion as 'success' | 'failure',
          decision: { ema: learned.state.ema, policy_changed: learned.policyChanged },
        },
        ctx.signer,
      );
      judged = { action: learned.judged, certificateHash: certificate.certificate_hash, certificate };
      return {
        state: learned.state,
        certificates: [certificate],
        publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
        audit: [auditEntry(ctx, repository, 'outcome', `run ${run.id} attempt ${run.run_attempt}: ${run.conclusion}`, { certificateHash: certificate.certificate_hash })],
      };
    },
  );
  const outcome = judged as { action: ActionRecord; certificateHash: string; certificate: Certificate } | null;
  if (outcome) {
    ctx.observer?.emit(outcomeEventOf(ctx, repository, run, outcome, committed.snapshot.state));
    if (committed.snapshot.checkpoint) await anchorCheckpoint(ctx, repo, run, committed.snapshot.checkpoint, `outcome recorded: ${run.conclusion}`);
  }
  return { snapshot: committed.snapshot, outcome: outcome ? { certificate: outcome.certificate, action: outcome.action } : null };
}

/** The declared source for a secret, environment-scoped declarations first. */
export function secretSourceFor(
  name: string,
  environment: string | undefined,
  config: RepoConfig,
  envFile: EnvironmentFile | null,
): { source: SecretSource; scope: Scope } | null {
  if (environment && envFile?.environments[environment]?.secrets[name]) {
    return { source: envFile.environments[environment]!.secrets[name]!, scope: { type: 'environment', name: environment } };
  }
  if (envFile?.repository.secrets[name]) return { source: envFile.repository.secrets[name]!, scope: REPOSITORY_SCOPE };
  if (config.secrets[name]) return { source: config.secrets[name]!, scope: environment ? { type: 'environment', name: environment } : REPOSITORY_SCOPE };
  return null;
}

/** Grants that lift a suggestion to an execution: stored signed in the ledger, verified against trusted keys. */
async function grantAllows(
  ctx: PipelineContext,
  snapshot: LedgerSnapshot,
  grantsText: string | null,
  repository: string,
  environment: string | undefined,
  decision: Decision,
  opts: { everyStep: boolean },
): Promise<{ allowed: boolean; reason: string; grantId: string | null }> {
  if (!grantsText) return { allowed: false, reason: 'no grants in the ledger', grantId: null };
  let grants;
  try {
    grants = parseGrantFile(grantsText, `ledger ${GRANTS_FILE}`);
  } catch (err) {
    ctx.log.warn({ err: safeMessage(err) }, 'the ledger grants file is unreadable; no grant applies');
    return { allowed: false, reason: `unreadable grants file: ${safeMessage(err)}`, grantId: null };
  }
  // Only keys the operator controls may sign grants: this deployment's signing key and the keys in
  // LIVING_BRIDGE_GRANT_KEYS. Keys published in the ledger are for verifying certificates only —
  // anyone who can push to the ledger branch could publish one.
  const trustedKeys = { [ctx.signer.keyid]: ctx.signer.publicKey, ...ctx.grantKeys };
  let grantId: string | null = null;
  // A suggestion made because of the autonomy level needs a grant only for the steps the level would
  // not execute by itself (at balanced, CREATE_SECRET → RERUN needs a grant for CREATE_SECRET only).
  // Halted, every step needs one (a break-glass grant).
  const needsGrant = (step: Decision['action']): boolean =>
    step !== 'NOOP' &&
    (opts.everyStep ||
      !(decision.suggested_because === 'level' && decision.autonomy_level === 'balanced' && step !== decision.action && BALANCED_EXECUTES.has(step)));
  for (const step of decision.steps.filter(needsGrant)) {
    const verdict = authorize({
      grants,
      trustedKeys,
      revokedIds: snapshot.revokedGrantIds,
      uses: snapshot.grantUses,
      repository,
      environment,
      action: step,
      target: decision.target?.name,
      now: ctx.now(),
      halted: snapshot.state.halted,
    });
    if (!verdict.allowed) return { allowed: false, reason: verdict.reason, grantId: null };
    grantId ??= verdict.grant?.id ?? null;
  }
  return { allowed: true, reason: `pre-authorized by grant ${grantId}`, grantId };
}

interface StepContext {
  ctx: PipelineContext;
  repo: RepoRef;
  repository: string;
  config: RepoConfig;
  envFile: EnvironmentFile | null;
  incident: Incident;
  decision: Decision;
  run: WorkflowRun | null;
  /** The run as it is now, when a replay re-read it (its latest attempt may be past `run`'s). */
  latest: WorkflowRun | null;
  environment: string | undefined;
  tried: string[];
  journal: StepJournal;
  stepId: string;
}

type StepReport = EngineReport & { postmortem?: string; postmortemPath?: string; issue?: { html_url: string } };

async function runStep(step: Decision['action'], s: StepContext): Promise<StepReport> {
  const { ctx, repo, incident, decision, run } = s;
  switch (step) {
    case 'CREATE_SECRET': {
      const name = incident.target?.name;
      if (!name || incident.target?.type !== 'secret') {
        return { action: step, ok: false, changes: [], notes: [], error: 'the incident names no secret to create' };
      }
      const declared = secretSourceFor(name, s.environment, s.config, s.envFile);
      if (!declared) {
        return { action: step, ok: false, changes: [], notes: [], error: `no source is declared for ${name} (in .github/autonomy.yml or .github/environment.json)` };
      }
      const refused = declared.source.source === 'from_env' ? ctx.fromEnvRefusal(declared.source.env) : null;
      if (refused) return { action: step, ok: false, changes: [], notes: [], error: refused };
      return executeCreateSecret(ctx.github, {
        repo,
        scope: declared.scope,
        name,
        source: declared.source,
        env: ctx.env,
        randomBytes: ctx.randomBytes,
        fingerprintKey: await fingerprintKeyOf(ctx.signer),
        beforeWrite: (fingerprint) => s.journal.begin(s.stepId, { fingerprint }),
      });
    }
    case 'SYNC_AND_CERTIFY': {
      const name = incident.target?.name;
      if (!name) return { action: step, ok: false, changes: [], notes: [], error: 'the incident names no variable to sync' };
      return syncForIncident(ctx, s.repository, s.environment, name);
    }
    case 'REGENERATE_CONFIG': {
      const path = incident.target?.name;
      const declared = path ? s.config.configs[path] : undefined;
      if (!path || !declared) {
        return { action: step, ok: false, changes: [], notes: [], error: `no template is declared for ${path ?? 'this config'} under configs: in .github/autonomy.yml` };
      }
      const variables: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.envFile?.repository.variables ?? {})) {
        if (typeof v === 'string') variables[k] = v;
        else if ('value' in v) variables[k] = v.value;
      }
      return executeRegenerateConfig(ctx.github, {
        repo,
        path,
        template: declared.template,
        variables,
        baseBranch: await ctx.github.getDefaultBranch(repo),
        ...(declared.schema ? { schema: declared.schema } : {}),
      });
    }
    case 'RERUN': {
      if (!run) return { action: step, ok: false, changes: [], notes: [], error: 'no workflow run to re-run' };
      return executeRerun(ctx.github, { repo, runId: run.id, attempt: run.run_attempt, maxAttempts: s.config.limits.max_rerun_attempts, current: s.latest ?? run });
    }
    case 'ROLLBACK': {
      if (!run || !run.head_branch) return { action: step, ok: false, changes: [], notes: [], error: 'no run/branch to roll back' };
      return executeRollback(ctx.github, { repo, workflowId: run.workflow_id, branch: run.head_branch, failedRunId: run.id });
    }
    case 'ESCALATE': {
      const instruction = escalationInstruction(incident, s);
      return executeEscalate(ctx.github, { repo, incident, decision, tried: s.tried, instruction, runUrl: run?.html_url });
    }
    case 'NOOP':
      return { action: step, ok: true, changes: [], notes: ['nothing to do'] };
  }
}

function escalationInstruction(incident: Incident, s: StepContext): string {
  const name = incident.target?.name ?? 'the failing item';
  switch (incident.kind) {
    case 'credential.invalid':
      return `${name} exists but GitHub/the service rejected it (401/403). Rotate the credential at its issuer and update the secret by hand; Living Bridge never overwrites a credential it cannot verify.`;
    case 'secret.missing':
      if (incident.run?.from_fork) return 'This run comes from a fork or Dependabot, which GitHub gives no secrets by design. Review the change and run the deploy from a branch of this repository.';
      {
        const declared = secretSourceFor(name, s.environment, s.config, s.envFile);
        if (!declared) return missingSourceMessage(name);
        if (declared.source.source === 'external') return `${name} is declared \`source: external\`: Living Bridge never writes it. Set ${name} by hand and re-run the workflow.`;
        if (declared.source.source === 'from_env' && s.ctx.fromEnvRefusal(declared.source.env)) return `${name} is declared \`from_env: ${declared.source.env}\`, which the operator has not allowed: ${s.ctx.fromEnvRefusal(declared.source.env)}. Or set ${name} by hand, then re-run the workflow.`;
        if (declared.source.source === 'from_env') return `${name} is declared \`from_env: ${declared.source.env}\`: set ${declared.source.env} in the Living Bridge environment (App host or Action step), or set ${name} by hand, then re-run the workflow.`;
        return `Set ${name} and re-run the workflow.`;
      }
    case 'code.failure':
      return 'The failure is in the code or its tests. Fix the change or revert it; Living Bridge does not change code.';
    default:
      return `Investigate the evidence above (${incident.kind}). Reply \`/bridge approve <id>\` on a suggestion to let Living Bridge act.`;
  }
}

const ledgerPathOf = (count: number, hash: string): string =>
  `.bridge/certificates/${String(count).padStart(6, '0')}-${hash.slice(0, 12)}.json`;

/**
 * The heal flow: evidence → decide → act → certify → record → announce. Every door calls this.
 */
export async function heal(ctx: PipelineContext, job: HealJob): Promise<HealResult> {
  const request = job.request;
  const repository = request.repository;
  const repo = parseRepoFullName(repository);
  let config: RepoConfig;
  try {
    config = await loadRepoConfig(ctx.github, repo);
  } catch (err) {
    if (err instanceof SchemaError) return configInvalid(ctx, job, repo, err);
    throw err;
  }
  let envFile: EnvironmentFile | null = null;
  try {
    envFile = await loadEnvironmentFile(ctx.github, repo);
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'environment.json is invalid; heal continues without its declarations');
  }
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const journal = ctx.intents && request.run_id !== undefined && !request.dry_run ? await StepJournal.open(ctx.intents, intentKeyOf(job), ctx.now) : StepJournal.none(ctx.now);

  // Evidence.
  let run: WorkflowRun | null = null;
  let incidents: Incident[];
  let failedJobNames: string[] = [];
  if (request.run_id !== undefined) {
    if (journal.replayed) {
      // A replay re-reads the run: the payload's picture (and the first try's) may be stale.
      const resumed = await resumeReplay(ctx, { job, repo, repository, config, envFile, journal });
      if (resumed) return resumed;
    }
    await journal.begin(JOB_STEP);
    // The webhook door hands over the run from the payload; other doors read it.
    run = job.workflow_run && job.workflow_run.id === request.run_id ? job.workflow_run : await ctx.github.getRun(repo, request.run_id);
    if (job.door === 'webhook' && !config.deploy_workflows.includes(run.name)) {
      return finish(ctx, { status: 'noop', repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `workflow "${run.name}" is not a deploy workflow (deploy_workflows in .github/autonomy.yml)` });
    }
    const dispatched = await dispatchedByLoop(ctx, repo, config, run);
    if (dispatched) {
      return finish(ctx, { status: 'noop', repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `run ${run.id} was dispatched by the config loop (promotion ${dispatched.id}), which judges it` });
    }
    if (run.conclusion !== 'failure') {
      const learnedRun = request.dry_run ? null : await learnFromRun(ctx, repo, repository, run, config, null);
      if (learnedRun && run.conclusion === 'success') await rememberSuccess(ctx, ledger, run, learnedRun.snapshot);
      if (learnedRun) await closeHealed(ctx, repo, run, learnedRun.snapshot.state);
      // A green re-run is the outcome of what we did: the result names the outcome certificate it committed.
      const learned = learnedRun?.outcome ?? null;
      const summary = learned
        ? `run ${run.id} attempt ${run.run_attempt} concluded ${run.conclusion}: recorded as the outcome of ${learned.action.action} (outcome certificate ${learned.certificate.certificate_hash})`
        : `run ${run.id} concluded ${run.conclusion ?? run.status}: nothing to heal`;
      return finish(ctx, { status: 'noop', repository, incidents: [], decision: null, reports: [], certificate: learned?.certificate ?? null, commentUrl: null, issueUrl: null, summary });
    }
    incidents = await gatherEvidence(ctx.github, repo, run, request.environment, (jobs) => { failedJobNames = jobs.map((j) => j.name); });
  } else {
    const given = request.incident!;
    incidents = [
      {
        kind: given.kind,
        target: given.target,
        confidence: given.confidence,
        fingerprint: `${given.kind}:${given.target?.name ?? '-'}`,
        summary: given.summary ?? `${given.kind} reported through ${job.door}`,
        evidence: given.evidence,
        repo,
        environment: request.environment,
      },
    ];
  }
  // The run's deployment environment(s), as GitHub defines them; unresolved means the strictest level.
  const resolution = await resolveEnvironment(ctx, repo, run, request.environment, failedJobNames);
  const environmentName = environmentLabel(resolution) ?? undefined;
  /** The one environment a step acts in (environment-scoped secrets): only when exactly one is resolved. */
  const environment = resolution.names.length === 1 ? resolution.names[0] : undefined;
  // What this repository taught the classifier (labels, re-run outcomes) applies before anything is decided.
  let snapshot = await ledger.read();
  incidents = learnedIncidents(incidents, snapshot);
  if (run && !request.dry_run) snapshot = await rememberFailure(ctx, ledger, run, incidents, snapshot);
  const primary = primaryIncident(incidents) ?? {
    kind: 'unknown' as const,
    target: null,
    confidence: 0,
    fingerprint: `unknown:${run?.id ?? '-'}`,
    summary: 'the failed jobs show no recognisable failure',
    evidence: [],
    repo,
    run: run ? runRefOf(run) : undefined,
  };
  const incident: Incident = { ...primary, environment: environmentName };
  const level = levelForResolution(config, resolution);
  const environmentResolution = resolutionNote(resolution);

  // A failure of a run we acted on is that action's outcome: learn before deciding again.
  // (A dry run writes nothing, not even what it learned.)
  if (run && !request.dry_run) snapshot = (await learnFromRun(ctx, repo, repository, run, config, incident.fingerprint, snapshot)).snapshot;

  // Decide.
  let decision = decide({
    incident,
    state: snapshot.state,
    config,
    now: ctx.now(),
    repository,
    environment: environmentName,
    level,
    autonomyEnabled: ctx.autonomyEnabled,
  });
  decision = { ...decision, environment_resolution: environmentResolution };
  let grantId: string | null = null;
  if (decision.verdict === 'suggest' && decision.steps.length > 0) {
    // A signed grant can lift a suggestion to an execution, within its scope and window.
    const grant = await grantAllows(ctx, snapshot, await ledger.readFile(GRANTS_FILE), repository, environment, decision, { everyStep: false });
    if (grant.allowed) {
      decision = { ...decision, verdict: 'execute', reason: `${decision.reason}; ${grant.reason}` };
      grantId = grant.grantId;
    }
  }

  if (decision.guardrail === 'halted' && snapshot.state.halted && ctx.autonomyEnabled && config.enabled) {
    // The kill switch in the ledger yields only to a break-glass grant (never to AUTONOMY_ENABLED=false
    // or enabled: false in the repository config, which are the operators' and owners' hard stops).
    const unhalted = { ...decide({ incident, state: { ...snapshot.state, halted: false }, config, now: ctx.now(), repository, environment: environmentName, level, autonomyEnabled: true }), environment_resolution: environmentResolution };
    if (unhalted.verdict !== 'noop' && unhalted.steps.length > 0) {
      const grant = await grantAllows(ctx, snapshot, await ledger.readFile(GRANTS_FILE), repository, environment, unhalted, { everyStep: true });
      if (grant.allowed) {
        decision = { ...unhalted, verdict: 'execute', reason: `halted (${snapshot.state.halted_reason ?? 'kill switch'}), overridden: ${grant.reason}; ${unhalted.reason}` };
        grantId = grant.grantId;
      }
    }
  }

  const base = { repository, incidents, decision, certificate: null, commentUrl: null, issueUrl: null };
  if (request.dry_run) {
    return finish(ctx, { ...base, status: 'dry_run', reports: [], summary: `dry run: would ${decision.verdict} ${decision.steps.join(' → ') || 'nothing'} — ${decision.reason}` });
  }

  if (decision.verdict === 'noop') {
    await ledger.commit(`decision: noop (${decision.guardrail ?? 'none'})`, () => ({
      audit: [auditEntry(ctx, repository, 'decision.noop', `${incident.kind} ${incident.target?.name ?? ''}: ${decision.reason}`)],
    }));
    return finish(ctx, { ...base, status: 'noop', reports: [], summary: `no action: ${decision.reason}` });
  }

  if (decision.verdict === 'suggest') {
    const approval: PendingApproval = {
      id: `${(run?.id ?? 'api')}-${incident.fingerprint.slice(0, 8)}`,
      created_at: ctx.now().toISOString(),
      expires_at: new Date(ctx.now().getTime() + 72 * 3600_000).toISOString(),
      issue_number: null,
      decision: decision as unknown as Record<string, unknown>,
      incident: incident as unknown as Record<string, unknown>,
      status: 'pending',
      decided_by: null,
    };
    await ledger.commit(`decision: suggest ${decision.steps.join('+')}`, (snap) => ({
      pendingApprovals: [...snap.pendingApprovals.filter((p) => p.id !== approval.id), approval],
      audit: [auditEntry(ctx, repository, 'decision.suggest', `${decision.steps.join(' → ')}: ${decision.reason}`)],
    }));
    const commentUrl = await announce(ctx, repo, repository, run, incident, decision, [], null, config, 'suggested', approval.id);
    return finish(ctx, { ...base, status: 'suggested', reports: [], commentUrl, summary: `suggested ${decision.steps.join(' → ')} for a human to approve (/bridge approve ${approval.id}): ${decision.reason}` });
  }

  // The intent of the whole act: a replay resumes this decision instead of deciding again.
  await journal.done(DECIDE_STEP, { incident, incidents, decision, grantId } satisfies DecidedIntent);
  return executeDecision(ctx, { repo, repository, config, envFile, incident, incidents, decision, run, environment, grantId, journal });
}

/**
 * A replayed job (an earlier try started it): re-reads the run (latest attempt). With a recorded
 * decision it resumes it; without one nothing was done yet, and a run that moved on to a later attempt
 * meanwhile is not healed again (that attempt has its own event). null: start over normally.
 */
async function resumeReplay(
  ctx: PipelineContext,
  a: { job: HealJob; repo: RepoRef; repository: string; config: RepoConfig; envFile: EnvironmentFile | null; journal: StepJournal },
): Promise<HealResult | null> {
  const request = a.job.request;
  const attempt = request.run_attempt ?? 1;
  const latest = await ctx.github.getRun(a.repo, request.run_id!);
  const decided = a.journal.decided();
  ctx.log.info({ intent: a.journal.key, latestAttempt: latest.run_attempt, conclusion: latest.conclusion, decided: decided !== null }, 'replayed heal job: resuming from its intent records');
  if (decided) {
    const run = latest.run_attempt === attempt ? latest : await ctx.github.getRun(a.repo, latest.id, attempt);
    return executeDecision(ctx, {
      repo: a.repo, repository: a.repository, config: a.config, envFile: a.envFile, incident: decided.incident, incidents: decided.incidents,
      decision: decided.decision, run, latest, environment: actingEnvironment(decided.incident.environment) ?? request.environment, grantId: decided.grantId, journal: a.journal,
    });
  }
  if (latest.run_attempt > attempt) {
    return finish(ctx, { status: 'noop', repository: a.repository, incidents: [], decision: null, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `run ${latest.id} moved on to attempt ${latest.run_attempt} (${latest.conclusion ?? latest.status}) before this job acted: nothing to resume` });
  }
  return null;
}

/** A step an earlier try finished or began, as GitHub shows it now; null when it must be done (again). */
async function resumedStep(step: Decision['action'], stepId: string, s: StepContext): Promise<StepReport | null> {
  const done = s.journal.doneReport(stepId);
  if (done) return done as StepReport;
  const begun = s.journal.begun(stepId);
  if (!begun) return null;
  const name = s.incident.target?.type === 'secret' ? s.incident.target.name : null;
  const declared = name ? secretSourceFor(name, s.environment, s.config, s.envFile) : null;
  return (await reconcileStep(step, begun, {
    github: s.ctx.github,
    repo: s.repo,
    latest: s.latest,
    attempt: s.run?.run_attempt ?? null,
    secret: name && declared ? { scope: declared.scope, name } : null,
  })) as StepReport | null;
}

/** Acts on an execute decision (also used when a human approves a suggestion). */
export async function executeDecision(
  ctx: PipelineContext,
  a: {
    repo: RepoRef; repository: string; config: RepoConfig; envFile: EnvironmentFile | null; incident: Incident; incidents: Incident[]; decision: Decision;
    run: WorkflowRun | null; latest?: WorkflowRun | null; environment: string | undefined; approvedBy?: string; grantId?: string | null; journal?: StepJournal;
  },
): Promise<HealResult> {
  const { repo, repository, config, incident, decision, run } = a;
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const journal = a.journal ?? StepJournal.none(ctx.now);
  if (journal.replayed && journal.key) {
    // Crashed after the ledger commit: the act is certified already (its intent is in that commit);
    // certifying it again would be a duplicate.
    const recorded = await ledger.readFile(intentLedgerPath(journal.key));
    if (recorded) {
      const { certificate_hash: hash, status } = JSON.parse(recorded) as { certificate_hash: string; status: HealStatus };
      return finish(ctx, { status, repository, incidents: a.incidents, decision, reports: [], certificate: null, commentUrl: null, issueUrl: null, summary: `${status}: already done and certified by the first try (certificate ${hash.slice(0, 16)}); nothing repeated` });
    }
  }
  const reports: StepReport[] = [];
  const tried: string[] = [];
  const stepCtx: StepContext = { ctx, repo, repository, config, envFile: a.envFile, incident, decision, run, latest: a.latest ?? null, environment: a.environment, tried, journal, stepId: '' };
  let escalated = decision.action === 'ESCALATE';
  for (const [index, step] of decision.steps.entries()) {
    const stepId = `${step}#${index}`;
    let report: StepReport;
    try {
      report = (await resumedStep(step, stepId, stepCtx)) ?? (await (async () => {
        await journal.begin(stepId);
        return runStep(step, { ...stepCtx, stepId });
      })());
    } catch (err) {
      report = { action: step, ok: false, changes: [], notes: [], error: safeMessage(err), missingPermission: (err as { permission?: string }).permission };
    }
    await journal.done(stepId, recordable(report));
    reports.push(report);
    tried.push(`${step}: ${report.ok ? 'done' : `failed (${report.error ?? 'unknown error'})`}`);
    if (!report.ok) {
      if (step !== 'ESCALATE') {
        // An action that could not be taken becomes a question for a human, with the reason.
        escalated = true;
        try {
          const esc = await runStep('ESCALATE', { ...stepCtx, tried });
          reports.push(esc);
        } catch (err) {
          reports.push({ action: 'ESCALATE', ok: false, changes: [], notes: [], error: safeMessage(err) });
        }
      }
      break;
    }
  }

  const changes: Change[] = reports.flatMap((r) => r.changes);
  // An engine that acted but could not read its effect back (`certified: false`) does not certify.
  const certified = reports.length > 0 && reports.every((r) => r.ok && (r as { certified?: boolean }).certified !== false);
  const escalation = reports.find((r) => r.postmortem);
  let certificate: Certificate | null = null;
  let ledgerPath: string | null = null;
  const committed = await ledger.commit(`action: ${decision.steps.join('+')} for ${incident.kind} ${incident.target?.name ?? ''}`.trim(), async (snap) => {
    const at = ctx.now();
    certificate = await signCertificate(
      {
        timestamp: at.toISOString(),
        action: decision.action,
        reason: a.approvedBy ? `${decision.reason}; approved by ${a.approvedBy}` : decision.reason,
        targets: incident.target ? [incident.target.name] : [],
        certified,
        report_hash: reportHash({ incident: { kind: incident.kind, target: incident.target, fingerprint: incident.fingerprint, evidence: incident.evidence }, reports: reports.map(({ postmortem: _p, ...r }) => r) }),
        repository,
        run_id: run?.id ?? null,
        run_attempt: run?.run_attempt ?? null,
        policy_version: decision.policy_version,
        changes,
        previous_certificate_hash: snap.lastCertificateHash,
          sequence: snap.certificateCount + 1,
        certificate_type: 'action',
        decision: {
          verdict: decision.verdict,
          steps: decision.steps,
          guardrail: decision.guardrail,
          candidates: decision.candidates,
          incident_kind: incident.kind,
          incident_fingerprint: incident.fingerprint,
          confidence: incident.confidence,
          evidence: incident.evidence.slice(0, 10),
          // Which environment(s) the level came from, and how they were found (GitHub's definition).
          environment: decision.environment ?? null,
          environment_resolution: decision.environment_resolution ?? null,
          autonomy_level: decision.autonomy_level ?? null,
          // Change-management evidence (living-bridge audit export): what triggered it, on which
          // evidence, and who or what authorized it.
          head_sha: run?.head_sha ?? null,
          evidence_hash: sha256Hex(canonicalJson(incident.evidence)),
          grant_id: a.grantId ?? null,
          approved_by: a.approvedBy ?? null,
        },
      },
      ctx.signer,
    );
    ledgerPath = ledgerPathOf(snap.certificateCount + 1, certificate.certificate_hash);
    // The action record is what later outcomes are judged against; a re-run's next attempt is the outcome.
    const state = recordAction(snap.state, decision, { at, runId: run?.id ?? null, runAttempt: run?.run_attempt ?? null, certificateHash: certificate.certificate_hash });
    const files: Record<string, string> = {};
    // The intent, in the commit that certifies it: a replay finds it and does not certify twice.
    if (journal.key) files[intentLedgerPath(journal.key)] = JSON.stringify({ key: journal.key, certificate_hash: certificate.certificate_hash, status: escalated ? 'escalated' : certified ? 'healed' : 'failed' });
    if (escalation?.postmortem) files[escalation.postmortemPath ?? `postmortems/${incident.fingerprint}.md`] = escalation.postmortem;
    // Secrets a heal wrote are remembered like env sync's own writes, so a later sync knows their
    // fingerprint and that Living Bridge created them.
    const written = reports.flatMap((r) => {
      const w = (r as { written?: { fingerprint: string; updated_at: string | null } }).written;
      const change = r.changes.find((c) => c.kind === 'secret');
      return w && change && r.ok ? [{ scope: change.scope, name: change.target, ...w }] : [];
    });
    const sync = written.length
      ? {
          ...snap.sync,
          secret_fingerprints: {
            ...snap.sync.secret_fingerprints,
            ...Object.fromEntries(written.map((w) => [fingerprintKey(w.scope, w.name), { fingerprint: w.fingerprint, updated_at: w.updated_at }])),
          },
          created_by_bridge: [...new Set([...snap.sync.created_by_bridge, ...written.map((w) => bridgeKey('secret', w.scope, w.name))])],
        }
      : undefined;
    const grantUses = a.grantId ? { [a.grantId]: (snap.grantUses[a.grantId] ?? 0) + 1 } : undefined;
    return {
      state,
      certificates: [certificate],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      files,
      grantUses,
      sync,
      audit: [auditEntry(ctx, repository, `action.${decision.action}`, `${tried.join('; ')}${a.grantId ? ` (grant ${a.grantId})` : ''}${journal.key ? ` (intent ${journal.key})` : ''}`, { certificateHash: certificate.certificate_hash })],
    };
  });

  // A REGENERATE_CONFIG proposal goes on through the config loop: checks, merge, deploy, rollback.
  const loop = certified ? await followProposal(ctx, { repo, repository, config, decision, run, reports, certificateHash: (certificate as Certificate | null)?.certificate_hash ?? null }) : null;
  const status: HealStatus = escalated ? 'escalated' : !certified ? 'failed' : !loop || loop.status === 'deployed' ? 'healed' : loop.status === 'left_for_human' ? 'suggested' : 'failed';
  // The checkpoint to anchor: the config loop may have added certificates after the action's own.
  const checkpoint = loop ? (await ledger.read()).checkpoint : committed.snapshot.checkpoint;
  const commentUrl = await announce(ctx, repo, repository, run, incident, decision, reports, certificate, config, status, null, ledgerPath, checkpoint);
  const issueUrl = reports.find((r) => r.issue)?.issue?.html_url ?? null;
  const cert = certificate as Certificate | null;
  return finish(ctx, {
    status,
    repository,
    incidents: a.incidents,
    decision,
    reports: reports.map(({ postmortem: _p, postmortemPath: _pp, ...r }) => r),
    certificate: cert,
    commentUrl,
    issueUrl,
    summary: `${status}: ${tried.join('; ')}${cert ? ` — certificate ${cert.certificate_hash.slice(0, 16)}` : ''}${loop ? ` — ${loop.summary}` : ''}`,
    ...(loop ? { configLoop: loop } : {}),
  });
}
