/**
 * Bounded state: the App's cold start and memory with an embedded intake journal of 100 000 past heal
 * jobs, against an empty journal, in the same run (rounds interleaved so machine load hits all alike).
 *
 *   node --import tsx bench/intake-journal.ts [--rounds=3] [--jobs=100000] [--baseline=<checkout>]
 *
 * Cases (each a fresh copy of its journal, the App started as `npm start` does, through tsx):
 *   empty      no journal yet
 *   old-100k   100k finished jobs older than the 7-day de-duplication window (the App compacts them away)
 *   recent-100k 100k finished jobs inside the window (their de-duplication keys are kept)
 * Measured: spawn → first 200 from /healthz (ms), and the process's VmRSS right after (MB).
 * `--baseline=<dir>`: a checkout of earlier code (with its node_modules) whose App is started on the same
 * journals, interleaved with this one's, so old and new figures come from the same run and the same load.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, appPrivateKey, freePort } from '../src/demo/processes.js';

const arg = (name: string, dflt: number) => Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? dflt);
const rounds = arg('rounds', 3);
const jobs = arg('jobs', 100_000);
const baseline = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length) ?? null;
const privateKey = appPrivateKey();
const DAY = 86_400_000;

/** A journal as the App writes it: one `submitted` line (with the webhook's run snapshot) and one `done` line per job. */
function journal(path: string, ageMs: number): void {
  const at = Date.now() - ageMs;
  const lines: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const delivery = `${i.toString(16).padStart(8, '0')}-bench-0000-0000-${randomBytes(6).toString('hex')}`;
    const job = {
      id: `wh-${delivery}`, door: 'webhook', delivery_id: delivery, received_at: new Date(at).toISOString(), installation_id: 1,
      request: { repository: `acme/service-${i % 500}`, run_id: 7_000_000_000 + i, run_attempt: 1, dry_run: false },
      workflow_run: {
        id: 7_000_000_000 + i, name: 'Build & Deploy', workflow_id: 42, run_attempt: 1, status: 'completed', conclusion: 'failure',
        head_sha: randomBytes(20).toString('hex'), head_branch: 'main', event: 'push', html_url: `https://github.com/acme/service-${i % 500}/actions/runs/${7_000_000_000 + i}`,
        pull_requests: [], actor: 'octocat', triggering_actor: 'octocat', created_at: new Date(at).toISOString(), updated_at: new Date(at).toISOString(),
      },
    };
    lines.push(JSON.stringify({ t: 'submitted', id: job.id, at, job }), JSON.stringify({ t: 'done', id: job.id, ok: true, at }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const sources: Record<string, string | null> = { empty: null };
const dir = mkdtempSync(join(tmpdir(), 'lb-journal-bench-'));
sources['old-100k'] = join(dir, 'old.jsonl');
journal(sources['old-100k'], 9 * DAY);
sources['recent-100k'] = join(dir, 'recent.jsonl');
journal(sources['recent-100k'], DAY);

async function start(source: string | null, root: string = PROJECT_ROOT): Promise<{ ms: number; rssMb: number; journalMb: number }> {
  const data = mkdtempSync(join(tmpdir(), 'lb-journal-run-'));
  if (source) copyFileSync(source, join(data, 'intake.jsonl'));
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', APP_ID: '1', PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: `whsec-${randomBytes(8).toString('hex')}`, TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn',
    GHE_HOST: '127.0.0.1:9', GHE_PROTOCOL: 'http', LIVING_BRIDGE_DATA_DIR: data, LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: '0',
  };
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/app/main.ts')], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr.slice(-500)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - started;
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    return { ms, rssMb: rss, journalMb: statSync(join(data, 'intake.jsonl'), { throwIfNoEntry: false })?.size ?? 0 };
  } finally {
    child.kill('SIGKILL');
  }
}

const codes: [string, string][] = [['this code', PROJECT_ROOT], ...(baseline ? [['baseline', baseline] as [string, string]] : [])];
const results: Record<string, Record<string, { ms: number[]; rss: number[]; after: number }>> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, source] of Object.entries(sources)) {
    for (const [code, root] of codes) {
      const r = await start(source, root);
      const entry = ((results[code] ??= {})[name] ??= { ms: [], rss: [], after: 0 });
      entry.ms.push(r.ms);
      entry.rss.push(r.rssMb);
      entry.after = r.journalMb / 1024 / 1024;
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`intake journal: ${jobs} past jobs, ${rounds} rounds (median), App through tsx${baseline ? `; baseline ${baseline}` : ''}`);
console.log('| code | journal | size before | cold start (ms) | vs empty | RSS (MB) | vs empty | journal after start |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [code] of codes) {
  const base = results[code]!.empty!;
  for (const [name, r] of Object.entries(results[code]!)) {
    const before = sources[name] ? `${(statSync(sources[name]!).size / 1024 / 1024).toFixed(1)} MB` : '—';
    console.log(`| ${code} | ${name} | ${before} | ${median(r.ms).toFixed(0)} | ${(median(r.ms) / median(base.ms)).toFixed(2)}x | ${median(r.rss).toFixed(0)} | ${(median(r.rss) / median(base.rss)).toFixed(2)}x | ${r.after.toFixed(1)} MB |`);
  }
}
