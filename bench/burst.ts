/**
 * Burst (issue 16): `--runs` failing "Build & Deploy" runs (missing DEPLOY_TOKEN) across `--repos`
 * sandbox repositories, all delivered to the App at once as signed `workflow_run.completed`
 * webhooks (concurrency 16), then drained. Goals: ≥ 10 heals/s, ≤ 250 MB peak RSS, and no two
 * heals of one repository at the same time.
 *
 *   node --import tsx bench/burst.ts [--runs=200] [--repos=50] [--intake=embedded|redis] [--dist] [--root=DIR] [--json]
 *
 * `--root=DIR` runs the App of another checkout (e.g. an older commit, with node_modules) against the
 * same sandbox and bench, for a before/after in one session.
 *
 * The App runs as its own process (src/app/main.ts through tsx, or `--dist`: the production bundle,
 * after `npm run build`) against an in-process sandbox, with the demo's `.github/autonomy.yml` (full
 * autonomy, DEPLOY_TOKEN from the App's environment, default cooldowns) and the App's defaults
 * (LIVING_BRIDGE_CONCURRENCY=2), client pacing off as for every sandbox run (the sandbox has no
 * rate limits; on GitHub, 80 content-creating requests a minute would pace a burst's writes).
 *
 * - drain time: first delivery sent → the App's /healthz says every job is done (polled every 50 ms);
 * - peak RSS: the App process's VmHWM (Linux /proc) at the end;
 * - serialization: each job's intent records (the embedded journal's `intent` lines: the first is
 *   written when its heal starts, the last when it ends) give its interval; two intervals of one
 *   repository must not overlap. (Redis: the intents are read from Redis under the run's prefix.)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_AUTONOMY_YML } from '../src/demo/scenario.js';
import { PROJECT_ROOT, appPrivateKey, freePort } from '../src/demo/processes.js';
import { SCENARIO_VALUES, seedScenario, startSandbox } from '../src/sandbox/index.js';
import { runLoad, signedDelivery, type Delivery } from './load.js';

const arg = (name: string, fallback: string): string => /=(.+)$/.exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback;

export interface BurstResult {
  runs: number;
  repos: number;
  intake: string;
  acceptSeconds: number;
  drainSeconds: number;
  healsPerSecond: number;
  rssStartMb: number;
  rssPeakMb: number;
  /** CPU seconds (user + system) the App process used for the burst, per heal: the load-independent cost. */
  appCpuSecondsPerHeal: number | null;
  statuses: Record<string, number>;
  answers: Record<string, number>;
  /** Pairs of overlapping heals of one repository (must be 0), and how many job intervals were checked. */
  overlaps: number;
  intervals: number;
  concurrentRepos: number;
  requests: number;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; USER_HZ = 100). */
const cpuSeconds = (pid: number | undefined): number | null => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
};

const procStatus = (pid: number | undefined, field: string): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

