/**
 * REST requests per heal, counted by the sandbox (issue 4: goal ≤ 15).
 *
 * One heal = a "Build & Deploy" run on a pull request fails because DEPLOY_TOKEN is missing ->
 * evidence (run, failed jobs, log) -> decide -> set the secret -> re-run failed jobs -> certificate
 * committed to the ledger branch -> PR comment + check run. The pipeline runs in-process (`heal()`
 * with a context from `buildContext`, the CLI door) against an in-process sandbox; request counts are
 * reset just before each measured call.
 *
 *   cold:    the first heal in a fresh process (no caches: public key, default branch, ledger, files)
 *   warm:    a second heal, of another repository, in the same process
 *   outcome: the re-run concluded success; `heal` with the same run id learns the outcome
 *            (EMA, outcome certificate chained to the action's)
 *   repeat:  a second failure of the same repository in the same process (its ledger and config
 *            files are cached from the first heal)
 *
 *   node --import tsx bench/heal-requests.ts [--json]
 *
 * "counted" = requests that count against the primary rate limit (every request except 304 answers).
 * Counts are deterministic: they do not depend on the machine.
 */
import { pino } from 'pino';
import { createSigner, generateSigningKey } from '../src/core/certificate/index.js';
import type { HealJob } from '../src/core/schemas/index.js';
import { runFromWebhook } from '../src/github/index.js';
import { buildContext, pipelineSettingsFrom } from '../src/pipeline/build-context.js';
import type { PipelineContext } from '../src/pipeline/context.js';
import { heal } from '../src/pipeline/heal.js';
import { DEMO_AUTONOMY_YML } from '../src/demo/scenario.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../src/sandbox/index.js';

export const HEAL_GOAL = 15;

export interface RequestCost {
  total: number;
  /** total without the job-log download from its short-lived URL (a storage host on GitHub, not the REST API). */
  rest: number;
  /** Non-304 answers: what counts against the rate limit. */
  counted: number;
  notModified: number;
  /** POST/PUT/PATCH/DELETE. */
  writes: number;
  /** "METHOD /route" -> count ("<key> 304" for 304 answers). */
  routes: Record<string, number>;
}

export interface HealCase { label: string; status: string; cost: RequestCost }

export interface HealBenchResult {
  goal: number;
  cases: Record<'cold' | 'warm' | 'webhook' | 'outcome' | 'repeat', HealCase>;
}

export function costOf(counts: Record<string, number>): RequestCost {
  const routes: Record<string, number> = {};
  let total = 0;
  let notModified = 0;
  for (const [key, n] of Object.entries(counts)) {
    if (key === 'total' || key === 'writes') continue;
    routes[key] = n;
    total += n;
    if (key.endsWith(' 304')) notModified += n;
  }
  return { total, rest: total - (routes['GET /_logs/{token}'] ?? 0), counted: total - notModified, notModified, writes: counts.writes ?? 0, routes };
}

/** The demo's config (full autonomy, DEPLOY_TOKEN from the App's environment), without cooldowns so a repeat heals. */
const BENCH_AUTONOMY_YML = `${DEMO_AUTONOMY_YML}cooldowns:\n  default_minutes: 0\n`;

let jobSeq = 0;
const job = (repository: string, runId: number, workflowRun?: HealJob['workflow_run']): HealJob => ({
  id: `bench-${++jobSeq}`,
  door: workflowRun ? 'webhook' : 'cli',
  delivery_id: `bench-delivery-${jobSeq}`,
  received_at: new Date().toISOString(),
  request: { repository, run_id: runId, dry_run: false },
  ...(workflowRun ? { workflow_run: workflowRun } : {}),
});

/** A repository whose "Build & Deploy" run on a PR failed for want of DEPLOY_TOKEN (declared from_env). */
function seedFailingPr(sb: Sandbox, repo: string): { repository: string; runId: number } {
  const owner = 'bench';
  seedScenario(sb.state, 'missing-secret', owner, { repo, trigger: false });
  sb.state.commitFiles(owner, repo, 'main', { '.github/autonomy.yml': BENCH_AUTONOMY_YML }, 'configure Living Bridge');
  const pr = sb.state.createPullRequest(owner, repo, { headBranch: 'feature/deploy' });
  const run = sb.state.triggerRun(owner, repo, 'Build & Deploy', { pullRequest: pr.number, event: 'pull_request', actor: 'octocat' });
  return { repository: `${owner}/${repo}`, runId: run.id };
}

