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

const AUTONOMY_HEADER = `# Seeded by the sandbox so this scenario heals through the CLI as documented (docs/sandbox.md).
version: 1
default_level: full
cooldowns: { default_minutes: 0 }
`;

/**
 * The configuration each scenario needs to be healed (or correctly escalated) with no further setup:
 * `.github/autonomy.yml` and, where the fix is a declared variable, `.github/environment.json`.
 * Seeded with `config: true` (the sandbox CLI's default).
 */
export const SCENARIO_CONFIG: Record<ScenarioName, Record<string, string>> = {
  'missing-secret': { '.github/autonomy.yml': `${AUTONOMY_HEADER}secrets:\n  DEPLOY_TOKEN: { source: generate, length: 40 }\n` },
  'missing-variable': {
    '.github/autonomy.yml': AUTONOMY_HEADER,
    '.github/environment.json': `${JSON.stringify({ version: 1, repository: { variables: { DEPLOY_REGION: SCENARIO_VALUES.DEPLOY_REGION } } }, null, 2)}\n`,
  },
  // The stale API_KEY is declared external: Living Bridge must never overwrite it (it escalates).
  'wrong-credential': { '.github/autonomy.yml': `${AUTONOMY_HEADER}secrets:\n  API_KEY: { source: external, description: Issued by the payments provider }\n` },
  'flaky-network': { '.github/autonomy.yml': AUTONOMY_HEADER },
  'broken-code': { '.github/autonomy.yml': AUTONOMY_HEADER },
};

/** What `living-bridge heal` does with each scenario once its configuration is seeded. */
export const SCENARIO_EXPECTED: Record<ScenarioName, 'healed' | 'escalated'> = {
  'missing-secret': 'healed', 'missing-variable': 'healed', 'wrong-credential': 'escalated', 'flaky-network': 'healed', 'broken-code': 'escalated',
};

export interface SeededScenario { scenario: ScenarioName; owner: string; repo: string; workflowId: number; runId: number | null; conclusion: string | null; description: string }

export function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}

/** Creates `owner/<scenario>` with its workflow (and, by default, a first failing run); `config: true` also commits SCENARIO_CONFIG. */
export function seedScenario(state: SandboxState, name: ScenarioName, owner = 'acme', opts: { repo?: string; trigger?: boolean; config?: boolean } = {}): SeededScenario {
  const repo = opts.repo ?? name;
  state.createRepo({ owner, repo });
  if (opts.config) state.commitFiles(owner, repo, state.repo(owner, repo).defaultBranch, SCENARIO_CONFIG[name], 'Living Bridge configuration for this scenario');
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
