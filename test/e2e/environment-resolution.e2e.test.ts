/**
 * Per-environment levels hold through the App door (issue #10, item 1): the webhook carries no
 * environment, so the App resolves it as GitHub defines it — the failed jobs' `environment:` in the
 * workflow file at the run's head_sha, else the deployments GitHub created for that sha — and an
 * environment it cannot name gets the strictest declared level, never the default.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { putFile, repoState } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: 'e2e-deploy-token-value', LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

type Decision = { verdict: string; steps: string[]; environment: string | null; environment_resolution?: string; autonomy_level?: string };

async function healDeploy(name: string, opts: { environment?: string; autonomyYml: string; workflowYaml?: string }) {
  const created = await sandboxControl<{ full_name: string }>(sandbox.url, 'POST', '/_sandbox/repos', {
    repo: name,
    workflow: { name: 'Build & Deploy', requirements: { requiredSecrets: ['DEPLOY_TOKEN'], ...(opts.environment ? { environment: opts.environment } : {}) } },
  });
  const fullName = created.full_name;
  const [owner, repo] = fullName.split('/') as [string, string];
  await putFile(sandbox.url, fullName, '.github/autonomy.yml', opts.autonomyYml);
  if (opts.workflowYaml) await putFile(sandbox.url, fullName, '.github/workflows/deploy.yml', opts.workflowYaml);
  const run = await sandboxControl<{ id: number }>(sandbox.url, 'POST', '/_sandbox/runs', { owner, repo });
  const hook = await sandboxControl<{ payload: Record<string, unknown> }>(sandbox.url, 'GET', `/_sandbox/webhook-payload/${fullName}/${run.id}`);
  const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', hook.payload);
  expect(sent.status).toBe(202);
  const done = await eventually(async () => {
    const res = await fetch(`${app.url}/api/autonomy/jobs/wh-${sent.deliveryId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
    const body = (await res.json()) as { status: string; result?: { status: string; decision: Decision | null } };
    return body.status !== 'queued' ? body : undefined;
  }, 30_000, 'heal job');
  return { done, state: await repoState(sandbox.url, fullName), fullName };
}

const FULL_BUT_PRODUCTION_OBSERVES = `default_level: full
environments:
  production:
    level: observe
  staging:
    level: full
secrets:
  DEPLOY_TOKEN:
    source: from_env
    env: DEPLOY_TOKEN
`;

describe('the App resolves the environment of a failed run', () => {
  test('environment: production in the workflow file → production\'s observe level: nothing is created or re-run', async () => {
    const { done, state } = await healDeploy('e2e-env-production', { environment: 'production', autonomyYml: FULL_BUT_PRODUCTION_OBSERVES });
    const decision = done.result!.decision!;
    expect(decision.verdict).toBe('noop');
    expect(decision.environment).toBe('production');
    expect(decision.autonomy_level).toBe('observe');
    expect(decision.environment_resolution).toContain('workflow production');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(state.runs[0]!.attempts).toHaveLength(1);
  });

  test('the {name, url} form is read like the string form', async () => {
    const yaml = `name: Build & Deploy\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n  deploy:\n    needs: build\n    runs-on: ubuntu-latest\n    environment:\n      name: production\n      url: https://example.com\n    steps:\n      - run: ./scripts/deploy.sh\n`;
    const { done } = await healDeploy('e2e-env-object-form', { environment: 'production', autonomyYml: FULL_BUT_PRODUCTION_OBSERVES, workflowYaml: yaml });
    expect(done.result!.decision!).toMatchObject({ verdict: 'noop', environment: 'production', autonomy_level: 'observe' });
  });

  test('an expression it cannot evaluate falls back to the deployments GitHub created for the sha', async () => {
    const yaml = `name: Build & Deploy\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n  deploy:\n    needs: build\n    runs-on: ubuntu-latest\n    environment: \${{ github.ref_name == 'main' && 'production' || 'staging' }}\n    steps:\n      - run: ./scripts/deploy.sh\n`;
    const { done, state } = await healDeploy('e2e-env-expression-deployments', { environment: 'production', autonomyYml: FULL_BUT_PRODUCTION_OBSERVES, workflowYaml: yaml });
    const decision = done.result!.decision!;
    expect(decision).toMatchObject({ verdict: 'noop', environment: 'production', autonomy_level: 'observe' });
    expect(decision.environment_resolution).toContain('deployments production');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('unresolvable (an expression and no deployment) → the strictest declared level, never the default', async () => {
    const yaml = `name: Build & Deploy\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n  deploy:\n    needs: build\n    runs-on: ubuntu-latest\n    environment: \${{ inputs.target }}\n    steps:\n      - run: ./scripts/deploy.sh\n`;
    const { done, state } = await healDeploy('e2e-env-unresolved', { autonomyYml: FULL_BUT_PRODUCTION_OBSERVES, workflowYaml: yaml });
    const decision = done.result!.decision!;
    expect(decision).toMatchObject({ verdict: 'noop', environment: 'unresolved', autonomy_level: 'observe' });
    expect(decision.environment_resolution).toContain('unresolved');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('production not declared: it defaults to suggest even with default_level full', async () => {
    const yml = 'default_level: full\nsecrets:\n  DEPLOY_TOKEN:\n    source: from_env\n    env: DEPLOY_TOKEN\n';
    const { done, state } = await healDeploy('e2e-env-production-default', { environment: 'production', autonomyYml: yml });
    expect(done.result!.decision!).toMatchObject({ verdict: 'suggest', environment: 'production', autonomy_level: 'suggest' });
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('a job without environment keeps the default level and heals', async () => {
    const { done, state } = await healDeploy('e2e-env-none', { autonomyYml: FULL_BUT_PRODUCTION_OBSERVES });
    expect(done.result!.status).toBe('healed');
    expect(done.result!.decision!.environment_resolution).toContain('none');
    expect(state.secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeDefined();
  });
});
