/**
 * Ready-made failure scenarios: each seeds a repository whose deploy workflow fails for one reason
 * (and a first run showing it), the way the demo, the e2e tests and chaos drills need them.
 */
import type { WorkflowRequirements } from './model.js';
import type { SandboxState } from './state.js';

export const SCENARIOS = ['missing-secret', 'missing-variable', 'wrong-credential', 'flaky-network', 'broken-code'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * The values that make each scenario's deploy succeed (the "vault" a healer would read from).
 * The wrong-credential repo starts with API_KEY = STALE_API_KEY.
 */
export const SCENARIO_VALUES = {
  DEPLOY_TOKEN: 'dt_sandbox_3f9a2c71e4b8',
  DEPLOY_REGION: 'eu-west-1',
  API_KEY: 'sk_live_sandbox_correct_7c1e',
  STALE_API_KEY: 'sk_live_sandbox_rotated_out_0b2d',
} as const;

export const SCENARIO_REQUIREMENTS: Record<ScenarioName, WorkflowRequirements> = {
  'missing-secret': { requiredSecrets: ['DEPLOY_TOKEN'] },
  'missing-variable': { requiredVariables: ['DEPLOY_REGION'] },
  'wrong-credential': { credentialCheck: { secret: 'API_KEY', expected: SCENARIO_VALUES.API_KEY } },
  'flaky-network': { flaky: { failAttempts: 1, error: 'ECONNRESET' } },
  'broken-code': { brokenCode: true },
};

export const SCENARIO_DESCRIPTIONS: Record<ScenarioName, string> = {
  'missing-secret': 'deploy needs secret DEPLOY_TOKEN, which is not set',
  'missing-variable': 'deploy needs variable DEPLOY_REGION, which is not set',
  'wrong-credential': 'secret API_KEY is set but holds a stale value (HTTP 401 Bad credentials)',
  'flaky-network': 'npm ci fails once with ECONNRESET; a re-run succeeds',
  'broken-code': 'a unit test fails (Tests: 1 failed); no configuration change can fix it',
};

export interface SeededScenario { scenario: ScenarioName; owner: string; repo: string; workflowId: number; runId: number | null; conclusion: string | null; description: string }

export function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}

/** Creates `owner/<scenario>` with its workflow (and, by default, a first failing run). */
export function seedScenario(state: SandboxState, name: ScenarioName, owner = 'acme', opts: { repo?: string; trigger?: boolean } = {}): SeededScenario {
  const repo = opts.repo ?? name;
  state.createRepo({ owner, repo });
  const wf = state.addWorkflow(owner, repo, { name: 'Build & Deploy', path: '.github/workflows/deploy.yml', requirements: SCENARIO_REQUIREMENTS[name] });
  if (name === 'wrong-credential') state.setSecret(owner, repo, 'API_KEY', SCENARIO_VALUES.STALE_API_KEY);
  if (name === 'missing-secret') state.setVariable(owner, repo, 'DEPLOY_REGION', SCENARIO_VALUES.DEPLOY_REGION);
  let runId: number | null = null;
  let conclusion: string | null = null;
  if (opts.trigger !== false) {
    const run = state.triggerRun(owner, repo, wf.name, { event: 'push', actor: 'octocat' });
    runId = run.id;
    conclusion = state.latestAttempt(run).conclusion;
  }
  return { scenario: name, owner, repo, workflowId: wf.id, runId, conclusion, description: SCENARIO_DESCRIPTIONS[name] };
}
