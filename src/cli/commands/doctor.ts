import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readAppSettings, readPrivateKey } from '../../app/config.js';
import { appJwt, githubApiBase } from '../../app/reachability.js';
import { createSigner, generateSigningKey } from '../../core/certificate/index.js';
import { ENVIRONMENT_FILE_PATH, REPO_CONFIG_PATH, SchemaError, parseRepoFullName, type RepoRef } from '../../core/schemas/index.js';
import { createOctokit, type LivingBridgeOctokit } from '../../github/index.js';
import { appInstallation, installationToken, probeRepository, reach, repositoryView, tokenKind, whoAmI, NEEDED_PERMISSIONS } from '../../github/preflight.js';
import { buildContext, createLogger, loadSigner, pipelineSettingsFrom } from '../../pipeline/build-context.js';
import { checkConfigText, formatDiagnostic } from '../../pipeline/config-check.js';
import { loadRepoConfig } from '../../pipeline/repo-files.js';
import { pinnedKeys } from '../../pipeline/trust.js';
import { verifyLedger } from '../../pipeline/verify.js';
import { explainGitHubError } from '../errors.js';
import { apiUrlOf, JSON_FLAG, print, repoOption, tokenFrom, type CliRuntime, type CommandModule } from '../runtime.js';

/** One finding: `error` blocks (exit 1), `warn` degrades, `ok`/`info` are for the record. Each problem says its fix. */
export interface Finding { check: string; status: 'ok' | 'info' | 'warn' | 'error'; detail: string; fix?: string }

/** The App permissions Living Bridge asks for in app.yml: missing ones block, except those that only degrade. */
const APP_PERMISSIONS: { permission: string; needs: 'read' | 'write'; optional?: string }[] = [
  { permission: 'actions', needs: 'write' }, { permission: 'secrets', needs: 'write' }, { permission: 'actions_variables', needs: 'write' },
  { permission: 'environments', needs: 'write' }, { permission: 'contents', needs: 'write' }, { permission: 'issues', needs: 'write' },
  { permission: 'pull_requests', needs: 'write' }, { permission: 'checks', needs: 'write' }, { permission: 'metadata', needs: 'read' },
  { permission: 'administration', needs: 'write', optional: 'without it deployment environments are not created and the config loop leaves its PR for a human' },
  { permission: 'statuses', needs: 'read', optional: 'without it the config loop cannot see external CI statuses on its PR' },
  { permission: 'deployments', needs: 'read', optional: 'without it a run whose environment is an expression is healed at the default level' },
];
const satisfies = (has: string | undefined, needs: 'read' | 'write'): boolean => has === 'write' || has === 'admin' || (needs === 'read' && has === 'read');

const hasAppCredentials = (env: CliRuntime['io']['env']): boolean => Boolean(env.APP_ID || env.PRIVATE_KEY || env.PRIVATE_KEY_PATH);

class Report {
  readonly findings: Finding[] = [];
  add(check: string, status: Finding['status'], detail: string, fix?: string): void {
    this.findings.push({ check, status, detail, ...(fix ? { fix } : {}) });
  }
}

/** Why a GitHub call failed, in one line (never a token). */
function why(err: unknown, base: string): string {
  return explainGitHubError(err, base) ?? (err as Error).message.split('\n')[0]!;
}

