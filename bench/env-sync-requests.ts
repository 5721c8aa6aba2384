/**
 * Env sync's REST cost on the sandbox, side by side with the secrets-sync-action strategy.
 *
 * A repository declares 50 items (30 variables, 20 secrets, repository scope). Measured per scenario:
 * (a) first sync of an empty repository, (b) a sync with no drift right after it, (b') the next
 * no-drift sync (steady state: every conditional request has a current ETag), (c) a sync after one
 * declared value changed. The baseline ("write everything every run", as secrets-sync-action does for secrets: the
 * public key once per repository, then one write per item) runs on the same sandbox with the same items.
 *
 *   node --import tsx bench/env-sync-requests.ts [--json]
 *
 * "counted" = requests that count against the primary rate limit (every request except 304 answers).
 */
import { randomBytes } from 'node:crypto';
import { Octokit } from '@octokit/rest';
import sodium from 'libsodium-wrappers';
import { pino } from 'pino';
import { createSigner, generateSigningKey } from '../src/core/certificate/index.js';
import type { EnvironmentFileInput, RepoRef } from '../src/core/schemas/index.js';
import { GitHubAdapter, createOctokit } from '../src/github/index.js';
import { createGitLedger } from '../src/ledger/index.js';
import type { PipelineContext } from '../src/pipeline/context.js';
import { sync } from '../src/pipeline/sync.js';
import { SANDBOX_ADMIN_TOKEN, startSandbox, type Sandbox } from '../src/sandbox/index.js';

export interface Cost {
  total: number;
  counted: number;
  notModified: number;
  /** Content-changing requests (POST/PUT/PATCH/DELETE), failed ones included. */
  writes: number;
  /** Breakdown by purpose. */
  audit: number;
  itemWrites: number;
  publicKey: number;
  declarationReads: number;
  ledger: number;
  other: number;
  /** "METHOD /route" (and "<key> 304") -> count. */
  routes: Record<string, number>;
}

const VARIABLES = 30;
const SECRETS = 20;
const INSTALLATION_LIMIT = 12_500;
const REPOS_PER_HOUR = 10_000;

function declaration(changed = false): EnvironmentFileInput {
  const variables: Record<string, string> = {};
  for (let i = 0; i < VARIABLES; i++) variables[`VAR_${String(i).padStart(2, '0')}`] = `value-${i}${changed && i === 7 ? '-changed' : ''}`;
  const secrets: Record<string, { source: 'from_env'; env: string }> = {};
  for (let i = 0; i < SECRETS; i++) secrets[`SECRET_${String(i).padStart(2, '0')}`] = { source: 'from_env', env: `BENCH_SECRET_${i}` };
  return { repository: { variables, secrets } };
}
const secretValues = Object.fromEntries(Array.from({ length: SECRETS }, (_, i) => [`BENCH_SECRET_${i}`, `s3cret-${i}`]));

