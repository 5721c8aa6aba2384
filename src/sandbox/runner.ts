/**
 * "Executes" a workflow against the current repository state: two jobs, `build` (checkout, setup-node,
 * npm ci, npm test) and `deploy` (needs build; reads secrets and variables), each with steps and a log
 * that looks like the one a real runner would produce for the same failure.
 */
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { BROKEN_TEST_LINES, LogWriter, networkErrorLines } from './logs.js';
import type { Conclusion, JobModel, StepModel, WorkflowRequirements } from './model.js';
import { isoSeconds } from './util.js';

export type JobName = 'build' | 'deploy';
export const JOB_NAMES: JobName[] = ['build', 'deploy'];

export interface ExecInput {
  runId: number;
  attempt: number;
  repoFullName: string;
  workflowName: string;
  requirements: WorkflowRequirements;
  headSha: string;
  headBranch: string;
  startMs: number;
  /** Secrets visible to the run (empty for forks and Dependabot), environment values shadowing repo ones. */
  secrets: Record<string, string>;
  variables: Record<string, string>;
  secretSource: 'Actions' | 'None' | 'Dependabot';
  /** Jobs to execute in this attempt; the others are carried over from `carried`. */
  toRun: Set<JobName>;
  carried: Map<JobName, JobModel>;
  nextJobId: () => number;
  /** `requirements.config`'s file at the run's commit (null: absent); undefined when none is required. */
  configText?: string | null;
  /** Asked once a deploy went out: false makes its health check fail. */
  healthCheck?: () => boolean;
}

/** Why a config file does not parse (as the deploy tool would report it), or null. */
function configError(path: string, text: string): string | null {
  try {
    if (/\.json$/i.test(path)) JSON.parse(text);
    else if (/\.ya?ml$/i.test(path)) {
      const docs = parseAllDocuments(text);
      const err = 'empty' in docs ? docs.errors[0] : docs.flatMap((d) => d.errors)[0];
      if (err) return err.message.split('\n')[0] ?? err.message;
    } else if (/\.toml$/i.test(path)) parseToml(text);
    return null;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'parse error';
  }
}

interface StepPlan { name: string; run: (log: LogWriter) => boolean /* ok? */ }

function setUpJob(log: LogWriter, input: ExecInput, jobName: string): boolean {
  log.line('Current runner version: \'2.329.0\'');
  log.group('Runner Image Provisioner', ['Hosted Compute Agent', 'Version: 20251016.436', 'Azure Region: westus']);
  log.group('Operating System', ['Ubuntu', '24.04.3', 'LTS']);
  log.group('GITHUB_TOKEN Permissions', ['Contents: read', 'Metadata: read']);
  log.line(`Secret source: ${input.secretSource}`);
  log.line('Prepare workflow directory', 'Prepare all required actions');
  log.line(`Complete job name: ${jobName}`);
  return true;
}

function checkout(log: LogWriter, input: ExecInput): boolean {
  log.group('Run actions/checkout@v4', ['with:', `  repository: ${input.repoFullName}`, '  token: ***']);
  log.line(`Syncing repository: ${input.repoFullName}`);
  log.line(`HEAD is now at ${input.headSha.slice(0, 7)} ${input.headBranch}`);
  return true;
}

