import { SCENARIO_VALUES } from '../sandbox/scenarios.js';
import { configLoopScenario } from './config-demo.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type ManagedProcess } from './processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo, sha256 } from './scenario.js';

/**
 * `npm run demo`: the sandbox and the real App as processes, a signed webhook for a failed deploy,
 * and a narrated heal. No GitHub account, no network beyond 127.0.0.1.
 */
const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n▶ ${s}`);

async function jobResult(appUrl: string, token: string, jobId: string) {
  return eventually(async () => {
    const res = await fetch(`${appUrl}/api/autonomy/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return undefined;
    const rec = (await res.json()) as { status: string; result?: { status: string; summary: string; certificate_hash: string | null; decision: { verdict: string; reason: string; steps: string[]; candidates: { action: string; score: number; ema: number; cooldown_penalty: number; predicted_success: number }[] } | null }; error?: string };
    return rec.status === 'queued' ? undefined : rec;
  }, 30_000, `job ${jobId}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const processes: ManagedProcess[] = [];
  const cleanup = async () => {
    for (const p of processes.reverse()) await p.stop();
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    step('Starting the GitHub sandbox (a local GitHub REST stand-in) and the Living Bridge App as two processes');
    const sandbox = await startSandboxProcess();
    processes.push(sandbox);
    // The App's own environment holds the value a declared `from_env` source points at.
    const app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', LOG_LEVEL: 'warn' });
    processes.push(app);
    await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
    say(`  sandbox ${sandbox.url}/api/v3   app ${app.url}`);

    // Scenario 1: missing secret.
    step('Scenario 1 — "Build & Deploy" fails because secret DEPLOY_TOKEN was never set');
    const repo1 = await seedDemoRepo(sandbox.url, 'missing-secret');
    say(`  repository ${repo1.fullName}, pull request #${repo1.pullNumber}; .github/autonomy.yml declares:`);
    say(DEMO_AUTONOMY_YML.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => `    ${l}`).join('\n'));
    const run1 = await failingRun(sandbox.url, repo1.fullName, repo1);
    say(`  run ${run1.runId} concluded failure`);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run1.payload);
    say(`  sent signed workflow_run.completed webhook → HTTP ${sent.status}`);
    const job1 = await jobResult(app.url, app.apiToken, `wh-${sent.deliveryId}`);
    const d = job1.result?.decision;
    step('Evidence and decision');
    if (d) {
      for (const c of d.candidates) say(`  candidate ${c.action}: score ${c.score.toFixed(2)} = EMA ${c.ema.toFixed(2)} − cooldown ${c.cooldown_penalty.toFixed(2)}; predicted success ${c.predicted_success.toFixed(2)}`);
      say(`  decision: ${d.verdict} ${d.steps.join(' → ')}`);
      say(`  reason: ${d.reason}`);
    }
    say(`  result: ${job1.result?.summary ?? job1.error}`);
    const check = await sandboxControl<{ exists: boolean; match: boolean }>(sandbox.url, 'GET', `/_sandbox/secret-check/${repo1.fullName}/DEPLOY_TOKEN?expected_sha256=${sha256(SCENARIO_VALUES.DEPLOY_TOKEN)}`);
    step('Secret created');
    say(`  the sandbox decrypted DEPLOY_TOKEN with its private key: exists=${check.exists}, holds the declared value=${check.match}`);
    const healed = await eventually(async () => {
      const s = await repoState(sandbox.url, repo1.fullName);
      const run = s.runs.find((r) => r.id === run1.runId);
      return run?.conclusion === 'success' ? { s, run } : undefined;
    }, 20_000, 'the re-run to succeed');
    step('Re-run');
    say(`  run ${run1.runId} attempts: ${healed.run.attempts.join(' → ')}`);
    const verify = await eventually(async () => {
      const res = await fetch(`${app.url}/api/autonomy/verify?repository=${repo1.fullName}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
      const v = (await res.json()) as { ok: boolean; length: number; head: string; reason: string | null };
      return v.ok && v.length >= 2 ? v : undefined; // action certificate + outcome certificate
    }, 20_000, 'the outcome certificate');
    step('Certificates');
    say(`  ledger branch bridge-ledger: ${verify.length} certificates (action + outcome), chain verifies: ${verify.ok}, head ${verify.head}`);
    const comment = (await repoState(sandbox.url, repo1.fullName)).comments.find((c) => c.issue_number === repo1.pullNumber);
    step(`PR #${repo1.pullNumber} comment`);
    say((comment?.body ?? '(no comment)').split('\n').filter((l) => !l.startsWith('<!--')).map((l) => `  │ ${l}`).join('\n'));

    // Scenario 2: wrong credential.
    step('Scenario 2 — API_KEY is set but stale: the service answers 401 Bad credentials');
    const repo2 = await seedDemoRepo(sandbox.url, 'wrong-credential', { autonomyYml: DEMO_AUTONOMY_YML.replace(/DEPLOY_TOKEN/g, 'API_KEY') });
    const before = (await repoState(sandbox.url, repo2.fullName)).secrets.find((s) => s.name === 'API_KEY');
    const run2 = await failingRun(sandbox.url, repo2.fullName, repo2);
    const sent2 = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run2.payload);
    const job2 = await jobResult(app.url, app.apiToken, `wh-${sent2.deliveryId}`);
    say(`  decision: ${job2.result?.decision?.verdict} ${job2.result?.decision?.steps.join(' → ')} — ${job2.result?.decision?.reason}`);
    const after = await repoState(sandbox.url, repo2.fullName);
    const issue = after.issues.find((i) => !i.pull_request && i.labels.includes('living-bridge'));
    const afterSecret = after.secrets.find((s) => s.name === 'API_KEY');
    say(`  escalation issue: ${issue ? `#${issue.number} "${issue.title}"` : 'none'}`);
    say(`  API_KEY untouched: ${before?.updated_at === afterSecret?.updated_at && before?.sha256 === afterSecret?.sha256}`);

    const loopOk = await configLoopScenario(sandbox, app, say, step);

    step(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Stopping the App and the sandbox.`);
    await cleanup();
    const ok = check.match && verify.ok && !!issue && before?.sha256 === afterSecret?.sha256 && loopOk;
    process.exit(ok ? 0 : 1);
  } catch (err) {
    say(`\ndemo failed: ${(err as Error).message}`);
    for (const p of processes) say(`--- last output of a process ---\n${p.output().slice(-3000)}`);
    await cleanup();
    process.exit(1);
  }
}

await main();