function cost(counts: Record<string, number>): Cost {
  const c: Cost = { total: 0, counted: 0, notModified: 0, writes: counts.writes ?? 0, audit: 0, itemWrites: 0, publicKey: 0, declarationReads: 0, ledger: 0, other: 0, routes: {} };
  for (const [key, n] of Object.entries(counts)) {
    if (key === 'total' || key === 'writes') continue;
    c.routes[key] = n;
    c.total += n;
    if (key.endsWith(' 304')) c.notModified += n;
    else c.counted += n;
    const route = key.replace(/ 304$/, '');
    const [method] = route.split(' ');
    if (/secrets\/public-key$/.test(route)) c.publicKey += n;
    else if (method === 'GET' && /\/(actions\/secrets|actions\/variables|environments)$/.test(route)) c.audit += n;
    else if (/\/(secrets|variables|environments)(\/\{[a-z_]+\})?$/.test(route)) c.itemWrites += n;
    else if (/\/contents\//.test(route)) c.declarationReads += n;
    else if (/\/git\//.test(route)) c.ledger += n;
    else c.other += n;
  }
  return c;
}

async function seal(value: string, key: string): Promise<string> {
  await sodium.ready;
  return sodium.to_base64(sodium.crypto_box_seal(sodium.from_string(value), sodium.from_base64(key, sodium.base64_variants.ORIGINAL)), sodium.base64_variants.ORIGINAL);
}

/** The baseline: public key once per repository, then write every item, every run (N + 2 requests). */
async function baselineRun(octokit: Octokit, repo: RepoRef, declared: EnvironmentFileInput): Promise<void> {
  await octokit.request('GET /repos/{owner}/{repo}', { ...repo });
  const { data: pk } = await octokit.request('GET /repos/{owner}/{repo}/actions/secrets/public-key', { ...repo });
  for (const [name, s] of Object.entries(declared.repository?.secrets ?? {})) {
    const value = secretValues[(s as { env: string }).env]!;
    await octokit.request('PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}', { ...repo, secret_name: name, encrypted_value: await seal(value, pk.key), key_id: pk.key_id });
  }
  for (const [name, v] of Object.entries(declared.repository?.variables ?? {})) {
    const value = v as string;
    try {
      await octokit.request('PATCH /repos/{owner}/{repo}/actions/variables/{name}', { ...repo, name, value });
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
      await octokit.request('POST /repos/{owner}/{repo}/actions/variables', { ...repo, name, value });
    }
  }
}

type Scenario = 'first' | 'noDrift' | 'noDriftSteady' | 'oneChanged';
export interface BenchResult {
  envSync: Record<Scenario, Cost>;
  baseline: Record<Scenario, Cost>;
  projection: { repos: number; limit: number; rows: { label: string; perRepo: number; perHour: number; share: number }[] };
}

export async function runBench(): Promise<BenchResult> {
  let t = Date.parse('2026-11-23T10:00:00Z');
  const sb: Sandbox = await startSandbox({ now: () => t });
  try {
    const signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(3))).secretKey);
    const github = new GitHubAdapter(createOctokit({ baseUrl: sb.apiUrl, auth: SANDBOX_ADMIN_TOKEN, throttle: false, retry: { enabled: false } }));
    const ctx: PipelineContext = {
      github,
      ledgerFor: (repo, branch) => createGitLedger(github, repo, branch, { signer, now: () => new Date(t), delay: async () => {} }),
      signer,
      now: () => new Date(t),
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
      env: secretValues,
      log: pino({ level: 'silent' }),
      door: 'cli',
      autonomyEnabled: true,
      fromEnvRefusal: () => null,
      grantKeys: {},
    };
    const sleep = async (ms: number): Promise<void> => { t += ms; };
    const measure = async (fn: () => Promise<unknown>): Promise<Cost> => {
      sb.resetRequestCounts();
      await fn();
      return cost(sb.requestCounts());
    };
    const put = (name: string, d: EnvironmentFileInput) => sb.state.commitFiles('bench', name, 'main', { '.github/environment.json': JSON.stringify(d, null, 2) }, 'declare');

    // Living Bridge env sync.
    sb.state.createRepo({ owner: 'bench', repo: 'env-sync' });
    put('env-sync', declaration());
    const run = () => sync(ctx, { repository: 'bench/env-sync', dryRun: false, confirmPrune: false, sleep });
    const first = await measure(run);
    const noDrift = await measure(run);
    const noDriftSteady = await measure(run);
    put('env-sync', declaration(true));
    const oneChanged = await measure(run);

    // Baseline on the same sandbox, same items.
    sb.state.createRepo({ owner: 'bench', repo: 'baseline' });
    const octokit = new Octokit({ baseUrl: sb.apiUrl, auth: SANDBOX_ADMIN_TOKEN, log: { debug() {}, info() {}, warn() {}, error() {} } });
    const repo = { owner: 'bench', repo: 'baseline' };
    const bFirst = await measure(() => baselineRun(octokit, repo, declaration()));
    const bNoDrift = await measure(() => baselineRun(octokit, repo, declaration()));
    const bNoDriftSteady = await measure(() => baselineRun(octokit, repo, declaration()));
    const bOne = await measure(() => baselineRun(octokit, repo, declaration(true)));

    const row = (label: string, perRepo: number) => ({ label, perRepo, perHour: perRepo * REPOS_PER_HOUR, share: (perRepo * REPOS_PER_HOUR) / INSTALLATION_LIMIT });
    const driftShare = 0.02;
    // A repository that drifted this hour pays (c), and its next clean hour pays (b) (ETags moved).
    const mixed = (share: number) => share * (oneChanged.counted + noDrift.counted) + (1 - 2 * share) * noDriftSteady.counted;
    return {
      envSync: { first, noDrift, noDriftSteady, oneChanged },
      baseline: { first: bFirst, noDrift: bNoDrift, noDriftSteady: bNoDriftSteady, oneChanged: bOne },
      projection: {
        repos: REPOS_PER_HOUR,
        limit: INSTALLATION_LIMIT,
        rows: [
          row('baseline: write everything every hour', bNoDriftSteady.counted),
          row("env sync, every repository clean (steady state (b'), all 304)", noDriftSteady.counted),
          row('env sync, every repository just after a change (b)', noDrift.counted),
          row(`env sync, ${driftShare * 100} % of repositories drifting by one item each hour`, mixed(driftShare)),
          row('env sync, 10 % of repositories drifting by one item each hour', mixed(0.1)),
          row('env sync, every repository drifting by one item every hour (c)', oneChanged.counted),
        ],
      },
    };
  } finally {
    await sb.close();
  }
}

export function markdown(r: BenchResult): string {
  const cols: [string, keyof Cost][] = [['requests', 'total'], ['counted (non-304)', 'counted'], ['304', 'notModified'], ['writes', 'writes'], ['audit lists', 'audit'], ['item writes', 'itemWrites'], ['public key', 'publicKey'], ['declaration reads', 'declarationReads'], ['ledger (git data)', 'ledger'], ['other', 'other']];
  const lines = [
    `| scenario | strategy | ${cols.map(([h]) => h).join(' | ')} |`,
    `|---|---|${cols.map(() => '---:').join('|')}|`,
  ];
  const scen: [string, Scenario][] = [['(a) first sync', 'first'], ['(b) no drift, right after (a)', 'noDrift'], ["(b') no drift, steady state", 'noDriftSteady'], ['(c) one changed item', 'oneChanged']];
  for (const [label, k] of scen) {
    lines.push(`| ${label} | env sync | ${cols.map(([, c]) => r.envSync[k][c]).join(' | ')} |`);
    lines.push(`| ${label} | write-everything baseline | ${cols.map(([, c]) => r.baseline[k][c]).join(' | ')} |`);
  }
  lines.push('', `Projection: ${r.projection.repos.toLocaleString('en-US')} repositories synced once an hour against one installation's ${r.projection.limit.toLocaleString('en-US')} requests/hour.`, '');
  lines.push('| strategy | counted requests per repo-hour | per hour | share of the limit |', '|---|---:|---:|---:|');
  for (const p of r.projection.rows) lines.push(`| ${p.label} | ${p.perRepo.toFixed(2)} | ${Math.round(p.perHour).toLocaleString('en-US')} | ${(p.share * 100).toFixed(0)} % |`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runBench();
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : markdown(r));
}
