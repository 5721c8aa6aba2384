/**
 * Cold start to the first webhook ack: from spawning the process to the first 2xx answer to a
 * correctly signed `ping` webhook (GitHub's first delivery to a new hook), polled every 10 ms.
 *
 *   npm run build && node --import tsx bench/cold-start.ts [--rounds=7]
 *
 * Compared in the same run, interleaved round by round so machine load hits all alike:
 *   bare-probot   node bench/fixtures/bare-probot.mjs     (the baseline: the smallest Probot app)
 *   npm-start     node dist/server/main.js                (what `npm start` runs: the production bundle)
 *   tsc-output    node dist/app/main.js                   (tsc's one-file-per-module output of the same code)
 *   tsx           node --import tsx src/app/main.ts       (what `npm start` ran before: sources through tsx)
 * Each process gets the same App credentials; Living Bridge's GitHub startup check is pointed at an
 * in-process sandbox so nothing leaves the machine.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, appPrivateKey, freePort } from '../src/demo/processes.js';
import { startSandbox } from '../src/sandbox/index.js';

const rounds = Number(/^--rounds=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--rounds=')) ?? '')?.[1] ?? 7);
if (!existsSync(join(PROJECT_ROOT, 'dist/server/main.js')) || !existsSync(join(PROJECT_ROOT, 'dist/app/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

const sandbox = await startSandbox();
const secret = `whsec-${randomBytes(8).toString('hex')}`;
const privateKey = appPrivateKey();
const payload = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'App', id: 1, events: ['workflow_run'] } });
const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;

const CASES: Record<string, string[]> = {
  'bare-probot': [join(PROJECT_ROOT, 'bench/fixtures/bare-probot.mjs')],
  'npm-start': [join(PROJECT_ROOT, 'dist/server/main.js')],
  'tsc-output': [join(PROJECT_ROOT, 'dist/app/main.js')],
  tsx: ['--import', 'tsx', join(PROJECT_ROOT, 'src/app/main.ts')],
};
// --also=name:file.js adds a case (e.g. to compare another build of the App).
for (const a of process.argv.filter((x) => x.startsWith('--also='))) {
  const [name, file] = a.slice('--also='.length).split(':');
  CASES[name!] = [file!];
}

async function coldStart(args: string[]): Promise<number> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production',
    PORT: String(port), HOST: '127.0.0.1', APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: secret,
    TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn',
    GHE_HOST: new URL(sandbox.url).host, GHE_PROTOCOL: 'http',
    LIVING_BRIDGE_DATA_DIR: mkdtempSync(join(tmpdir(), 'lb-cold-')),
  };
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr.slice(-500)}`);
      if (performance.now() - started > 30_000) throw new Error('no ack within 30 s');
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': randomBytes(8).toString('hex'), 'x-hub-signature-256': signature },
          body: payload,
        });
        if (res.status >= 200 && res.status < 300) return performance.now() - started;
        throw new Error(`answered ${res.status}: ${await res.text()}`);
      } catch (err) {
        if (!/fetch failed/.test((err as Error).message)) throw err;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
}

const results: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
for (let i = 0; i < rounds; i++) for (const [name, args] of Object.entries(CASES)) results[name]!.push(await coldStart(args));
await sandbox.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results['bare-probot']!);
console.log(`cold start to first webhook ack, ${rounds} rounds each, median (min–max)\n`);
console.log('| process | median | min | max | ratio to bare Probot |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`| ${name} | ${(m / 1000).toFixed(2)} s | ${(Math.min(...xs) / 1000).toFixed(2)} s | ${(Math.max(...xs) / 1000).toFixed(2)} s | ${(m / base).toFixed(2)}x |`);
}