function buildSteps(input: ExecInput): StepPlan[] {
  const req = input.requirements;
  const flakyFails = !!req.flaky && input.attempt <= req.flaky.failAttempts;
  return [
    { name: 'Set up job', run: (log) => setUpJob(log, input, 'build') },
    { name: 'Run actions/checkout@v4', run: (log) => checkout(log, input) },
    {
      name: 'Run actions/setup-node@v4',
      run: (log) => {
        log.group('Run actions/setup-node@v4', ['with:', '  node-version: 20', '  cache: npm']);
        log.line('Found in cache @ /opt/hostedtoolcache/node/20.19.5/x64', 'Environment details', '  node: v20.19.5', '  npm: 10.8.2');
        return true;
      },
    },
    {
      name: 'Run npm ci',
      run: (log) => {
        log.group('Run npm ci', ['npm ci', 'shell: /usr/bin/bash -e {0}']);
        if (flakyFails) {
          log.wait(30_000).line(...networkErrorLines(req.flaky?.error ?? 'ECONNRESET'));
          log.line('', 'npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/debug-0.log');
          log.error('Process completed with exit code 1.');
          return false;
        }
        log.wait(9_000).line('added 412 packages, and audited 413 packages in 9s', 'found 0 vulnerabilities');
        return true;
      },
    },
    {
      name: 'Run npm test',
      run: (log) => {
        log.group('Run npm test', ['npm test', 'shell: /usr/bin/bash -e {0}']);
        log.line('', '> app@1.0.0 test', '> jest', '');
        if (req.brokenCode) {
          log.wait(4_000).line(...BROKEN_TEST_LINES);
          log.error('Process completed with exit code 1.');
          return false;
        }
        log.wait(4_000).line('Test Suites: 4 passed, 4 total', 'Tests:       28 passed, 28 total', 'Snapshots:   0 total', 'Time:        4.108 s');
        return true;
      },
    },
  ];
}

function deploySteps(input: ExecInput): StepPlan[] {
  const req = input.requirements;
  const secretNames = [...new Set([...(req.requiredSecrets ?? []), ...(req.credentialCheck ? [req.credentialCheck.secret] : [])])];
  const varNames = req.requiredVariables ?? [];
  return [
    { name: 'Set up job', run: (log) => setUpJob(log, input, 'deploy') },
    { name: 'Run actions/checkout@v4', run: (log) => checkout(log, input) },
    {
      name: 'Run ./scripts/deploy.sh',
      run: (log) => {
        const env = [
          ...secretNames.map((n) => `  ${n}: ${input.secrets[n] ? '***' : ''}`),
          ...varNames.map((n) => `  ${n}: ${input.variables[n] ?? ''}`),
        ];
        log.group('Run ./scripts/deploy.sh', ['./scripts/deploy.sh', 'shell: /usr/bin/bash -e {0}', ...(env.length ? ['env:', ...env] : [])]);
        for (const n of req.requiredSecrets ?? []) {
          if (!input.secrets[n]) {
            log.line(`Error: ${n} is not set`);
            log.error('Process completed with exit code 1.');
            return false;
          }
        }
        for (const n of varNames) {
          if (!input.variables[n]) {
            log.error(`Missing required variable ${n} (vars.${n} is empty)`);
            log.error('Process completed with exit code 1.');
            return false;
          }
        }
        if (req.config) {
          const problem = input.configText === null || input.configText === undefined ? 'ENOENT: no such file or directory' : configError(req.config.path, input.configText);
          if (problem) {
            log.error(`Failed to parse ${req.config.path}: ${problem}`);
            log.error('Process completed with exit code 1.');
            return false;
          }
          log.line(`Loaded ${req.config.path}`);
        }
        const target = req.environment ?? 'production';
        log.line(`Deploying ${input.headSha.slice(0, 7)} to ${target}${varNames[0] ? ` (${varNames[0]}=${input.variables[varNames[0]]})` : ''}`);
        if (req.credentialCheck) {
          const got = input.secrets[req.credentialCheck.secret];
          log.line('POST https://deploy.example.com/v1/releases');
          if (!got) {
            log.line(`Error: ${req.credentialCheck.secret} is not set`);
            log.error('Process completed with exit code 1.');
            return false;
          }
          if (got !== req.credentialCheck.expected) {
            log.wait(800).line('HTTP 401 Unauthorized: Bad credentials', `curl: (22) The requested URL returned error: 401`);
            log.error('Process completed with exit code 22.');
            return false;
          }
          log.line('HTTP 201 Created');
        }
        log.wait(2_000).line(`Deployed ${input.headSha.slice(0, 7)} to ${target}.`);
        if (input.healthCheck && !input.healthCheck()) {
          log.line(`GET https://deploy.example.com/healthz -> HTTP 503 Service Unavailable`);
          log.error(`Health check failed after deploying ${input.headSha.slice(0, 7)} to ${target}: the release is unhealthy`);
          log.error('Process completed with exit code 1.');
          return false;
        }
        return true;
      },
    },
  ];
}

