/**
 * Webhook-door throughput (issue 16): signed `workflow_run.completed` failure deliveries, each a new
 * run, sent at a fixed concurrency for a fixed time to
 *
 *   bare-probot   bench/fixtures/bare-probot-webhooks.mjs   (the baseline: Probot's own door, a no-op handler)
 *   embedded      the App (src/app/main.ts), embedded intake journaled in LIVING_BRIDGE_DATA_DIR
 *   redis         the App with REDIS_URL (BullMQ intake, a fresh key prefix, removed afterwards)
 *
 * Every process gets the same App credentials and the same deliveries; rounds are interleaved (the
 * order rotates) so the machine's load hits every process alike, and each round's throughput is
 * divided by the bare Probot app's in the same round.
 *
 * What is measured is the door: verify, parse, record the job durably, answer 202. The App's workers
 * take the jobs but their GitHub host is a socket that accepts and never answers (nothing leaves the
 * machine, and no heal competes with the door for the CPU); bench/burst.ts measures heals.
 *
 *   node --import tsx bench/webhook-door.ts [--rounds=5] [--ms=3000] [--concurrency=16] [--no-redis] [--dist] [--root=DIR] [--json]
 *
 * `--root=DIR` adds the App of another checkout (e.g. an older commit, with node_modules) as more
 * cases in the same rounds: a before/after measured under the same load.
 *
 * `--dist` runs the production bundle (`npm run build` first: dist/server/main.js, what `npm start` runs)
 * instead of the sources through tsx. REDIS_URL (default redis://127.0.0.1:6379) names the Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, appPrivateKey, freePort } from '../src/demo/processes.js';
import { createSandboxState, seedScenario } from '../src/sandbox/index.js';
import { runLoad, signedDelivery, type LoadResult } from './load.js';

const arg = (name: string, fallback: number): number => Number(/=(.+)$/.exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const rounds = arg('rounds', 5);
const ms = arg('ms', 3000);
const concurrency = arg('concurrency', 16);
const withRedis = !process.argv.includes('--no-redis');
const dist = process.argv.includes('--dist');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const otherRoot = /=(.+)$/.exec(process.argv.find((a) => a.startsWith('--root=')) ?? '')?.[1];

if (dist && !existsSync(join(PROJECT_ROOT, 'dist/server/main.js'))) {
  console.error('dist/server/main.js is missing: run `npm run build` first (or leave out --dist)');
  process.exit(2);
}

/** A GitHub host that accepts connections and never answers: the App's workers wait on it, idle. */
async function blackHole(): Promise<{ host: string; close(): void }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(srv.address() as { port: number }).port}`, close: () => { for (const s of sockets) s.destroy(); srv.close(); } };
}

/** A realistic workflow_run.completed (failure) payload from the sandbox, as a template with the run id cut out. */
async function payloadTemplate(): Promise<(runId: number) => unknown> {
  const state = await createSandboxState();
  const seeded = seedScenario(state, 'missing-secret', 'bench', { repo: 'door' });
  const payload = state.webhookPayloadFor('bench', 'door', seeded.runId!).payload as { workflow_run: Record<string, unknown> };
  if ((payload.workflow_run as { conclusion?: string }).conclusion !== 'failure') throw new Error('the seeded run did not fail');
  return (runId) => ({ ...payload, workflow_run: { ...payload.workflow_run, id: runId, run_attempt: 1 } });
}

interface Target { name: string; url: string; child: ChildProcess; stop(): Promise<void> }

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** One round against one target: the load's figures plus the target's deliveries per CPU-second. */
async function measure(t: Target, next: () => ReturnType<typeof signedDelivery>, opts: { concurrency: number; ms: number }): Promise<Round> {
  const before = cpuSeconds(t.child.pid);
  const r = await runLoad(t.url, next, opts);
  const after = cpuSeconds(t.child.pid);
  return { ...r, perCpuSecond: before !== null && after !== null && after > before ? r.requests / (after - before) : null };
}

async function start(name: string, args: string[], env: Record<string, string>, port: number, secret: string, cwd = PROJECT_ROOT): Promise<Target> {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}/api/github/webhooks`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`${name} did not answer a ping within 60 s: ${stderr}`);
    const ping = signedDelivery(secret, 'ping', { zen: 'Design for failure.', hook_id: 1 });
    const ok = await fetch(url, { method: 'POST', headers: ping.headers, body: ping.body }).then((r) => r.status < 300, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
  return { name, url, child, stop };
}

async function removeRedisKeys(prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  return removed;
}

interface Round extends LoadResult { perCpuSecond: number | null }

export interface DoorCase {
  name: string;
  rounds: Round[];
  medianPerSecond: number;
  /** Throughput / bare Probot's in the same round (wall clock: what the process got of the machine counts). */
  medianRatio: number | null;
  ratios: number[];
  /** Deliveries per CPU-second of the process, and its ratio to bare Probot's in the same round (load-independent). */
  medianPerCpuSecond: number | null;
  medianCpuRatio: number | null;
  cpuRatios: number[];
  p99Ms: number;
  statuses: Record<string, number>;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };

