import { SANDBOX_ADMIN_TOKEN } from '../sandbox/index.js';
import { CONFIG_TEMPLATE, fileOn, seedConfigRepo } from './config-scenario.js';
import { eventually, sendWebhook, type AppProcess, type ManagedProcess } from './processes.js';

interface LoopJob { status: string; result?: { status: string; summary: string; config_loop?: { status: string; pull_request: number; merge_commit: string | null; dispatched_runs: number[]; certificates: string[]; ema?: number } }; error?: string }

/**
 * Demo scenario 3: the config loop. A deploy fails on a broken vercel.json; Living Bridge renders the
 * declared template, validates it against the vercel.json schema, opens a PR, follows its checks,
 * merges under the promotion lock, dispatches the deploy and certifies every step. True when it did.
 */
export async function configLoopScenario(sandbox: ManagedProcess, app: AppProcess, say: (s?: string) => void, step: (s: string) => void): Promise<boolean> {
  step('Scenario 3 — "Build & Deploy" fails because vercel.json on main does not parse');
  const seeded = await seedConfigRepo(sandbox.url, { repo: 'config-loop', workflowOnPullRequests: true, statuses: { 'ci/integration': 'success' }, requiredChecks: ['build', 'deploy', 'ci/integration'] });
  say(`  repository ${seeded.fullName}: run ${seeded.runId} failed; .github/autonomy.yml declares configs.vercel.json.template`);
  say(`  template: ${CONFIG_TEMPLATE.replace(/\n\s*/g, ' ').trim()}`);
  say('  branch protection on main requires: build, deploy (the workflow on the PR), ci/integration (external CI)');
  const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', seeded.payload);
  const job = await eventually(async () => {
    const res = await fetch(`${app.url}/api/autonomy/jobs/wh-${sent.deliveryId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
    const body = (await res.json()) as LoopJob;
    return res.ok && body.status !== 'queued' ? body : undefined;
  }, 60_000, 'the config loop');
  const loop = job.result?.config_loop;
  step('Config loop');
  if (!loop) {
    say(`  no loop ran: ${job.result?.summary ?? job.error}`);
    return false;
  }
  const [owner, repo] = seeded.fullName.split('/') as [string, string];
  const headers = { authorization: `token ${SANDBOX_ADMIN_TOKEN}` };
  const pr = (await (await fetch(`${sandbox.url}/api/v3/repos/${owner}/${repo}/pulls/${loop.pull_request}`, { headers })).json()) as { title: string; merged: boolean; head: { sha: string } };
  const checks = (await (await fetch(`${sandbox.url}/api/v3/repos/${owner}/${repo}/commits/${pr.head.sha}/check-runs`, { headers })).json()) as { check_runs: { name: string; conclusion: string }[] };
  say(`  rendered and validated against the vercel.json schema; opened PR #${loop.pull_request} "${pr.title}"`);
  say(`  checks on its head: ${checks.check_runs.map((c) => `${c.name} ${c.conclusion}`).join(', ')}, ci/integration success`);
  say(`  merged: ${pr.merged} (merge commit ${loop.merge_commit?.slice(0, 7)}), under the promotion lock`);
  const runId = loop.dispatched_runs[0];
  const run = runId ? ((await (await fetch(`${sandbox.url}/api/v3/repos/${owner}/${repo}/actions/runs/${runId}`, { headers })).json()) as { event: string; conclusion: string; head_sha: string }) : null;
  say(`  dispatched the deploy on main: run ${runId} (${run?.event}) at ${run?.head_sha.slice(0, 7)} concluded ${run?.conclusion}`);
  say(`  vercel.json on main now: ${(await fileOn(sandbox.url, seeded.fullName, 'vercel.json'))?.replace(/\n\s*/g, ' ').trim()}`);
  say(`  certificates generate → promote → dispatch: ${loop.certificates.map((c) => c.slice(0, 12)).join(' → ')}, then the outcome (EMA ${loop.ema?.toFixed(3)})`);
  const verify = (await (await fetch(`${app.url}/api/autonomy/verify?repository=${seeded.fullName}`, { headers: { authorization: `Bearer ${app.apiToken}` } })).json()) as { ok: boolean; length: number };
  say(`  chain of ${verify.length} certificates verifies: ${verify.ok}`);
  say('  (had the deploy failed, the loop would merge a revert, redeploy and lower the EMA; red checks leave the PR for a human)');
  return loop.status === 'deployed' && run?.conclusion === 'success' && verify.ok;
}
