/**
 * The webhook door, as a Probot app function: `livingBridgeApp(deps)` is `(app) => app.on(…)` with
 * one handler per delivery Living Bridge acts on, each getting Probot's typed payload. Deliveries
 * reach it through Probot's own webhooks (`probot.webhooks.verify`, then `probot.webhooks.receive`)
 * from `createWebhookRoute`, which answers with the JSON the handlers decide.
 *
 * Why not `createNodeMiddleware`: it answers `ok`/200 (or 500 for any handler error) before a
 * handler can say 202 with a job id, 422 with the reason, or 503 when the queue is down; the
 * route below is its verify-then-receive in our terms (401 bad signature, 400/422 malformed, 413 too large).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Probot } from 'probot';
import { HealJob, HealRequest, RepoFullName, SchemaError, WorkflowRunSnapshot, parseRepoFullName, parseWith, type Door, type RepoRef } from '../core/schemas/index.js';
import { runFromWebhook } from '../github/index.js';
import type { Intake } from '../intake/index.js';
import { parseApprovalCommand } from '../pipeline/approval-command.js';
import { CheckSignals, checkEventCommit } from '../pipeline/check-signals.js';
import type { HealResult, PipelineContext } from '../pipeline/context.js';
import { handleLabelComment, parseLabelCommand } from '../pipeline/label.js';
import { safeMessage } from '../pipeline/safe-message.js';
import { flows } from './flows-lazy.js';
import { readBody, sendJson } from './http.js';

/** What the door answers a delivery: a status and a JSON body. */
export interface Answer { status: number; body: unknown }

export interface WebhookDeps {
  intake: Intake;
  log: Logger;
  checkSignals: CheckSignals;
  contextFor(repo: RepoRef, door: Door, installationId?: number, bindings?: Record<string, unknown>): Promise<PipelineContext>;
  recordApproval(repository: string, actor: string, result: HealResult | undefined): void;
}

/**
 * Each delivery's answer, keyed by its parsed payload object (the very object Probot hands every
 * handler as `context.payload`), so concurrent deliveries — even two with the same id — never mix.
 */
const answers = new WeakMap<object, { answer?: Answer }>();
const answer = (payload: object, status: number, body: unknown): void => {
  const slot = answers.get(payload);
  if (slot && !slot.answer) slot.answer = { status, body };
};

/** A comment's author is a bot (Living Bridge's own comments quote the commands). */
const fromBot = (user: { login?: unknown; type?: unknown } | null | undefined): boolean =>
  user?.type === 'Bot' || /\[bot\]$/.test(typeof user?.login === 'string' ? user.login : '');
const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/** The events `livingBridgeApp` has handlers for (any other delivery is answered 202 `ignored`). */
const HANDLED_EVENTS = new Set(['workflow_run', 'issue_comment', 'check_suite', 'check_run', 'status']);

/** The Probot app function: one handler per event Living Bridge acts on. */
export function livingBridgeApp(deps: WebhookDeps): (app: Probot) => void {
  const { intake, log, checkSignals } = deps;
  return (app) => {
    app.on('workflow_run.completed', async ({ id, payload }) => {
      const made = (() => {
        try {
          return jobFromWorkflowRun(payload as unknown as Record<string, unknown>, id);
        } catch (err) {
          // Signed, but not a workflow_run GitHub would send (a negative id, attempt 0, "not a repo").
          if (err instanceof SchemaError) return { refused: err };
          throw err;
        }
      })();
      if ('refused' in made) return answer(payload, 422, { error: made.refused.message, issues: made.refused.issues });
      if ('ignored' in made) return answer(payload, 202, { ignored: made.ignored });
      const submitted = await intake.submit(made.job).catch((err: unknown) => { log.error({ delivery: id, err: safeMessage(err) }, 'intake refused the job'); return null; });
      // Not recorded: a 503 lets GitHub keep the delivery as failed, to be redelivered; a 202 would lose it.
      if (!submitted) return answer(payload, 503, { error: 'queue unavailable' });
      answer(payload, 202, { job_id: made.job.id, duplicate: submitted.duplicate });
    });

    app.on('issue_comment.created', async ({ id, payload }) => {
      // Typed by Probot, but only as far as GitHub keeps its word: every field is checked before use.
      const comment = payload.comment as { body?: unknown; user?: { login?: unknown; type?: unknown } | null } | null | undefined;
      const text = typeof comment?.body === 'string' ? comment.body : '';
      const label = parseLabelCommand(text);
      const command = label ? null : text ? parseApprovalCommand(text) : null;
      if (!label && !command) return answer(payload, 202, { ignored: 'not a /bridge command' });
      if (fromBot(comment?.user)) return answer(payload, 202, { ignored: 'commands from bots are ignored' });
      const named = RepoFullName.safeParse((payload.repository as { full_name?: unknown } | undefined)?.full_name);
      if (!named.success) return answer(payload, 422, { error: 'issue_comment payload: repository.full_name must be "owner/name"' });
      const installationId = positiveInt((payload.installation as { id?: unknown } | undefined)?.id);
      const issueNumber = positiveInt((payload.issue as { number?: unknown } | undefined)?.number) ?? null;
      const actor = typeof comment?.user?.login === 'string' ? comment.user.login : 'unknown';
      answer(payload, 202, { accepted: label ? 'label' : command!.verb });
      // Quick and idempotent (a second approve finds nothing pending): run after the answer is sent.
      void (async () => {
        try {
          const ctx = await deps.contextFor(parseRepoFullName(named.data), 'webhook', installationId, { delivery: id });
          if (label) return void (await handleLabelComment(ctx, { repository: named.data, issueNumber, actor, command: label }));
          const { handleApprovalComment } = await flows();
          const outcome = await handleApprovalComment(ctx, { repository: named.data, issueNumber, actor, command: command! });
          deps.recordApproval(named.data, actor, outcome.result);
        } catch (err) {
          log.error({ delivery: id, err: safeMessage(err) }, label ? 'label command failed' : 'approval command failed');
        }
      })();
    });

    // check_suite / check_run / status wake a config loop waiting on that commit's checks.
    app.on(['check_suite', 'check_run', 'status'], async ({ name, payload }) => {
      const commit = checkEventCommit(name, payload as unknown as Record<string, unknown>);
      if (commit) checkSignals.notify(commit.repository, commit.sha);
      answer(payload, 202, commit ? { noted: `${name} of ${commit.sha.slice(0, 7)}` } : { ignored: `${name} without a repository and commit` });
    });
  };
}

