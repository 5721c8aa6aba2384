/**
 * The GitHub Action door: read inputs -> parse them with the core schemas -> build the context ->
 * call the pipeline (heal, sync, verifyLedger) -> render the job summary and set the outputs.
 * No business logic lives here (ARCHITECTURE.md: doors are thin).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as core from '@actions/core';
import { createSigner, generateSigningKey, type Signer } from '../core/certificate/index.js';
import {
  HealJob,
  SchemaError,
  parseRepoFullName,
  type Certificate,
  type Change,
  type GovernorState,
} from '../core/schemas/index.js';
import { GitHubPermissionError } from '../github/index.js';
import { buildContext, ConfigurationError, loadSigner } from '../pipeline/build-context.js';
import type { EngineReport, HealResult, PipelineContext } from '../pipeline/context.js';
import { heal } from '../pipeline/heal.js';
import { loadRepoConfig } from '../pipeline/repo-files.js';
import { sync } from '../pipeline/sync.js';
import { pinnedKeys } from '../pipeline/trust.js';
import { renderReport, verifyLedger, type VerifyReport } from '../pipeline/verify.js';
import { annotateLocalConfig } from './annotate.js';
import { healRequestFrom, readActionSettings, readEvent, readInputs, validateLocalConfig, type ActionInputs } from './inputs.js';
import { prepareAttestation, type AttestationFiles } from './attestation.js';
import { createActionLogger } from './log.js';
import {
  decodePredicate,
  missingPermissionMessage,
  renderCertificate,
  renderChanges,
  renderDecision,
  renderEmaChart,
} from './render.js';

interface Outcome {
  decision: string;
  certificate: Certificate | null;
  changes: Change[];
  /** Failures to report with core.setFailed after the summary is written. */
  failures: string[];
  /** heal: the escalation issue and the PR comment this run wrote or updated. */
  issueUrl?: string | null;
  commentUrl?: string | null;
}

/** Sections of the job summary, in order. */
type Section = { heading: string; body: string };

export async function run(): Promise<void> {
  const sections: Section[] = [];
  let title = 'Living Bridge';
  let outcome: Outcome = { decision: 'error', certificate: null, changes: [], failures: [] };
  let inputs: ActionInputs | null = null;
  let ephemeralKey = false;
  let ledgerBranch: string | undefined;
  let ctx: PipelineContext | null = null;
  try {
    inputs = readInputs();
    title = `Living Bridge · ${inputs.mode}${inputs.dry_run ? ' (dry run)' : ''} · ${inputs.repository}`;
    const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
    annotateLocalConfig(inputs.config, workspace);
    const local = validateLocalConfig(inputs.config, workspace);
    if (local.validated.length) core.info(`validated ${local.validated.join(', ')}`);
    ledgerBranch = local.repoConfig?.ledger.branch;

    const signer = await signerFor(inputs);
    ephemeralKey = signer.ephemeral;
    const log = createActionLogger();
    ctx = buildContext({
      token: inputs.token,
      baseUrl: inputs.github_api_url,
      signer: signer.signer,
      // Parsed once; runner credentials (INPUT_*, ACTIONS_*, GITHUB_TOKEN) are never a from_env source (core NEVER_A_SOURCE).
      settings: readActionSettings(process.env),
      door: 'action',
      repository: inputs.repository,
      log,
    });

    if (inputs.mode === 'heal') outcome = await runHeal(ctx, inputs, sections);
    else if (inputs.mode === 'sync') outcome = await runSync(ctx, inputs, sections);
    else {
      const verified = await runVerify(ctx, inputs, sections, ephemeralKey);
      outcome = verified.outcome;
      ledgerBranch = verified.result.branch ?? undefined;
    }
  } catch (err) {
    outcome.failures.push(describeError(err));
    sections.push({ heading: 'Error', body: `\`\`\`\n${describeError(err)}\n\`\`\`` });
  }

  // The Governor's learning over time, from the ledger (best effort: never fails the step).
  if (ctx && inputs) {
    const chart = await emaChart(ctx, inputs.repository, ledgerBranch);
    if (chart) sections.push({ heading: 'Governor EMA per action', body: chart });
  }
  if (outcome.certificate) {
    sections.splice(1, 0, {
      heading: 'Certificate',
      body: renderCertificate(outcome.certificate, { ledgerBranch, repository: inputs?.repository, ephemeralKey }),
    });
  }

  // The Action path's anchor outside the branch: files for a following actions/attest step.
  let attestation: AttestationFiles | null = null;
  if (ctx && inputs && outcome.certificate) {
    attestation = await prepareAttestation(ctx, inputs.repository, ledgerBranch, process.env.RUNNER_TEMP ?? tmpdir()).catch((err: unknown) => {
      core.warning(`could not prepare the checkpoint attestation: ${(err as Error).message}`);
      return null;
    });
  }
  core.setOutput('checkpoint', attestation?.predicate ?? '');
  core.setOutput('checkpoint-path', attestation?.predicatePath ?? '');
  core.setOutput('attestation-subjects', attestation?.subjects ?? '');
  core.setOutput('attestation-subjects-path', attestation?.subjectsPath ?? '');
  core.setOutput('decision', outcome.decision);
  core.setOutput('certificate-hash', outcome.certificate?.certificate_hash ?? '');
  core.setOutput('changes', JSON.stringify(outcome.changes));
  core.setOutput('issue-url', outcome.issueUrl ?? '');
  core.setOutput('comment-url', outcome.commentUrl ?? '');

  await writeSummary(title, sections);
  if (outcome.failures.length) core.setFailed(outcome.failures.join('\n'));
}

