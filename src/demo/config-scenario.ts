import { SANDBOX_ADMIN_TOKEN } from '../sandbox/index.js';
import { sandboxControl } from './processes.js';
import { putFile } from './scenario.js';

/**
 * The config loop's sandbox repository (demo scenario 3 and the e2e tests): "Build & Deploy" reads
 * vercel.json, which is broken on main; .github/autonomy.yml declares its template and full autonomy;
 * the simulated CI checks every pull request head; branch protection requires those checks.
 */
export const CONFIG_BROKEN = '{\n  "buildCommand": "npm run build",\n  "regions": ["fra1"]\n';
export const CONFIG_TEMPLATE = '{\n  "buildCommand": "npm run build",\n  "regions": ["{{ vars.DEPLOY_REGION }}"]\n}\n';

export const configAutonomyYml = (promotion = 'checks_timeout_minutes: 0.1\n  deploy_timeout_minutes: 1'): string => `version: 1
default_level: full
deploy_workflows: ["Build & Deploy"]
configs:
  vercel.json:
    template: templates/vercel.json.tmpl
promotion:
  ${promotion}
`;

export interface ConfigRepoOptions {
  repo: string;
  /** Run the workflow on every pull request head (check runs "build" and "deploy"). */
  workflowOnPullRequests?: boolean;
  /** External CI statuses posted on every pull request head. */
  statuses?: Record<string, 'success' | 'failure' | 'pending'>;
  /** Contexts branch protection requires on main (none: main is not protected). */
  requiredChecks?: string[];
  failNextDeploys?: number;
  autonomyYml?: string;
}

export async function seedConfigRepo(sandboxUrl: string, o: ConfigRepoOptions): Promise<{ fullName: string; runId: number; payload: Record<string, unknown> }> {
  const fullName = `acme/${o.repo}`;
  await sandboxControl(sandboxUrl, 'POST', '/_sandbox/repos', { owner: 'acme', repo: o.repo, workflow: { name: 'Build & Deploy', path: '.github/workflows/deploy.yml', requirements: { config: { path: 'vercel.json' } } } });
  await putFile(sandboxUrl, fullName, 'vercel.json', CONFIG_BROKEN);
  await putFile(sandboxUrl, fullName, 'templates/vercel.json.tmpl', CONFIG_TEMPLATE);
  await putFile(sandboxUrl, fullName, '.github/environment.json', `${JSON.stringify({ version: 1, repository: { variables: { DEPLOY_REGION: 'fra1' } } }, null, 2)}\n`);
  await putFile(sandboxUrl, fullName, '.github/autonomy.yml', o.autonomyYml ?? configAutonomyYml());
  await sandboxControl(sandboxUrl, 'POST', `/_sandbox/ci/${fullName}`, { workflow_on_pull_requests: o.workflowOnPullRequests ?? false, statuses: o.statuses ?? {}, fail_next_deploys: o.failNextDeploys ?? 0 });
  if (o.requiredChecks?.length) {
    const res = await fetch(`${sandboxUrl}/api/v3/repos/${fullName}/branches/main/protection`, {
      method: 'PUT',
      headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ required_status_checks: { strict: true, contexts: o.requiredChecks }, enforce_admins: false, required_pull_request_reviews: null, restrictions: null }),
    });
    if (!res.ok) throw new Error(`could not protect main: ${res.status} ${await res.text()}`);
  }
  // The failing deploy on main, without auto-delivery: the caller sends its webhook.
  await sandboxControl(sandboxUrl, 'POST', '/_sandbox/webhook', { auto: false });
  const run = await sandboxControl<{ id: number; conclusion: string }>(sandboxUrl, 'POST', '/_sandbox/runs', { owner: 'acme', repo: o.repo, event: 'push' });
  const hook = await sandboxControl<{ payload: Record<string, unknown> }>(sandboxUrl, 'GET', `/_sandbox/webhook-payload/${fullName}/${run.id}`);
  await sandboxControl(sandboxUrl, 'POST', '/_sandbox/webhook', { auto: true });
  if (run.conclusion !== 'failure') throw new Error(`the seeded deploy of ${fullName} concluded ${run.conclusion}, expected failure`);
  return { fullName, runId: run.id, payload: hook.payload };
}

/** Blob text of a file on a branch, through the REST contents API. */
export async function fileOn(sandboxUrl: string, fullName: string, path: string, ref = 'main'): Promise<string | null> {
  const res = await fetch(`${sandboxUrl}/api/v3/repos/${fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
  if (res.status === 404) return null;
  const body = (await res.json()) as { content: string };
  return Buffer.from(body.content, 'base64').toString('utf8');
}