export async function runDoorBench(): Promise<{ concurrency: number; ms: number; rounds: number; cases: DoorCase[] }> {
  const hole = await blackHole();
  const secret = `whsec-${randomBytes(12).toString('hex')}`;
  const privateKey = appPrivateKey();
  const template = await payloadTemplate();
  const prefix = `lb-bench-door-${randomBytes(4).toString('hex')}`;
  const dataDirs: string[] = [];
  const common = { APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: secret, HOST: '127.0.0.1', LOG_LEVEL: 'info', GHE_HOST: hole.host, GHE_PROTOCOL: 'http' };
  const app = (extra: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'lb-door-'));
    dataDirs.push(dir);
    return {
      ...common,
      TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'),
      LIVING_BRIDGE_DATA_DIR: dir,
      LIVING_BRIDGE_ENV_SYNC_SCHEDULE: 'off',
      LIVING_BRIDGE_STARTUP_CHECK: 'off',
      LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: '0',
      ...extra,
    };
  };
  const appArgs = dist ? [join(PROJECT_ROOT, 'dist/server/main.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'src/app/main.ts')];
  const targets: Target[] = [];
  try {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    targets.push(await start('bare-probot', [join(PROJECT_ROOT, 'bench/fixtures/bare-probot-webhooks.mjs')], { ...common, PORT: String(ports[0]) }, ports[0]!, secret));
    targets.push(await start('embedded', appArgs, app({ PORT: String(ports[1]) }), ports[1]!, secret));
    if (withRedis) targets.push(await start('redis', appArgs, app({ PORT: String(ports[2]), REDIS_URL: redisUrl, LIVING_BRIDGE_REDIS_PREFIX: prefix }), ports[2]!, secret));
    // --root=DIR: the same App from another checkout (an older commit), measured in the same rounds.
    if (otherRoot) {
      const otherArgs = ['--import', 'tsx', join(otherRoot, 'src/app/main.ts')];
      const p1 = await freePort();
      targets.push(await start('embedded (--root)', otherArgs, app({ PORT: String(p1) }), p1, secret, otherRoot));
      if (withRedis) {
        const p2 = await freePort();
        targets.push(await start('redis (--root)', otherArgs, app({ PORT: String(p2), REDIS_URL: redisUrl, LIVING_BRIDGE_REDIS_PREFIX: prefix }), p2, secret, otherRoot));
      }
    }

    let runId = 8_000_000_000;
    const next = () => signedDelivery(secret, 'workflow_run', template(++runId));
    const results = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    // One short warm-up each (JIT, connection pools, Redis scripts), not recorded.
    for (const t of targets) await runLoad(t.url, next, { concurrency, ms: Math.min(1000, ms) });
    for (let r = 0; r < rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
      for (const t of order) results.get(t.name)!.push(await measure(t, next, { concurrency, ms }));
    }
    const base = results.get('bare-probot')!;
    return {
      concurrency, ms, rounds,
      cases: targets.map((t) => {
        const rs = results.get(t.name)!;
        const ratios = rs.map((x, i) => x.perSecond / base[i]!.perSecond);
        const cpuRatios = rs.flatMap((x, i) => (x.perCpuSecond !== null && base[i]!.perCpuSecond !== null ? [x.perCpuSecond / base[i]!.perCpuSecond!] : []));
        const perCpu = rs.flatMap((x) => (x.perCpuSecond === null ? [] : [x.perCpuSecond]));
        const statuses: Record<string, number> = {};
        for (const x of rs) for (const [k, v] of Object.entries(x.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
        if (rs.some((x) => x.errors > 0)) statuses.error = rs.reduce((n, x) => n + x.errors, 0);
        return { name: t.name, rounds: rs, medianPerSecond: median(rs.map((x) => x.perSecond)), medianRatio: t.name === 'bare-probot' ? null : median(ratios), ratios,
          medianPerCpuSecond: perCpu.length ? median(perCpu) : null, medianCpuRatio: t.name === 'bare-probot' || !cpuRatios.length ? null : median(cpuRatios), cpuRatios, p99Ms: median(rs.map((x) => x.p99Ms)), statuses };
      }),
    };
  } finally {
    for (const t of targets) await t.stop();
    hole.close();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    if (withRedis) await removeRedisKeys(prefix).catch((err: unknown) => console.error(`could not remove the bench's Redis keys (${prefix}:*): ${(err as Error).message}`));
  }
}

export function doorMarkdown(r: Awaited<ReturnType<typeof runDoorBench>>): string {
  const lines = [
    `${r.rounds} interleaved rounds of ${r.ms / 1000} s at concurrency ${r.concurrency}; ${cpus().length} CPU(s), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| door | deliveries/s (median) | ratio to bare Probot, same round (median; all rounds) | deliveries per CPU-second (median) | CPU ratio (median; all rounds) | p99 latency (median of rounds) | answers |',
    '|---|---:|---|---:|---|---:|---|',
  ];
  const fmt = (m: number | null, xs: number[]) => (m === null ? '1.00x (baseline)' : `**${m.toFixed(2)}x**; ${xs.map((x) => x.toFixed(2)).join(', ')}`);
  for (const c of r.cases) {
    lines.push(`| ${c.name} | ${c.medianPerSecond.toFixed(0)} | ${fmt(c.medianRatio, c.ratios)} | ${c.medianPerCpuSecond?.toFixed(0) ?? '—'} | ${c.medianPerCpuSecond === null ? '—' : fmt(c.medianCpuRatio, c.cpuRatios)} | ${c.p99Ms.toFixed(1)} ms | ${Object.entries(c.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runDoorBench();
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : doorMarkdown(r));
}