async function signerFor(inputs: ActionInputs): Promise<{ signer: Signer; ephemeral: boolean }> {
  if (inputs.signing_key) {
    try {
      return { signer: await createSigner(inputs.signing_key), ephemeral: false };
    } catch (err) {
      throw new ConfigurationError(`the signing-key input is not usable: ${(err as Error).message}`);
    }
  }
  if (process.env.TRUTH_SIGNING_KEY || process.env.TRUTH_SIGNING_KEY_FILE) {
    return { signer: await loadSigner(process.env), ephemeral: false };
  }
  // Verifying and dry runs sign nothing that lasts: an ephemeral key is enough.
  if (inputs.mode === 'verify' || inputs.dry_run) {
    const key = await generateSigningKey(new Uint8Array(randomBytes(32)));
    return { signer: await createSigner(key.secretKey), ephemeral: true };
  }
  throw new ConfigurationError(
    `no signing key: ${inputs.mode} commits signed certificates to the ledger. Create a key with ` +
      '`npx living-bridge keygen`, store it as the repository secret LIVING_BRIDGE_SIGNING_KEY and pass ' +
      '`signing-key: ${{ secrets.LIVING_BRIDGE_SIGNING_KEY }}` (docs/action.md).',
  );
}

async function runHeal(ctx: PipelineContext, inputs: ActionInputs, sections: Section[]): Promise<Outcome> {
  const request = healRequestFrom(inputs, readEvent());
  const runId = process.env.GITHUB_RUN_ID;
  const deliveryId = runId ? `action-${runId}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${request.run_id ?? 'incident'}` : `action-${randomUUID()}`;
  const job = HealJob.parse({ id: deliveryId, door: 'action', delivery_id: deliveryId, received_at: ctx.now().toISOString(), request });
  core.info(`healing ${request.repository} run ${request.run_id ?? '-'}${request.run_attempt ? ` attempt ${request.run_attempt}` : ''}${request.dry_run ? ' (dry run)' : ''}`);
  const result = await heal(ctx, job);
  sections.push({ heading: `Heal: ${result.status}`, body: renderHealBody(result) });
  const failures = permissionFailures(result.reports);
  if (result.status === 'failed' && failures.length === 0) failures.push(`Living Bridge could not heal: ${result.summary}`);
  if (result.status === 'escalated') core.warning(`escalated to a human: ${result.issueUrl ?? result.summary}`);
  // A green re-run decides nothing but commits the outcome certificate of what was done before.
  const outcomeOf = result.certificate ? decodePredicate(result.certificate) : null;
  const decision = result.decision
    ? `${result.decision.verdict}:${result.decision.action}`
    : outcomeOf?.certificate_type === 'outcome' ? `outcome:${outcomeOf.outcome ?? 'recorded'}` : result.status;
  return { decision, certificate: result.certificate, changes: result.reports.flatMap((r) => r.changes), failures, issueUrl: result.issueUrl, commentUrl: result.commentUrl };
}

