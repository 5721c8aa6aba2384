/**
 * The App's scheduled env sync (src/schedule: the EnvSyncScheduler the App runs) over a fleet of
 * repositories on the sandbox, with a virtual clock so hours pass in seconds. Requests are counted by
 * the sandbox per pass; "counted" = every answer except 304 (GitHub: a 304 to a conditional request
 * is free against the primary rate limit).
 *
 * Passes (one installation, `--repos` repositories, 90 % declaring `.github/environment.json` with
 * 4 variables and 1 from_env secret, 10 % declaring nothing):
 *   adoption   the first pass(es): every declared repository is written once (paced: 450 writes/hour)
 *   settle     the pass after adoption (the audit lists the writes changed are re-read once)
 *   steady     nothing drifted
 *   restart    a new scheduler, adapter cache and ledger cache (a restarted App) on the same state directory
 *   drift-1..3 each pass 2 % of the repositories drift by one item: half by a value changed on GitHub
 *              (UI), half by a pushed change of environment.json; each pass also pays for the previous
 *              pass's drift (moved ETags, moved pushed_at): the steady state of "2 % drifting every hour"
 *
 *   node --import tsx bench/env-sync-schedule.ts [--repos=1000] [--quick] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createSigner, generateSigningKey } from '../src/core/certificate/index.js';
import type { EnvironmentFileInput } from '../src/core/schemas/index.js';
import { sandboxScheduler } from '../src/demo/schedule-harness.js';
import type { EnvSyncScheduler } from '../src/schedule/scheduler.js';
import { FileScheduleStore } from '../src/schedule/store.js';
import { startSandbox } from '../src/sandbox/index.js';

const arg = (name: string, dflt: number): number => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : dflt;
};
const REPOS = arg('repos', 1000);
const PROJECT_REPOS = 10_000;
/** --quick: two drift passes instead of three (the regime is then measured on one pass). */
const DRIFT_PASSES = process.argv.includes('--quick') ? 2 : 3;
const INSTALLATION_LIMIT = 12_500;
const INSTALLATION_ID = 1;
const OWNER = 'fleet';

const declaration = (i: number, bump = 0): EnvironmentFileInput => ({
  repository: {
    variables: { API_URL: `https://api-${i}.example.test`, REGION: 'eu-west-1', REPLICAS: String(2 + bump), LOG_LEVEL: 'info' },
    secrets: { DEPLOY_TOKEN: { source: 'from_env', env: 'FLEET_DEPLOY_TOKEN' } },
  },
});

export interface PassCost { label: string; pass: number; repositories: number; turns: number; total: number; counted: number; notModified: number; writes: number; countedPerRepo: number; routes: Record<string, number>; virtualHours: number; wallSeconds: number }

function costOf(counts: Record<string, number>): Pick<PassCost, 'total' | 'counted' | 'notModified' | 'writes' | 'routes'> {
  let total = 0;
  let notModified = 0;
  const routes: Record<string, number> = {};
  for (const [k, n] of Object.entries(counts)) {
    if (k === 'total' || k === 'writes') continue;
    routes[k] = n;
    total += n;
    if (k.endsWith(' 304')) notModified += n;
  }
  return { total, counted: total - notModified, notModified, writes: counts.writes ?? 0, routes };
}

export interface ScheduleBenchResult {
  repos: number;
  declared: number;
  passes: PassCost[];
  projection: { repos: number; limit: number; steadyPerHour: number; steadyShare: number; driftPerHour: number; driftShare: number; countedPerRepoHourSteady: number; countedPerRepoHourDrift: number };
  stateFiles: number;
}

