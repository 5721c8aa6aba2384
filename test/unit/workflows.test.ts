/**
 * The repository's workflows, the Action's metadata and the App manifest: actionlint passes on
 * every workflow (and really runs: a broken workflow fails), and the files say what the design says.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ACTIONLINT = path.join(ROOT, 'scripts', 'actionlint.mjs');
const WORKFLOWS = ['bridge_autonomy.yml', 'env_sync.yml', 'ci.yml'];

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const load = async (rel: string): Promise<Yaml> => parseYaml(await readFile(path.join(ROOT, rel), 'utf8')) as Yaml;

async function actionlint(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ACTIONLINT, ...args], { cwd: ROOT });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('actionlint', () => {
  it('passes on every workflow in .github/workflows', async () => {
    const { code, out } = await actionlint([]);
    expect(out).toContain(`${WORKFLOWS.length} workflow file(s) OK`);
    expect(code).toBe(0);
  }, 60_000);

  it('really lints: a deliberately broken workflow fails with the problems named', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'actionlint-'));
    const file = path.join(dir, 'broken.yml');
    await writeFile(
      file,
      [
        'on:',
        '  workflow_run:',
        '    workflows: ["Build & Deploy"]',
        '    types: [finished]',
        'permissions:',
        '  secrets: write',
        'jobs:',
        '  heal:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo ${{ steps.nope.outputs.x }}',
        '',
      ].join('\n'),
    );
    try {
      const { code, out } = await actionlint([file]);
      expect(code).toBe(1);
      expect(out).toMatch(/invalid activity type "finished"/);
      // GITHUB_TOKEN has no "secrets" scope at all: the reason the Action needs an App token.
      expect(out).toMatch(/unknown permission scope "secrets"/);
      expect(out).toMatch(/property "nope" is not defined/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('action/action.yml', () => {
  it('runs the committed bundle on node20 with the documented inputs and outputs', async () => {
    const action = await load('action/action.yml');
    expect(action.runs).toEqual({ using: 'node20', main: 'dist/index.js' });
    expect(Object.keys(action.inputs).sort()).toEqual(
      ['config', 'confirm-prune', 'dry-run', 'environment', 'github-api-url', 'mode', 'run-id', 'signing-key', 'token'].sort(),
    );
    expect(action.inputs.token.required).toBe(true);
    expect(action.inputs.mode.default).toBe('heal');
    expect(action.inputs['github-api-url'].default).toBe('${{ github.api_url }}');
    expect(Object.keys(action.outputs).sort()).toEqual(['attestation-subjects', 'attestation-subjects-path', 'certificate-hash', 'changes', 'checkpoint', 'checkpoint-path', 'comment-url', 'decision', 'issue-url']);
  });

  it('every `with:` given to ./action in the workflows is a declared input', async () => {
    const inputs = Object.keys((await load('action/action.yml')).inputs);
    for (const wf of WORKFLOWS) {
      const doc = await load(`.github/workflows/${wf}`);
      for (const job of Object.values<Yaml>(doc.jobs)) {
        for (const step of job.steps as Yaml[]) {
          if (step.uses !== './action') continue;
          for (const key of Object.keys(step.with ?? {})) expect({ wf, key, declared: inputs.includes(key) }).toEqual({ wf, key, declared: true });
        }
      }
    }
  });
});

describe('workflows', () => {
  it('bridge_autonomy.yml heals failed "Build & Deploy" runs with least privilege, one at a time per repository', async () => {
    const wf = await load('.github/workflows/bridge_autonomy.yml');
    expect(wf.on.workflow_run).toEqual({ workflows: ['Build & Deploy'], types: ['completed'] });
    expect(Object.keys(wf.on.workflow_dispatch.inputs).sort()).toEqual(['dry_run', 'mode', 'run_id']);
    expect(wf.permissions).toEqual({});
    expect(wf.concurrency.group).toBe('living-bridge-${{ github.repository }}');
    expect(wf.jobs.heal.if).toContain("github.event.workflow_run.conclusion == 'failure'");
    const { anchor: _anchor, ...healing } = wf.jobs as Record<string, Yaml>;
    for (const job of Object.values<Yaml>(healing)) {
      // GITHUB_TOKEN only reads; writes go through the App token.
      expect(job.permissions).toEqual({ contents: 'read' });
      const mint = (job.steps as Yaml[]).find((s) => String(s.uses).startsWith('actions/create-github-app-token@'));
      expect(mint?.with).toMatchObject({ 'app-id': '${{ vars.LIVING_BRIDGE_APP_ID }}', 'private-key': '${{ secrets.LIVING_BRIDGE_APP_PRIVATE_KEY }}' });
      const bridge = (job.steps as Yaml[]).find((s) => s.uses === './action');
      expect(bridge?.with.token).toBe('${{ steps.app-token.outputs.token || secrets.LIVING_BRIDGE_PAT }}');
    }
  });

  it('the checkpoint is attested by a job of its own, the only one with an OIDC token, running no Living Bridge code', async () => {
    for (const [file, producers] of [['bridge_autonomy.yml', ['heal', 'learn']], ['env_sync.yml', ['sync']]] as const) {
      const wf = await load(`.github/workflows/${file}`);
      const anchor = wf.jobs.anchor as Yaml;
      expect(anchor.permissions).toEqual({ 'id-token': 'write', attestations: 'write' });
      expect([anchor.needs].flat()).toEqual([...producers]);
      const steps = anchor.steps as Yaml[];
      expect(steps.some((s) => s.uses === './action' || s.uses === 'actions/checkout@v4')).toBe(false);
      const attest = steps.find((s) => String(s.uses).startsWith('actions/attest@'));
      expect(attest?.with).toMatchObject({ 'predicate-type': 'https://living-bridge.dev/checkpoint/v1', 'subject-checksums': '${{ runner.temp }}/living-bridge-subjects.txt' });
      for (const p of producers) {
        expect((wf.jobs[p] as Yaml).outputs).toEqual({ checkpoint: expect.stringMatching(/outputs\.checkpoint }}$/), 'attestation-subjects': expect.stringMatching(/outputs\.attestation-subjects }}$/) });
      }
    }
  });

  it('env_sync.yml syncs hourly and on demand', async () => {
    const wf = await load('.github/workflows/env_sync.yml');
    expect(wf.on.schedule).toHaveLength(1);
    expect(wf.on.schedule[0].cron).toMatch(/^\d{1,2} \* \* \* \*$/);
    expect(wf.on.workflow_dispatch).toBeDefined();
    expect(wf.permissions).toEqual({});
    const step = (wf.jobs.sync.steps as Yaml[]).find((s) => s.uses === './action');
    expect(step?.with.mode).toBe('sync');
  });

  it('ci.yml installs, tests and checks the bundle is fresh', async () => {
    const wf = await load('.github/workflows/ci.yml');
    const runs = (wf.jobs.test.steps as Yaml[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining([expect.stringMatching(/^npm (ci|install)/), 'npm test', 'npm run check:bundle']));
  });
});

describe('app.yml (GitHub App manifest)', () => {
  it('asks for exactly the events and permissions the App uses, each explained', async () => {
    const text = await readFile(path.join(ROOT, 'app.yml'), 'utf8');
    const manifest = parseYaml(text) as Yaml;
    expect(manifest.default_events).toEqual(['workflow_run', 'issue_comment', 'pull_request', 'check_suite', 'check_run', 'status']);
    expect(manifest.default_permissions).toEqual({
      actions: 'write',
      secrets: 'write',
      actions_variables: 'write',
      environments: 'write',
      administration: 'write',
      contents: 'write',
      issues: 'write',
      pull_requests: 'write',
      checks: 'write',
      statuses: 'read',
      deployments: 'read',
      metadata: 'read',
    });
    // A comment line directly above every permission says why it is needed.
    const lines = text.split('\n');
    for (const key of Object.keys(manifest.default_permissions)) {
      const i = lines.findIndex((l) => l.startsWith(`  ${key}:`));
      expect({ key, commented: (lines[i - 1] ?? '').trim().startsWith('#') }).toEqual({ key, commented: true });
    }
  });
});