function renderHealBody(result: HealResult): string {
  const parts: string[] = [result.summary];
  if (result.decision) parts.push(renderDecision(result.decision));
  const incident = result.incidents[0];
  if (incident?.evidence.length) {
    const lines = incident.evidence.slice(0, 10).map((e) => `${e.job_name ?? 'job'}:${e.line}: ${e.text}`);
    parts.push(`<details><summary>Evidence (${incident.evidence.length} line${incident.evidence.length === 1 ? '' : 's'}, masked)</summary>\n\n\`\`\`\n${lines.join('\n').replace(/```/g, "'''")}\n\`\`\`\n</details>`);
  }
  if (result.reports.length) {
    const rows = result.reports.map((r) => `- **${r.action}** ${r.ok ? 'done' : `failed: ${r.error ?? 'unknown error'}`}${r.notes.length ? ` — ${r.notes.join('; ')}` : ''}`);
    parts.push(rows.join('\n'));
    parts.push(renderChanges(result.reports.flatMap((r) => r.changes)));
  }
  const links = [result.commentUrl ? `[PR comment](${result.commentUrl})` : '', result.issueUrl ? `[escalation issue](${result.issueUrl})` : ''].filter(Boolean);
  if (links.length) parts.push(links.join(' · '));
  return parts.join('\n\n');
}

/** Token honesty: an action the token could not take fails the step, naming the permission. */
function permissionFailures(reports: EngineReport[]): string[] {
  return reports
    .filter((r) => r.missingPermission)
    .map((r) => `${r.action}: ${missingPermissionMessage(r.missingPermission!, describeAction(r.action))}`);
}

const describeAction = (action: string): string =>
  ({
    CREATE_SECRET: 'create the missing secret',
    SYNC_AND_CERTIFY: 'sync variables and secrets',
    RERUN: 're-run the failed jobs',
    ROLLBACK: 'redeploy the last good run',
    REGENERATE_CONFIG: 'propose the regenerated config',
    ESCALATE: 'open the escalation issue',
  })[action] ?? action;

async function runSync(ctx: PipelineContext, inputs: ActionInputs, sections: Section[]): Promise<Outcome> {
  const result = await sync(ctx, {
    repository: inputs.repository,
    environment: inputs.environment,
    dryRun: inputs.dry_run,
    confirmPrune: inputs.confirm_prune,
  });
  const changes = result.certificate ? certificateChanges(result.certificate) : [];
  const report = result.report;
  const failures: string[] = [];
  // Token honesty, per item: what the token could not write is named; everything else was applied.
  for (const r of report?.results ?? []) {
    if (r.status === 'failed' && r.missingPermission) {
      failures.push(`${r.item.kind} ${r.item.scope}/${r.item.name}: ${missingPermissionMessage(r.missingPermission, `${r.item.op} ${r.item.kind} ${r.item.name}`)}`);
    }
  }
  if (report && report.failed > failures.length) {
    failures.push(`env sync: ${report.failed} item(s) could not be applied (see the summary); the next run converges`);
  }
  const decision = result.dryRun ? 'dry-run' : report && report.failed > 0 ? 'partial' : result.plan.writes === 0 ? 'no-drift' : 'applied';
  const body = [result.driftTable || '_No drift._'];
  if (result.notes.length) body.push(result.notes.map((n) => `- ${n}`).join('\n'));
  if (result.prUrl) body.push(`environment.json write-back: [pull request](${result.prUrl})`);
  if (changes.length) body.push(renderChanges(changes));
  body.push(`REST requests: ${result.requests.audit} audit (${result.requests.notModified} answered 304), ${result.requests.writes} writes, ${result.requests.verify} verify.`);
  sections.push({ heading: `Env sync: ${decision}`, body: body.join('\n\n') });
  return { decision, certificate: result.certificate, changes, failures };
}