/**
 * The HTTP side of the door: body (≤ 25 MB) → signature (401) → headers and JSON object (400) →
 * `probot.webhooks.receive` → the handlers' answer (202 `ignored` when none of them spoke).
 */
export function createWebhookRoute(probot: Probot, log: Logger): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    const signature = req.headers['x-hub-signature-256'];
    const deliveryId = req.headers['x-github-delivery'];
    const event = req.headers['x-github-event'];
    // One child logger per delivery: every line about it carries its id.
    const dlog = log.child({ delivery: deliveryId, event });
    if (typeof signature !== 'string' || !(await probot.webhooks.verify(body, signature).catch(() => false))) {
      dlog.warn('rejected webhook with a missing or invalid signature');
      return sendJson(res, 401, { error: 'signature does not match' });
    }
    if (typeof deliveryId !== 'string' || typeof event !== 'string') return sendJson(res, 400, { error: 'missing X-GitHub-Delivery or X-GitHub-Event' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: 'body is not JSON' });
    }
    // GitHub always sends an object; `null`, arrays and scalars are not a webhook payload.
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return sendJson(res, 400, { error: 'body is not a JSON object' });
    const payload = parsed as Record<string, unknown>;
    // Probot builds each handler's octokit from installation.id: a signed payload with a bad one is refused here.
    if ('installation' in payload && payload.installation != null && positiveInt((payload.installation as { id?: unknown }).id) === undefined) {
      return sendJson(res, 400, { error: 'installation.id must be a positive integer' });
    }
    const slot: { answer?: Answer } = {};
    answers.set(payload, slot);
    // Only the events a handler exists for go through Probot (its reserved names `error` and `*` never do).
    // Handler errors are bugs (every refusal is an answer): they reach the server's 500 and are logged there.
    if (HANDLED_EVENTS.has(event)) await probot.webhooks.receive({ id: deliveryId, name: event, payload } as Parameters<Probot['webhooks']['receive']>[0]);
    const { status, body: out } = slot.answer ?? { status: 202, body: { ignored: event === 'workflow_run' ? `workflow_run.${String(payload.action)}` : `event ${event} is not handled` } };
    sendJson(res, status, out);
  };
}

/** workflow_run.completed → a heal job; everything else about workflow runs is ignored. */
export function jobFromWorkflowRun(payload: Record<string, unknown>, deliveryId: string): { job: HealJob } | { ignored: string } {
  const run = payload.workflow_run as { id?: number; run_attempt?: number; conclusion?: string | null } | undefined;
  const repository = (payload.repository as { full_name?: string } | undefined)?.full_name;
  if (payload.action !== 'completed') return { ignored: `workflow_run.${String(payload.action)}` };
  if (!run || typeof run.id !== 'number' || !repository) return { ignored: 'payload has no workflow_run or repository' };
  // Failures are healed; a success after a re-run is the outcome the Governor learns from.
  if (run.conclusion !== 'failure' && !(run.conclusion === 'success' && (run.run_attempt ?? 1) > 1)) {
    return { ignored: `conclusion ${String(run.conclusion)}` };
  }
  const installationId = (payload.installation as { id?: number } | undefined)?.id;
  const request = parseWith(HealRequest, { repository, run_id: run.id, run_attempt: run.run_attempt ?? 1 }, 'workflow_run payload');
  return {
    job: {
      id: `wh-${deliveryId}`,
      door: 'webhook',
      delivery_id: deliveryId,
      received_at: new Date().toISOString(),
      installation_id: installationId,
      request,
      // The payload carries the whole run: the worker need not read it again (if it is complete).
      ...snapshotOf(payload),
    },
  };
}

function snapshotOf(payload: Record<string, unknown>): { workflow_run?: WorkflowRunSnapshot } {
  try {
    const parsed = WorkflowRunSnapshot.safeParse(runFromWebhook(payload.workflow_run as Parameters<typeof runFromWebhook>[0], payload.repository as { full_name?: string }));
    return parsed.success ? { workflow_run: parsed.data } : {};
  } catch {
    return {};
  }
}