export async function runBurst(opts: { runs: number; repos: number; intake: 'embedded' | 'redis'; dist: boolean; root?: string }): Promise<BurstResult> {
  const sb = await startSandbox();
  const dataDir = mkdtempSync(join(tmpdir(), 'lb-burst-'));
  const secret = `whsec-${randomBytes(12).toString('hex')}`;
  const prefix = `lb-bench-burst-${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let child: ReturnType<typeof spawn> | null = null;
  try {
    // Seed: every repository fails its deploy for want of DEPLOY_TOKEN, runs spread round-robin.
    const deliveries: Delivery[] = [];
    const names: string[] = [];
    for (let i = 0; i < opts.repos; i++) {
      const repo = `burst-${String(i).padStart(3, '0')}`;
      seedScenario(sb.state, 'missing-secret', 'bench', { repo, trigger: false });
      sb.state.commitFiles('bench', repo, 'main', { '.github/autonomy.yml': DEMO_AUTONOMY_YML }, 'configure Living Bridge');
      names.push(repo);
    }
    for (let i = 0; i < opts.runs; i++) {
      const repo = names[i % names.length]!;
      const run = sb.state.triggerRun('bench', repo, 'Build & Deploy', { event: 'push', actor: 'octocat' });
      const hook = sb.state.webhookPayloadFor('bench', repo, run.id);
      deliveries.push(signedDelivery(secret, hook.event, hook.payload));
    }

    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production',
      PORT: String(port), HOST: '127.0.0.1', APP_ID: '1', PRIVATE_KEY: appPrivateKey(), WEBHOOK_SECRET: secret,
      TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn',
      GHE_HOST: new URL(sb.url).host, GHE_PROTOCOL: 'http',
      LIVING_BRIDGE_DATA_DIR: dataDir, LIVING_BRIDGE_CLIENT_PACING: 'off', LIVING_BRIDGE_ENV_SYNC_SCHEDULE: 'off',
      LIVING_BRIDGE_STARTUP_CHECK: 'off', LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: '0',
      DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN',
      ...(opts.intake === 'redis' ? { REDIS_URL: redisUrl, LIVING_BRIDGE_REDIS_PREFIX: prefix } : {}),
    };
    const root = opts.root ?? PROJECT_ROOT;
    const args = opts.dist ? [join(root, 'dist/server/main.js')] : ['--import', 'tsx', join(root, 'src/app/main.ts')];
    const app = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child = app;
    let stderr = '';
    app.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
    const base = `http://127.0.0.1:${port}`;
    const health = async (): Promise<{ queue: { pending: number; running: number; done: number; failed: number; dead?: number } } | null> =>
      fetch(`${base}/healthz`).then((r) => (r.ok ? (r.json() as never) : null), () => null);
    const deadline = Date.now() + 60_000;
    while (!(await health())) {
      if (app.exitCode !== null) throw new Error(`the App exited with ${app.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the App did not start within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const rssStartMb = procStatus(app.pid, 'VmRSS');
    sb.resetRequestCounts();
    const cpuBefore = cpuSeconds(app.pid);

    // The burst: every delivery once, 16 at a time.
    let next = 0;
    const started = performance.now();
    const load = await runLoad(`${base}/api/github/webhooks`, () => deliveries[next++]!, { concurrency: 16, ms: 0, count: deliveries.length });
    const acceptSeconds = (performance.now() - started) / 1000;
    let drained = false;
    while (!drained) {
      if (app.exitCode !== null) throw new Error(`the App exited with ${app.exitCode}: ${stderr}`);
      if (performance.now() - started > 600_000) throw new Error('the burst did not drain within 10 minutes');
      const h = await health();
      drained = !!h && h.queue.pending === 0 && h.queue.running === 0 && h.queue.done + h.queue.failed >= opts.runs;
      if (!drained) await new Promise((r) => setTimeout(r, 50));
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const rssPeakMb = procStatus(app.pid, 'VmHWM');
    const cpuAfter = cpuSeconds(app.pid);
    const final = (await health())!;
    const requests = Object.entries(sb.requestCounts()).filter(([k]) => k !== 'total' && k !== 'writes').reduce((n, [, v]) => n + v, 0);

    // Serialization, from the intent records of each job.
    const intervals = opts.intake === 'embedded' ? journalIntervals(join(dataDir, 'intake.jsonl')) : await redisIntervals(redisUrl, prefix);
    const byRepo = new Map<string, { from: number; to: number }[]>();
    for (const iv of intervals) byRepo.set(iv.repo, [...(byRepo.get(iv.repo) ?? []), iv]);
    let overlaps = 0;
    for (const list of byRepo.values()) {
      list.sort((a, b) => a.from - b.from);
      for (let i = 1; i < list.length; i++) if (list[i]!.from < list[i - 1]!.to) overlaps++;
    }
    // How many repositories were being healed at once at some moment (shows the jobs did run in parallel).
    const edges = intervals.flatMap((iv) => [{ t: iv.from, d: 1 }, { t: iv.to, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let now = 0;
    let concurrentRepos = 0;
    for (const e of edges) concurrentRepos = Math.max(concurrentRepos, (now += e.d));

    return {
      runs: opts.runs, repos: opts.repos, intake: opts.intake, acceptSeconds, drainSeconds, healsPerSecond: opts.runs / drainSeconds,
      rssStartMb, rssPeakMb, appCpuSecondsPerHeal: cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / opts.runs : null, statuses: { done: final.queue.done, failed: final.queue.failed, dead: final.queue.dead ?? 0 },
      answers: load.statuses, overlaps, intervals: intervals.length, concurrentRepos, requests,
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (opts.intake === 'redis') await removeRedisKeys(redisUrl, prefix).catch(() => undefined);
  }
}

interface Interval { repo: string; from: number; to: number }

/** `intent` lines of the embedded journal, per job key `owner/repo#run@attempt`: first and last record. */
function journalIntervals(path: string): Interval[] {
  const spans = new Map<string, Interval>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{"t":"intent"')) continue;
    const e = JSON.parse(line) as { key: string; rec: { at: string } };
    add(spans, e.key, Date.parse(e.rec.at));
  }
  return [...spans.values()];
}

function add(spans: Map<string, Interval>, key: string, at: number): void {
  const repo = key.split('#')[0]!;
  const s = spans.get(key);
  if (!s) spans.set(key, { repo, from: at, to: at });
  else spans.set(key, { repo, from: Math.min(s.from, at), to: Math.max(s.to, at) });
}

async function redisIntervals(url: string, prefix: string): Promise<Interval[]> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const spans = new Map<string, Interval>();
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:heal:intent:*`, 'COUNT', 1000);
      cursor = nextCursor;
      for (const k of keys) {
        const jobKey = k.slice(`${prefix}:heal:intent:`.length);
        for (const item of await redis.lrange(k, 0, -1)) add(spans, jobKey, Date.parse((JSON.parse(item) as { at: string }).at));
      }
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return [...spans.values()];
}

async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

export function burstMarkdown(r: BurstResult): string {
  return [
    `${r.runs} failing runs across ${r.repos} repositories, ${r.intake} intake; ${cpus().length} CPU(s), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| figure | value | goal |',
    '|---|---:|---|',
    `| all ${r.runs} deliveries answered | ${r.acceptSeconds.toFixed(2)} s (${Object.entries(r.answers).map(([k, v]) => `${k}: ${v}`).join(', ')}) | — |`,
    `| drained (first delivery → every job done) | ${r.drainSeconds.toFixed(2)} s | — |`,
    `| heals per second | **${r.healsPerSecond.toFixed(1)}** | ≥ 10: ${r.healsPerSecond >= 10 ? 'met' : 'not met'} |`,
    `| the App's CPU per heal (user + system) | ${r.appCpuSecondsPerHeal === null ? '—' : `${(r.appCpuSecondsPerHeal * 1000).toFixed(0)} ms: ${(1 / r.appCpuSecondsPerHeal).toFixed(1)} heals per CPU-second`} | — |`,
    `| peak RSS of the App (VmHWM) | **${r.rssPeakMb.toFixed(0)} MB** (${r.rssStartMb.toFixed(0)} MB after start) | ≤ 250 MB: ${r.rssPeakMb <= 250 ? 'met' : 'not met'} |`,
    `| overlapping heals of one repository | **${r.overlaps}** (of ${r.intervals} heals; up to ${r.concurrentRepos} repositories at once) | 0: ${r.overlaps === 0 ? 'met' : 'not met'} |`,
    `| jobs done / failed / dead | ${r.statuses.done} / ${r.statuses.failed} / ${r.statuses.dead} | — |`,
    `| GitHub requests (sandbox) | ${r.requests} (${(r.requests / r.runs).toFixed(1)} per run) | — |`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const dist = process.argv.includes('--dist');
  if (dist && !existsSync(join(PROJECT_ROOT, 'dist/server/main.js'))) {
    console.error('dist/server/main.js is missing: run `npm run build` first (or leave out --dist)');
    process.exit(2);
  }
  const intake = arg('intake', 'embedded');
  if (intake !== 'embedded' && intake !== 'redis') {
    console.error('--intake must be embedded or redis');
    process.exit(2);
  }
  const root = arg('root', '');
  const r = await runBurst({ runs: Number(arg('runs', '200')), repos: Number(arg('repos', '50')), intake, dist, ...(root ? { root } : {}) });
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : burstMarkdown(r));
  if (r.overlaps > 0) process.exitCode = 1;
}