async function runVerify(ctx: PipelineContext, inputs: ActionInputs, sections: Section[], ephemeralKey: boolean): Promise<{ outcome: Outcome; result: VerifyReport }> {
  // Trusted: the signing key given to the Action (not a throwaway one) and LIVING_BRIDGE_TRUSTED_KEYS / _GRANT_KEYS.
  const trust = pinnedKeys({ env: process.env, signer: ephemeralKey ? null : ctx.signer });
  if (Object.keys(trust.keys).length === 0) {
    throw new ConfigurationError('verify needs the key(s) to trust: set the signing-key input or LIVING_BRIDGE_TRUSTED_KEYS (base64 public keys); keys listed on the ledger branch are never trusted');
  }
  const result = await verifyLedger(ctx, inputs.repository, trust);
  const rows = [
    `- ledger branch: \`${result.branch ?? '?'}\``,
    `- certificates: ${result.length}`,
    `- head: ${result.head ? `\`${result.head}\`` : '(empty chain)'}`,
    `- checkpoint: ${result.checkpoint ? `#${result.checkpoint.sequence} signed by \`${result.checkpoint.keyid}\` at ${result.checkpoint.time}` : '(none)'}`,
    `- anchors: ${result.anchors.valid} valid${result.anchors.latest ? `, latest #${result.anchors.latest.sequence} in ${result.anchors.latest.source}` : ''}`,
  ];
  if (result.ok) {
    sections.push({ heading: 'Ledger verified', body: `Every certificate's signature, hash link and sequence checks out against the pinned keys, and so does the signed checkpoint.\n\n${rows.join('\n')}` });
    return { outcome: { decision: 'verified', certificate: null, changes: [], failures: [] }, result };
  }
  const why = `${inputs.repository}: ${renderReport(result)}`;
  sections.push({ heading: result.status === 'no-ledger' ? 'No ledger' : 'Ledger BROKEN', body: `${why}\n\n${rows.join('\n')}` });
  return { outcome: { decision: result.status === 'no-ledger' ? 'no-ledger' : 'broken', certificate: null, changes: [], failures: [why] }, result };
}

/** The `changes` a certificate asserts, read back from its signed payload. */
function certificateChanges(cert: Certificate): Change[] {
  try {
    const statement = JSON.parse(Buffer.from(cert.envelope.payload, 'base64').toString('utf8')) as { predicate?: { changes?: Change[] } };
    return statement.predicate?.changes ?? [];
  } catch {
    return [];
  }
}

async function emaChart(ctx: PipelineContext, repository: string, branch: string | undefined): Promise<string | null> {
  try {
    const repo = parseRepoFullName(repository);
    const ledgerBranch = branch ?? (await loadRepoConfig(ctx.github, repo)).ledger.branch;
    const snapshot = await ctx.ledgerFor(repo, ledgerBranch).read();
    const history: GovernorState['ema_history'] = snapshot.state.ema_history;
    return renderEmaChart(history);
  } catch (err) {
    core.debug(`EMA chart skipped: ${(err as Error).message}`);
    return null;
  }
}

function describeError(err: unknown): string {
  if (err instanceof GitHubPermissionError) return missingPermissionMessage(err.permission, err.operation);
  if (err instanceof SchemaError || err instanceof ConfigurationError) return err.message;
  const permission = (err as { permission?: unknown }).permission;
  if (typeof permission === 'string') return missingPermissionMessage(permission);
  const e = err as { message?: string; status?: number };
  const first = (e.message ?? String(err)).split('\n')[0]!;
  return e.status ? `${first} (HTTP ${e.status})` : first;
}

async function writeSummary(title: string, sections: Section[]): Promise<void> {
  const s = core.summary.addHeading(title, 2);
  // A blank line after each HTML heading: markdown directly after an HTML block is not rendered.
  for (const sec of sections) s.addHeading(sec.heading, 3).addEOL().addRaw(sec.body, true).addEOL();
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info(s.stringify());
    s.emptyBuffer();
    return;
  }
  try {
    await s.write();
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`);
  }
}
