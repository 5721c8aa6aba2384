/**
 * `living-bridge drill`: a chaos drill against the sandbox with the real App process. It seeds failing
 * deploys of several kinds across repositories, turns on sandbox faults at a rate, kills the App at
 * random moments (and starts it again on the same port and data), and then checks from the sandbox's
 * own records (its effects log, ledger branches, delivery log) what happened to every failure.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startAppProcess, type AppProcess } from '../demo/processes.js';
import { seededRandom } from '../sandbox/chaos.js';
import { seedScenario, startSandbox, type Sandbox } from '../sandbox/index.js';
import { DRILL_KINDS, EXPECTED, type DrillKind, type DrillOptions, type FailureRecord } from './types.js';
import { settledOutcome, summarize, type DrillReport } from './validate.js';

export { DRILL_KINDS };

const AUTONOMY_YML = `# Living Bridge drill: full autonomy, no cooldowns, generous limits (repeated failures in one repository must not trip the Governor)
version: 1
default_level: full
deploy_workflows: ["Build & Deploy"]
secrets:
  DEPLOY_TOKEN:
    source: generate
cooldowns:
  default_minutes: 0
limits:
  max_actions_per_hour: 1000
  max_fail_streak: 100
  recurrence_limit: 100
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDrill(opts: DrillOptions, progress: (line: string) => void = () => undefined): Promise<DrillReport> {
  // The kill schedule has its own stream (seed + 1), apart from the sandbox's faults.
  const random = seededRandom(opts.seed + 1);
  const sandbox: Sandbox = await startSandbox();
  const dataDir = mkdtempSync(join(tmpdir(), 'living-bridge-drill-'));
  const port = await freePort();
  const prefix = `lbdrill-${process.pid}-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    PORT: String(port),
    WEBHOOK_SECRET: `whsec-${randomBytes(16).toString('hex')}`,
    AUTONOMY_API_TOKEN: `lb-api-${randomBytes(16).toString('hex')}`,
    TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'),
    LIVING_BRIDGE_DATA_DIR: dataDir,
    LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: String(opts.sweepSeconds),
    LIVING_BRIDGE_CONCURRENCY: '4',
    LOG_LEVEL: opts.appLog?.level ?? 'warn',
    // A killed replica's job and repository lock are taken up after 5 s (not BullMQ's 30 s) so a drill stays short.
    ...(opts.intake === 'redis' ? { REDIS_URL: opts.redisUrl, LIVING_BRIDGE_REDIS_PREFIX: prefix, LIVING_BRIDGE_REDIS_LOCK_MS: '5000' } : {}),
  };
  let app: AppProcess | null = null;
  // Every generation of the App (one per kill) appends its log to one file, when asked.
  const appLog: WriteStream | null = opts.appLog ? createWriteStream(opts.appLog.path, { flags: 'a' }) : null;
  const startApp = async (): Promise<AppProcess> => {
    // On a loaded machine a (re)start can take long: up to 90 s each, three tries, before the drill gives up.
    let started: AppProcess | undefined;
    for (let tryNo = 1; !started; tryNo++) {
      try {
        started = await startAppProcess(sandbox.url, env, { readyTimeoutMs: 90_000 });
      } catch (err) {
        if (tryNo >= 3) throw err;
        progress(`drill: the App did not come up (${(err as Error).message.split('\n')[0]}); starting it again`);
      }
    }
    if (appLog) {
      appLog.write(`${JSON.stringify({ drill: 'app started', pid: started.child.pid, at: new Date().toISOString() })}\n`);
      started.child.stdout?.pipe(appLog, { end: false });
      started.child.stderr?.pipe(appLog, { end: false });
    }
    return started;
  };
  const failures: FailureRecord[] = [];
  let kills = 0;
  const started = Date.now();
  try {
    app = await startApp();
    sandbox.state.webhook = { url: `${app.url}/api/github/webhooks`, secret: env.WEBHOOK_SECRET! };
    sandbox.state.autoWebhooks = true;

    // Repositories: heal kinds share M repositories each (failures there come one after another);
    // an escalation kind gets a repository per failure, since a second failure of an escalated target
    // is by design not escalated again (the open issue stands, half-open circuit).
    const plan: { kind: DrillKind; repo: string; count: number }[] = [];
    for (const kind of opts.kinds) {
      // Observe level suggests once per target too: a repository per failure as well.
      const onePerFailure = EXPECTED[kind] !== 'heal';
      const repos = onePerFailure ? opts.failures : Math.min(opts.repos, opts.failures);
      for (let i = 0; i < repos; i++) {
        plan.push({ kind, repo: `${kind}-${i + 1}`, count: Math.floor(opts.failures / repos) + (i < opts.failures % repos ? 1 : 0) });
      }
    }
    for (const p of plan) {
      const observe = p.kind === 'observe-level';
      seedScenario(sandbox.state, p.kind === 'observe-level' ? 'missing-secret' : p.kind, 'drill', { repo: p.repo, trigger: false });
      sandbox.state.commitFiles('drill', p.repo, 'main', { '.github/autonomy.yml': observe ? AUTONOMY_YML.replace('default_level: full', 'default_level: observe') : AUTONOMY_YML }, 'configure Living Bridge');
    }
    const ownEffects = new Set<number>();
    sandbox.resetRequestCounts();
    if (opts.faultRate > 0) sandbox.state.chaos.setRate({ rate: opts.faultRate, seed: opts.seed, latencyMs: 300 });
    const effectsFrom = sandbox.state.effects.at(-1)?.seq ?? 0;
    progress(`drill: ${plan.reduce((n, p) => n + p.count, 0)} failures in ${plan.length} repositories, faults ${Math.round(opts.faultRate * 100)} % (seed ${opts.seed}), ${opts.kills} kills, ${opts.intake} intake`);

    // Kills at random moments while failures are being handled.
    const expectedSeconds = Math.max(10, (opts.failures * opts.kinds.length * 1.5) / 4);
    const killAt = Array.from({ length: opts.kills }, () => Date.now() + 1500 + random() * expectedSeconds * 1000).sort((a, b) => a - b);
    let stopping = false;
    const killer = (async () => {
      for (const at of killAt) {
        while (Date.now() < at && !stopping) await sleep(100);
        if (stopping || !app) return;
        app.child.kill('SIGKILL');
        await new Promise((r) => (app!.child.exitCode !== null || app!.child.signalCode !== null ? r(null) : app!.child.once('exit', r)));
        kills++;
        progress(`drill: killed the App (${kills}/${opts.kills}); starting it again`);
        app = await startApp();
      }
    })();

    await Promise.all(plan.map(async (p) => {
      for (let i = 0; i < p.count; i++) {
        // A fresh failure: the missing secret goes missing again; everything else fails by itself.
        if (p.kind === 'missing-secret' && sandbox.state.secretValue('drill', p.repo, 'DEPLOY_TOKEN') !== undefined) {
          sandbox.state.deleteSecret('drill', p.repo, 'DEPLOY_TOKEN');
          ownEffects.add(sandbox.state.effects.at(-1)!.seq);
        }
        const effectsBefore = sandbox.state.effects.at(-1)?.seq ?? 0;
        const run = sandbox.state.triggerRun('drill', p.repo, 'Build & Deploy', { event: 'push', actor: 'octocat' });
        const rec: FailureRecord = { kind: p.kind, repo: `drill/${p.repo}`, runId: run.id, triggeredAt: Date.now(), effectsFrom: effectsBefore, settledAt: null, outcome: 'pending' };
        failures.push(rec);
        const deadline = rec.triggeredAt + opts.timeoutSeconds * 1000;
        while (Date.now() < deadline) {
          const outcome = settledOutcome(sandbox.state, rec);
          if (outcome) {
            rec.outcome = outcome;
            rec.settledAt = Date.now();
            break;
          }
          await sleep(250);
        }
      }
    }));
    stopping = true;
    await killer;
    // Dead letters, as the operator would list them.
    const dead = await fetch(`${app!.url}/api/autonomy/dead`, { headers: { authorization: `Bearer ${env.AUTONOMY_API_TOKEN}` } })
      .then((r) => r.json() as Promise<{ dead: { repository: string; run_id: number | null }[] }>)
      .catch(() => ({ dead: [] }));
    sandbox.state.chaos.setRate({ rate: 0 });
    return summarize(sandbox.state, failures, {
      options: opts,
      kills,
      wallSeconds: (Date.now() - started) / 1000,
      requests: sandbox.requestCounts(),
      injected: { ...sandbox.state.chaos.injected },
      effectsFrom,
      ownEffects,
      dead: dead.dead,
    });
  } finally {
    await app?.stop().catch(() => undefined);
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
    await new Promise((r) => (appLog ? appLog.end(r) : r(null)));
    if (opts.intake === 'redis') await dropRedisPrefix(opts.redisUrl, prefix).catch(() => undefined);
  }
}

async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