function executeJob(name: JobName, plans: StepPlan[], input: ExecInput, startMs: number): JobModel {
  const log = new LogWriter(startMs);
  const steps: StepModel[] = [];
  let failed = false;
  for (const plan of plans) {
    const started = log.now;
    let conclusion: Conclusion = 'skipped';
    if (!failed) {
      const ok = plan.run(log.wait(400));
      conclusion = ok ? 'success' : 'failure';
      failed = !ok;
    }
    steps.push({ name: plan.name, number: steps.length + 1, status: 'completed', conclusion, started_at: isoSeconds(started), completed_at: isoSeconds(log.now) });
  }
  const postStart = log.now;
  log.line('Post job cleanup.', '[command]/usr/bin/git version', 'Cleaning up orphan processes');
  steps.push({ name: 'Post Run actions/checkout@v4', number: steps.length + 1, status: 'completed', conclusion: 'success', started_at: isoSeconds(postStart), completed_at: isoSeconds(log.now) });
  steps.push({ name: 'Complete job', number: steps.length + 1, status: 'completed', conclusion: 'success', started_at: isoSeconds(log.now), completed_at: isoSeconds(log.now) });
  return {
    id: input.nextJobId(), runId: input.runId, runAttempt: input.attempt, name, status: 'completed',
    conclusion: failed ? 'failure' : 'success', created_at: isoSeconds(startMs), started_at: isoSeconds(startMs), completed_at: isoSeconds(log.now),
    steps, log: log.text(Object.values(input.secrets)), headSha: input.headSha, headBranch: input.headBranch,
    runnerName: `GitHub Actions ${1000000 + (input.runId % 1000)}`, workflowName: input.workflowName,
  };
}

function skippedJob(name: JobName, input: ExecInput): JobModel {
  const at = isoSeconds(input.startMs);
  return {
    id: input.nextJobId(), runId: input.runId, runAttempt: input.attempt, name, status: 'completed', conclusion: 'skipped',
    created_at: at, started_at: at, completed_at: at, steps: [], log: '', headSha: input.headSha, headBranch: input.headBranch,
    runnerName: '', workflowName: input.workflowName,
  };
}

/** Runs the jobs of one attempt; returns the latest view of all jobs (executed + carried over). */
export function executeAttempt(input: ExecInput): { jobs: JobModel[]; executed: JobModel[] } {
  const executed: JobModel[] = [];
  const jobs: JobModel[] = [];
  let build: JobModel;
  if (input.toRun.has('build')) {
    build = executeJob('build', buildSteps(input), input, input.startMs);
    executed.push(build);
  } else {
    build = input.carried.get('build')!;
  }
  jobs.push(build);
  let deploy: JobModel;
  if (input.toRun.has('deploy')) {
    deploy = build.conclusion === 'success' ? executeJob('deploy', deploySteps(input), input, Date.parse(build.completed_at) + 2_000) : skippedJob('deploy', input);
    executed.push(deploy);
  } else {
    deploy = input.carried.get('deploy')!;
  }
  jobs.push(deploy);
  return { jobs, executed };
}

/** The GitHub Actions YAML a workflow with these requirements would have. */
export function workflowYaml(name: string, req: WorkflowRequirements): string {
  const secrets = [...new Set([...(req.requiredSecrets ?? []), ...(req.credentialCheck ? [req.credentialCheck.secret] : [])])];
  const env = [...secrets.map((s) => `          ${s}: \${{ secrets.${s} }}`), ...(req.requiredVariables ?? []).map((v) => `          ${v}: \${{ vars.${v} }}`)];
  return [
    `name: ${name}`,
    'on:',
    '  push:',
    '    branches: [main]',
    '  pull_request:',
    '  workflow_dispatch:',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - uses: actions/setup-node@v4',
    '        with:',
    '          node-version: 20',
    '          cache: npm',
    '      - run: npm ci',
    '      - run: npm test',
    '  deploy:',
    '    needs: build',
    '    runs-on: ubuntu-latest',
    ...(req.environment ? [`    environment: ${req.environment}`] : []),
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - run: ./scripts/deploy.sh',
    ...(env.length ? ['        env:', ...env] : []),
    '',
  ].join('\n');
}
