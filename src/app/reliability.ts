/**
 * What keeps the App's "exactly once" honest when deliveries or jobs go wrong:
 * - the redelivery sweeper: GitHub never redelivers a failed webhook by itself, so on start and every
 *   few minutes the App lists its recent failed deliveries (`GET /app/hook/deliveries?status=failure`)
 *   and asks for a redelivery (`POST /app/hook/deliveries/{id}/attempts`) of each failed
 *   `workflow_run.completed` it has no record of (the intake never accepted that event's guid);
 * - dead letters: a job that failed every try is announced on the run (a check run says so and how to
 *   replay it), listed and replayed through `/api/autonomy/dead`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseRepoFullName, type Door, type RepoRef } from '../core/schemas/index.js';
import type { DeadLetter, Intake } from '../intake/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { safeMessage } from '../pipeline/heal.js';
import { sendJson } from './http.js';

/** The App's JWT-authenticated client (Probot's `probot.auth()`), reduced to what the sweeper needs. */
export interface AppClient {
  request(route: string, params?: Record<string, unknown>): Promise<{ status: number; data: unknown; headers: Record<string, string | number | undefined> }>;
}

interface DeliveryItem { id: number; guid: string; status_code: number; event: string; action: string | null; redelivery: boolean; delivered_at: string }

export interface SweepReport { looked_at: number; redelivered: string[]; skipped_known: number; skipped_other: number }

/** Tries per event guid before the sweeper stops asking (each redelivery that fails is logged as a new failure). */
const MAX_REDELIVERIES_PER_EVENT = 3;

export function redeliverySweeper(opts: { app: () => Promise<AppClient>; intake: Intake; log: Logger; pages?: number }) {
  const asked = new Map<string, number>();
  let running: Promise<SweepReport> | null = null;

  async function sweepOnce(): Promise<SweepReport> {
    const app = await opts.app();
    const report: SweepReport = { looked_at: 0, redelivered: [], skipped_known: 0, skipped_other: 0 };
    const failed: DeliveryItem[] = [];
    const succeeded = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < (opts.pages ?? 5); page++) {
      const res = await app.request('GET /app/hook/deliveries', { per_page: 100, ...(cursor ? { cursor } : {}) });
      const items = res.data as DeliveryItem[];
      report.looked_at += items.length;
      for (const d of items) {
        if (d.status_code >= 200 && d.status_code < 300) succeeded.add(d.guid);
        else failed.push(d);
      }
      const next = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
      cursor = next ? (new URL(next).searchParams.get('cursor') ?? undefined) : undefined;
      if (!cursor) break;
    }
    const seen = new Set<string>();
    for (const d of failed) {
      if (seen.has(d.guid)) continue;
      seen.add(d.guid);
      if (d.event !== 'workflow_run' || d.action !== 'completed') { report.skipped_other++; continue; }
      // A later try of the same event got through, or the intake has it: it is on record.
      if (succeeded.has(d.guid) || (await opts.intake.hasDelivery(d.guid))) { report.skipped_known++; continue; }
      const tries = asked.get(d.guid) ?? 0;
      if (tries >= MAX_REDELIVERIES_PER_EVENT) { report.skipped_other++; continue; }
      await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: d.id });
      asked.set(d.guid, tries + 1);
      report.redelivered.push(d.guid);
    }
    if (asked.size > 10_000) for (const k of [...asked.keys()].slice(0, asked.size - 10_000)) asked.delete(k);
    if (report.redelivered.length) opts.log.warn({ redelivered: report.redelivered.length, guids: report.redelivered.slice(0, 10) }, 'asked GitHub to redeliver failed workflow_run deliveries the App has no record of');
    return report;
  }

  return {
    /** One sweep (concurrent calls share it). Errors are logged and reported, never thrown at the timer. */
    sweep(): Promise<SweepReport> {
      running ??= sweepOnce().finally(() => { running = null; });
      return running;
    },
    /** Sweeps now and then every `seconds` (0: never). Returns a stop function. */
    start(seconds: number): () => void {
      if (seconds <= 0) return () => undefined;
      const tick = () => { this.sweep().catch((err: unknown) => opts.log.warn({ err: safeMessage(err) }, 'redelivery sweep failed; next one in a few minutes')); };
      const first = setTimeout(tick, 500);
      const timer = setInterval(tick, seconds * 1000);
      first.unref();
      timer.unref();
      return () => { clearTimeout(first); clearInterval(timer); };
    },
  };
}

/** A check run on the failed run saying the job gave up, why, and how to replay it: no job fails silently. */
export async function announceDeadLetter(contextFor: (repo: RepoRef, door: Door, installationId?: number) => Promise<PipelineContext>, dead: DeadLetter, log: Logger): Promise<void> {
  if (dead.run_id === null) return;
  const repo = parseRepoFullName(dead.repository);
  const ctx = await contextFor(repo, dead.job.door, dead.job.installation_id);
  const headSha = dead.job.workflow_run?.head_sha ?? (await ctx.github.getRun(repo, dead.run_id)).head_sha;
  await ctx.github.createCheckRun(repo, {
    name: 'Living Bridge',
    head_sha: headSha,
    conclusion: 'failure',
    title: `could not heal: gave up after ${dead.attempts} tries`,
    summary: [
      `Living Bridge tried to heal run ${dead.run_id} (attempt ${dead.run_attempt ?? 1}) ${dead.attempts} times and gave up: ${dead.error}.`,
      '',
      'The job is kept in the dead-letter list. An operator can see it with `living-bridge incidents list --dead` and run it again with',
      `\`living-bridge incidents replay ${dead.id}\` (it resumes after the last step done; nothing is done twice).`,
    ].join('\n'),
  });
  log.info({ job: dead.id, repository: dead.repository }, 'dead-lettered job announced with a check run');
}

/** `GET /api/autonomy/dead` and `POST /api/autonomy/dead/{id}/replay` (behind the API token). */
export async function deadLetterRoute(intake: Intake, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method === 'GET' && path === '/api/autonomy/dead') {
    const dead = await intake.deadLetters();
    sendJson(res, 200, { dead: dead.map(({ job: _job, ...d }) => d) });
    return true;
  }
  const m = /^\/api\/autonomy\/dead\/([\w:.-]+)\/replay$/.exec(path);
  if (req.method === 'POST' && m) {
    const replayed = await intake.replayDead(m[1]!);
    if (replayed) sendJson(res, 202, { replayed: m[1], status_url: `/api/autonomy/jobs/${m[1]}` });
    else sendJson(res, 404, { error: `no dead-lettered job ${m[1]} (living-bridge incidents list --dead shows them)` });
    return true;
  }
  return false;
}
