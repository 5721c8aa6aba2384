import { createHash } from 'node:crypto';
import { SANDBOX_ADMIN_TOKEN } from '../sandbox/index.js';
import { sandboxControl } from './processes.js';

/** A value-free view of a sandbox repository (the sandbox's /_sandbox/state answer). */
export interface SandboxRepoState {
  secrets: { name: string; updated_at: string; sha256: string | null }[];
  variables: { name: string; value: string }[];
  runs: { id: number; run_attempt: number; conclusion: string | null; attempts: (string | null)[] }[];
  issues: { number: number; title: string; state: string; pull_request: boolean; labels: string[] }[];
  comments: { id: number; issue_number: number; user: string; body: string }[];
  refs: Record<string, string>;
  check_runs: { name: string; conclusion: string | null }[];
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export const repoState = (sandboxUrl: string, fullName: string): Promise<SandboxRepoState> =>
  sandboxControl<SandboxRepoState>(sandboxUrl, 'GET', `/_sandbox/state/${fullName}`);

/** Commits a file to the repository's default branch through the REST contents API, as a user would. */
export async function putFile(sandboxUrl: string, fullName: string, path: string, content: string): Promise<void> {
  const url = `${sandboxUrl}/api/v3/repos/${fullName}/contents/${path}`;
  const headers = { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' };
  const existing = await fetch(url, { headers });
  const sha = existing.ok ? ((await existing.json()) as { sha: string }).sha : undefined;
  const res = await fetch(url, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ message: `configure ${path}`, content: Buffer.from(content).toString('base64'), ...(sha ? { sha } : {}) }),
  });
  if (!res.ok) throw new Error(`could not write ${path}: ${res.status} ${await res.text()}`);
}

/** The autonomy config the demo repositories use: full autonomy, DEPLOY_TOKEN from the App's environment. */
export const DEMO_AUTONOMY_YML = `# Living Bridge: how much it may do in this repository
version: 1
default_level: full
deploy_workflows: ["Build & Deploy"]
secrets:
  DEPLOY_TOKEN:
    source: from_env
    env: DEPLOY_TOKEN
`;

/** Seeds a scenario repository, configures it and opens a pull request whose run will fail. */
export async function seedDemoRepo(
  sandboxUrl: string,
  scenario: string,
  opts: { autonomyYml?: string; repo?: string; fromFork?: boolean; actor?: string } = {},
): Promise<{ fullName: string; pullNumber: number; headSha: string }> {
  const seeded = await sandboxControl<{ full_name: string }>(sandboxUrl, 'POST', '/_sandbox/repos', { scenario, trigger: false, ...(opts.repo ? { repo: opts.repo } : {}) });
  const fullName = seeded.full_name;
  const [owner, repo] = fullName.split('/') as [string, string];
  await putFile(sandboxUrl, fullName, '.github/autonomy.yml', opts.autonomyYml ?? DEMO_AUTONOMY_YML);
  const pr = await sandboxControl<{ number: number; head_sha: string }>(sandboxUrl, 'POST', '/_sandbox/pulls', { owner, repo, head_branch: 'feature/deploy', from_fork: opts.fromFork === true });
  return { fullName, pullNumber: pr.number, headSha: pr.head_sha };
}

/** Triggers the deploy workflow for the PR's head without auto-delivery, and returns the webhook GitHub would send. */
export async function failingRun(
  sandboxUrl: string,
  fullName: string,
  pr: { pullNumber: number; headSha: string },
  opts: { fromFork?: boolean; actor?: string } = {},
): Promise<{ runId: number; payload: Record<string, unknown> }> {
  const [owner, repo] = fullName.split('/') as [string, string];
  await sandboxControl(sandboxUrl, 'POST', '/_sandbox/webhook', { auto: false });
  const run = await sandboxControl<{ id: number; conclusion: string }>(sandboxUrl, 'POST', '/_sandbox/runs', {
    owner,
    repo,
    head_sha: pr.headSha,
    head_branch: 'feature/deploy',
    event: 'pull_request',
    pull_request: pr.pullNumber,
    ...(opts.fromFork ? { from_fork: true } : {}),
    ...(opts.actor ? { actor: opts.actor } : {}),
  });
  const hook = await sandboxControl<{ event: string; payload: Record<string, unknown> }>(sandboxUrl, 'GET', `/_sandbox/webhook-payload/${fullName}/${run.id}`);
  await sandboxControl(sandboxUrl, 'POST', '/_sandbox/webhook', { auto: true });
  return { runId: run.id, payload: hook.payload };
}