/** The App's own variables and credentials: the same checks as its startup, then GET /app with the JWT. */
async function checkApp(rt: CliRuntime, r: Report, base: string, repo: RepoRef | null): Promise<string | null> {
  const { env } = rt.io;
  try {
    readAppSettings(env);
    r.add('app settings', 'ok', 'every variable the App reads at startup is set and well-formed');
  } catch (err) {
    for (const line of (err as Error).message.split('\n').slice(1)) r.add('app settings', 'error', line.replace(/^- /, ''), 'set it in the App\'s environment (.env, the compose file or the deployment); docs/app.md lists every variable');
  }
  let pem: string | null = null;
  try {
    pem = readPrivateKey(env);
  } catch {
    return null;
  }
  if (!env.APP_ID || !pem) return null;
  let jwt: string;
  try {
    jwt = appJwt(env.APP_ID, pem, new Date());
  } catch {
    return null; // the startup checks above already named the key's problem
  }
  const app = createOctokit({ auth: jwt, baseUrl: base, retry: { retries: 0 } });
  try {
    const { slug, installation } = await appInstallation(app, repo);
    r.add('app', 'ok', `GitHub at ${base} accepts APP_ID ${env.APP_ID} and its private key: the App ${slug}`);
    if (!installation || !repo) return null;
    const missing = APP_PERMISSIONS.filter((p) => !satisfies(installation.permissions[p.permission], p.needs));
    for (const p of APP_PERMISSIONS) {
      const has = installation.permissions[p.permission] ?? 'none';
      if (satisfies(has, p.needs)) continue;
      r.add(`permission ${p.permission}`, p.optional ? 'warn' : 'error', `the installation on ${repo.owner}/${repo.repo} has ${p.permission}: ${has}, Living Bridge needs ${p.needs}${p.optional ? ` (${p.optional})` : ''}`,
        `in the App's settings, Permissions & events: ${p.permission} → ${p.needs === 'write' ? 'Read and write' : 'Read-only'}; then accept the new permissions on the installation (app.yml lists why each is needed)`);
    }
    if (missing.length === 0) r.add('app permissions', 'ok', `installation ${installation.id} on ${repo.owner}/${repo.repo} has every permission app.yml asks for`);
    return await installationToken(app, installation.id);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401) r.add('app', 'error', `GitHub at ${base} rejected the App's JWT (401)`, 'APP_ID and PRIVATE_KEY must belong to the same App; check this machine\'s clock (the JWT is valid for 10 minutes)');
    else if (status === 404 && repo) r.add('app installation', 'error', `the App is not installed on ${repo.owner}/${repo.repo}`, 'install the App on the repository (its settings page, Install App), or name a repository it is installed on');
    else r.add('app', 'error', why(err, base), 'check that GitHub is reachable from here (proxy, firewall, GHE_HOST)');
    return null;
  }
}

/** The token: its kind, GitHub's answer, a classic token's scopes and the token's user. */
async function checkToken(r: Report, octokit: LivingBridgeOctokit, token: string, base: string, fromApp: boolean): Promise<boolean> {
  const kind = tokenKind(token);
  const label = fromApp ? 'an installation token minted for the App' : { installation: 'an App installation token', 'classic-pat': 'a classic personal access token', 'fine-grained-pat': 'a fine-grained personal access token', oauth: 'an OAuth App token', 'user-to-server': 'a GitHub App user token', actions: 'a GITHUB_TOKEN', unknown: 'a token of unknown kind (no ghs_/ghp_/github_pat_ prefix)' }[kind];
  const reached = await reach(octokit);
  if (!reached.ok) {
    if (reached.status === 401) r.add('token', 'error', `GitHub at ${base} rejected the token (401): it is ${label}`, 'LIVING_BRIDGE_TOKEN is expired, revoked or mistyped: create a new one (docs/cli.md lists what it needs)');
    else r.add('reachability', 'error', reached.status === null ? `cannot reach GitHub at ${base}: ${reached.error ?? 'no answer'}` : `GitHub at ${base} answered GET /rate_limit with HTTP ${reached.status}`, 'check the URL (--api-url, GITHUB_API_URL), the network, a proxy (HTTPS_PROXY) or a firewall');
    return false;
  }
  r.add('reachability', 'ok', `GitHub at ${base} answered in ${reached.ms} ms${reached.rateRemaining !== null ? `; ${reached.rateRemaining} core requests left this hour` : ''}`);
  if (reached.rateRemaining !== null && reached.rateRemaining < 100) r.add('rate limit', 'warn', `only ${reached.rateRemaining} core requests left this hour`, 'wait for the reset, or use an App installation token (its limit grows with the installation)');
  r.add('token', 'ok', `${label}, accepted by GitHub`);
  if (kind === 'classic-pat' && reached.scopes) {
    if (!reached.scopes.includes('repo')) r.add('token scopes', 'error', `the classic token's scopes are ${reached.scopes.join(', ') || '(none)'}: without \`repo\` it cannot write secrets, variables, issues or the ledger`, 'create a token with the repo scope, or better an App installation token or a fine-grained token');
    else r.add('token scopes', 'ok', `scopes: ${reached.scopes.join(', ')}`);
  }
  if (kind === 'actions' || (kind === 'installation' && !fromApp)) {
    r.add('token kind', 'info', 'an installation token lasts an hour; a workflow\'s GITHUB_TOKEN cannot write secrets or variables at all (docs/action.md)');
  }
  const login = await whoAmI(octokit).catch(() => null);
  r.add('token user', 'info', login ? `acts as ${login} (approve/reject record this login)` : 'the token has no user of its own (an App token): approve/reject need --by <login>');
  return true;
}