export async function runScheduleBench(repos = REPOS): Promise<ScheduleBenchResult> {
  let t = Date.parse('2026-12-01T00:00:00Z');
  const sb = await startSandbox({ now: () => t });
  const dir = mkdtempSync(join(tmpdir(), 'lb-schedule-bench-'));
  try {
    const signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(5))).secretKey);
    const names: string[] = [];
    let declared = 0;
    for (let i = 0; i < repos; i++) {
      const name = `repo-${String(i).padStart(5, '0')}`;
      names.push(name);
      sb.state.createRepo({ owner: OWNER, repo: name });
      if (i % 10 !== 9) {
        declared++;
        sb.state.commitFiles(OWNER, name, 'main', { '.github/environment.json': JSON.stringify(declaration(i), null, 2) }, 'declare');
      }
    }
    const sleep = async (ms: number): Promise<void> => {
      t += Math.max(0, ms);
    };
    const log = pino({ level: 'silent' });
    /** A scheduler as a freshly started App builds it (empty caches), on the same state directory. */
    const newScheduler = (): EnvSyncScheduler =>
      sandboxScheduler({ apiUrl: sb.apiUrl, store: new FileScheduleStore(dir), signer, log, clock: { now: () => t, sleep }, env: { FLEET_DEPLOY_TOKEN: 'fleet-deploy-token-value' }, installationId: INSTALLATION_ID });

    const passes: PassCost[] = [];
    let scheduler = newScheduler();
    const pass = async (label: string): Promise<PassCost> => {
      sb.resetRequestCounts();
      const t0 = t;
      const w0 = Date.now();
      const r = await scheduler.runPass(INSTALLATION_ID);
      const c = costOf(sb.requestCounts());
      const p: PassCost = { label, pass: r.pass, repositories: repos, turns: r.turns, ...c, countedPerRepo: c.counted / repos, virtualHours: (t - t0) / 3_600_000, wallSeconds: (Date.now() - w0) / 1000 };
      passes.push(p);
      return p;
    };

    await pass('adoption');
    await pass('settle');
    const steady = await pass('steady');
    scheduler = newScheduler();
    const restart = await pass('restart (new process, same state directory)');
    const driftCount = Math.max(2, Math.round(repos * 0.02));
    const declaredIdx = names.map((_, i) => i).filter((i) => i % 10 !== 9);
    const drift = (round: number) => {
      for (let k = 0; k < driftCount; k++) {
        const i = declaredIdx[(round * 97 + k * 37) % declaredIdx.length]!;
        const name = names[i]!;
        if (k % 2 === 0) sb.state.setVariable(OWNER, name, 'REGION', `changed-by-hand-${round}`); // UI drift: no push
        else sb.state.commitFiles(OWNER, name, 'main', { '.github/environment.json': JSON.stringify(declaration(i, round + 1), null, 2) }, 'bump replicas'); // declaration pushed
      }
    };
    const drifts: PassCost[] = [];
    for (let round = 1; round <= DRIFT_PASSES; round++) {
      drift(round);
      drifts.push(await pass(`drift-${round}: 2 % drift this pass`));
    }
    // Steady state of "2 % drift every hour": passes 2 and 3 of the drift (each pays its own drift and the previous one's aftermath).
    const regime = drifts.slice(1);
    const perRepoDrift = regime.reduce((a, p) => a + p.counted, 0) / regime.length / repos;
    const perRepoSteady = Math.max(steady.counted, restart.counted) / repos;
    return {
      repos,
      declared,
      passes,
      projection: {
        repos: PROJECT_REPOS,
        limit: INSTALLATION_LIMIT,
        countedPerRepoHourSteady: perRepoSteady,
        steadyPerHour: perRepoSteady * PROJECT_REPOS,
        steadyShare: (perRepoSteady * PROJECT_REPOS) / INSTALLATION_LIMIT,
        countedPerRepoHourDrift: perRepoDrift,
        driftPerHour: perRepoDrift * PROJECT_REPOS,
        driftShare: (perRepoDrift * PROJECT_REPOS) / INSTALLATION_LIMIT,
      },
      stateFiles: await new FileScheduleStore(dir).count(),
    };
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function scheduleMarkdown(r: ScheduleBenchResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lines = [
    `${r.repos} repositories (${r.declared} declaring environment.json), one installation; state files: ${r.stateFiles}`,
    '',
    '| pass | turns | requests | counted (non-304) | 304 | writes | counted per repository | virtual hours | wall s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.passes.map((p) => `| ${p.label} | ${p.turns} | ${p.total} | ${p.counted} | ${p.notModified} | ${p.writes} | ${p.countedPerRepo.toFixed(3)} | ${p.virtualHours.toFixed(1)} | ${p.wallSeconds.toFixed(1)} |`),
    '',
    `Projection to ${r.projection.repos.toLocaleString('en')} repositories against ${r.projection.limit.toLocaleString('en')} requests/hour:`,
    '',
    '| regime | counted per repository-hour | per hour | share of the limit |',
    '|---|---:|---:|---:|',
    `| no drift | ${r.projection.countedPerRepoHourSteady.toFixed(4)} | ${Math.round(r.projection.steadyPerHour)} | ${pct(r.projection.steadyShare)} |`,
    `| 2 % of repositories drifting by one item every hour | ${r.projection.countedPerRepoHourDrift.toFixed(4)} | ${Math.round(r.projection.driftPerHour)} | ${pct(r.projection.driftShare)} |`,
  ];
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runScheduleBench();
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : scheduleMarkdown(r));
}