export async function runHealBench(): Promise<HealBenchResult> {
  const sb = await startSandbox();
  try {
    const signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(7))).secretKey);
    const ctx: PipelineContext = buildContext({
      token: SANDBOX_ADMIN_TOKEN,
      baseUrl: sb.apiUrl,
      signer,
      // The sandbox has no rate limits: GitHub's one-write-per-second client pacing would only make the bench wait (~45 s).
      settings: pipelineSettingsFrom({ DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', LIVING_BRIDGE_CLIENT_PACING: 'off' }),
      door: 'cli',
      log: pino({ level: 'silent' }),
    });
    const measure = async (label: string, repository: string, runId: number, viaWebhook = false): Promise<HealCase> => {
      // The App's webhook door hands the pipeline the run from the payload (no GET of the run).
      const [owner, name] = repository.split('/') as [string, string];
      const payload = viaWebhook ? (sb.state.webhookPayloadFor(owner, name, runId).payload as { workflow_run: Parameters<typeof runFromWebhook>[0]; repository: { full_name: string } }) : null;
      sb.resetRequestCounts();
      const result = await heal(ctx, job(repository, runId, payload ? runFromWebhook(payload.workflow_run, payload.repository) : undefined));
      return { label, status: result.status, cost: costOf(sb.requestCounts()) };
    };

    const a = seedFailingPr(sb, 'heal-cold');
    const cold = await measure('cold: first heal in the process', a.repository, a.runId);
    const b = seedFailingPr(sb, 'heal-warm');
    const warm = await measure('warm: second heal (another repository), same process', b.repository, b.runId);
    const c = seedFailingPr(sb, 'heal-webhook');
    const webhook = await measure('webhook: a heal through the App\'s webhook door (run from the payload)', c.repository, c.runId, true);
    // The sandbox ran the re-run synchronously: run a.runId's latest attempt concluded success.
    const outcome = await measure('outcome: re-run succeeded, heal(run id) learns it', a.repository, a.runId);
    // Same repository fails again (the secret was deleted by someone): its ledger and files are cached.
    sb.state.repo('bench', 'heal-warm').secrets.delete('DEPLOY_TOKEN');
    const again = sb.state.triggerRun('bench', 'heal-warm', 'Build & Deploy', { pullRequest: 1, event: 'pull_request', actor: 'octocat' });
    const repeat = await measure('repeat: the same repository fails again, same process', b.repository, again.id);
    return { goal: HEAL_GOAL, cases: { cold, warm, webhook, outcome, repeat } };
  } finally {
    await sb.close();
  }
}

export function healMarkdown(r: HealBenchResult): string {
  const cases = Object.values(r.cases);
  const lines = [
    `| case | status | requests | REST (without the log download) | counted (non-304) | 304 | writes | goal: REST ≤ ${r.goal} |`,
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...cases.map((c) => `| ${c.label} | ${c.status} | ${c.cost.total} | ${c.cost.rest} | ${c.cost.counted} | ${c.cost.notModified} | ${c.cost.writes} | ${c.label.startsWith('outcome') ? '—' : c.cost.rest <= r.goal ? 'met' : 'not met'} |`),
    '',
  ];
  const keys = [...new Set(cases.flatMap((c) => Object.keys(c.cost.routes)))].sort((x, y) => routeOrder(x) - routeOrder(y) || x.localeCompare(y));
  lines.push(`| route | ${cases.map((c) => c.label.split(':')[0]).join(' | ')} |`, `|---|${cases.map(() => '---:').join('|')}|`);
  for (const k of keys) lines.push(`| \`${k}\` | ${cases.map((c) => c.cost.routes[k] ?? 0).join(' | ')} |`);
  return lines.join('\n');
}

/** Routes in the order a heal uses them: config, evidence, ledger read, act, ledger write, announce. */
function routeOrder(key: string): number {
  const order = [/contents/, /\/repos\/\{owner\}\/\{repo\}( |$)/, /actions\/runs\/\{run_id\}( |$)/, /jobs/, /git\/ref\//, /git\/commits\/\{/, /git\/trees\/\{/, /git\/blobs\/\{/, /public-key/, /secrets/, /rerun/, /POST .*git\/blobs/, /POST .*git\/trees/, /POST .*git\/commits/, /git\/refs/, /commits\/\{commit_sha\}\/pulls/, /comments/, /check-runs/];
  const i = order.findIndex((re) => re.test(key));
  return i === -1 ? order.length : i;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runHealBench();
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : healMarkdown(r));
}