/** The repository: what the token can read, both config files, the ledger. */
async function checkRepository(rt: CliRuntime, r: Report, octokit: LivingBridgeOctokit, token: string, base: string, repository: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  let defaultBranch: string;
  try {
    const view = await repositoryView(octokit, repo);
    defaultBranch = view.defaultBranch;
    if (view.permissions && !view.permissions.push && !view.permissions.admin) r.add('repository', 'error', `${repository} is visible, but the token's user cannot push to it: Living Bridge cannot write the ledger or any fix`, 'use a token of a user with write access, or an App installation token');
    else r.add('repository', 'ok', `${repository} is visible (default branch ${defaultBranch})${view.permissions ? `; the token's user may ${view.permissions.admin ? 'administer' : 'push to'} it` : ''}`);
  } catch (err) {
    r.add('repository', 'error', why(err, base), 'check the name; a private repository answers 404 when the token cannot see it');
    return;
  }
  for (const p of await probeRepository(octokit, repo, defaultBranch)) {
    if (p.read === 'ok') {
      r.add(`permission ${p.permission}`, 'ok', `readable (${p.detail}; needs ${p.needs}: a write cannot be tested without writing)`);
    } else {
      r.add(`permission ${p.permission}`, p.read === 'not-found' ? 'warn' : 'error', `cannot read: ${p.detail}`, `give the token ${p.permission}: ${p.needs} (an App: its Permissions page; a fine-grained token: Repository permissions)`);
    }
  }
  // The pipeline's own readers: the same rules as a heal (a custom ledger.branch is checked against GitHub).
  const signer = await loadSigner(rt.io.env).catch(() => null);
  const ctx = buildContext({
    token, baseUrl: base, settings: pipelineSettingsFrom(rt.io.env), door: 'cli', repository, log: createLogger('living-bridge-doctor', 'silent', { fd: 2 }), retry: { retries: 0 },
    // Nothing is signed here: without a key, a throwaway one (the ledger is only read).
    signer: signer ?? (await createSigner((await generateSigningKey(new Uint8Array(randomBytes(32)))).secretKey)),
  });
  let branch: string | null = null;
  for (const [path, kind] of [[REPO_CONFIG_PATH, 'autonomy'], [ENVIRONMENT_FILE_PATH, 'environment']] as const) {
    try {
      const file = await ctx.github.readFile(repo, path);
      if (!file) {
        r.add(path, kind === 'autonomy' ? 'warn' : 'info', `${repository} has no ${path} on ${defaultBranch}`, kind === 'autonomy' ? 'without it every default applies (level balanced, deploy workflow "Build & Deploy", no secret sources): add one (docs/schema/autonomy.schema.json)' : undefined);
        continue;
      }
      const problems = checkConfigText(path, file.content, kind);
      for (const d of problems) r.add(path, 'error', formatDiagnostic(d), `fix it on ${defaultBranch} (\`living-bridge validate\` checks a checkout)`);
      if (problems.length === 0) r.add(path, 'ok', `valid on ${defaultBranch}`);
    } catch (err) {
      r.add(path, 'error', why(err, base), 'the token needs contents: read');
    }
  }
  try {
    const config = await loadRepoConfig(ctx.github, repo);
    branch = config.ledger.branch;
    if (!config.enabled) r.add('autonomy', 'warn', `${REPO_CONFIG_PATH} says enabled: false: every decision is a noop`, 'set enabled: true when Living Bridge should act');
  } catch (err) {
    if (err instanceof SchemaError) {
      for (const i of err.issues.filter((x) => x.path === 'ledger.branch')) r.add('ledger branch', 'error', i.message, `name a branch of its own in ledger.branch of ${REPO_CONFIG_PATH}`);
    } else {
      r.add('autonomy', 'error', why(err, base));
    }
  }
  if (!branch) return;
  const trust = pinnedKeys({ env: rt.io.env, signer });
  if (Object.keys(trust.keys).length === 0) {
    try {
      const head = await ctx.github.getBranchHead(repo, branch);
      r.add('ledger', head ? 'ok' : 'info', head ? `branch ${branch} is readable (not verified: no pinned key)` : `no ledger branch ${branch} yet: the first heal or sync creates it`);
    } catch (err) {
      r.add('ledger', 'error', why(err, base), 'the token needs contents: read');
    }
    return;
  }
  try {
    const report = await verifyLedger(ctx, repository, trust);
    if (report.status === 'no-ledger') r.add('ledger', 'info', `no ledger branch ${branch} yet: the first heal or sync creates it`);
    else if (report.ok) r.add('ledger', 'ok', `branch ${branch}: ${report.length} certificates verify against the pinned keys`);
    else r.add('ledger', 'error', `branch ${branch} does not verify: ${report.reason ?? report.status}`, 'run `living-bridge verify --repo` for the details; a wrong key is fixed by pinning the right one (--keys), a tampered chain needs a human (docs/certificates.md)');
    const snapshot = await ctx.ledgerFor(repo, branch).read().catch(() => null);
    if (snapshot?.state.halted) r.add('halted', 'warn', `the Governor is halted${snapshot.state.halted_reason ? ` (${snapshot.state.halted_reason})` : ''}: every decision is a noop`, `living-bridge resume --repo ${repository}`);
  } catch (err) {
    r.add('ledger', 'error', why(err, base), 'the token needs contents: read');
  }
}

/** Config files in the working directory (a checkout), when no repository is named. */
function checkLocalFiles(r: Report): void {
  for (const [path, kind] of [[REPO_CONFIG_PATH, 'autonomy'], [ENVIRONMENT_FILE_PATH, 'environment']] as const) {
    if (!existsSync(path)) continue;
    const problems = checkConfigText(path, readFileSync(path, 'utf8'), kind);
    for (const d of problems) r.add(path, 'error', formatDiagnostic(d), 'fix the file (`living-bridge validate` shows the same)');
    if (problems.length === 0) r.add(path, 'ok', 'valid (this checkout)');
  }
}

/**
 * `doctor [--repo O/N]`: a preflight of a deployment or a repository. Every check runs and is
 * reported (nothing stops at the first problem); exit 1 when something blocks Living Bridge.
 */
export const doctorCommands: CommandModule = (rt) => {
  rt.program
    .command('doctor')
    .description('preflight: token kind and permissions, GitHub reachability, App credentials, signing key, both config files, the ledger; each problem with its fix')
    .option('--repo <owner/name>', 'a repository to check as Living Bridge would act on it', repoOption)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo?: string; json: boolean }) => {
      const { env } = rt.io;
      const r = new Report();
      const base = apiUrlOf(rt) ?? (env.GHE_HOST ? githubApiBase(env) : 'https://api.github.com');
      try {
        const signer = await loadSigner(env);
        r.add('signing key', 'ok', `key id ${signer.keyid}`);
      } catch (err) {
        r.add('signing key', 'error', (err as Error).message, 'create one with `living-bridge keygen --out key` and set TRUTH_SIGNING_KEY_FILE=key (heals, syncs, grants and halts sign what they write)');
      }
      const repo = o.repo ? parseRepoFullName(o.repo) : null;
      let token = tokenFrom(env);
      let fromApp = false;
      if (hasAppCredentials(env)) {
        const minted = await checkApp(rt, r, base, repo);
        if (!token && minted) {
          token = minted;
          fromApp = true;
        }
      }
      if (!token && !hasAppCredentials(env)) {
        r.add('token', 'error', 'no GitHub credentials: neither LIVING_BRIDGE_TOKEN (GITHUB_TOKEN, GH_TOKEN) nor APP_ID and PRIVATE_KEY are set', 'set LIVING_BRIDGE_TOKEN to an App installation token or a PAT with secrets, variables, environments, actions, contents, issues and checks write');
      }
      if (token) {
        const octokit = createOctokit({ auth: token, baseUrl: base, retry: { retries: 0 } });
        const reachable = await checkToken(r, octokit, token, base, fromApp);
        if (reachable && o.repo) await checkRepository(rt, r, octokit, token, base, o.repo);
      }
      if (!o.repo) checkLocalFiles(r);
      const blocking = r.findings.filter((f) => f.status === 'error').length;
      const warnings = r.findings.filter((f) => f.status === 'warn').length;
      const mark = { ok: 'ok  ', info: 'info', warn: 'WARN', error: 'FAIL' } as const;
      const lines = r.findings.map((f) => `${mark[f.status]}  ${f.check}: ${f.detail}${f.fix ? `\n      fix: ${f.fix}` : ''}`);
      lines.push('', blocking ? `${blocking} problem${blocking === 1 ? '' : 's'} block Living Bridge${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}` : `nothing blocks Living Bridge${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`);
      print(rt, o.json, { ok: blocking === 0, blocking, warnings, findings: r.findings, checked: NEEDED_PERMISSIONS.map((p) => p.permission) }, lines.join('\n'));
      if (blocking) rt.exit.code = 1;
    });
};
