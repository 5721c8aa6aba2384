/**
 * The Action door's own pieces, in process: input parsing into the core schemas, local config
 * validation, log routing, and the job summary's markdown (decision numbers, EMA chart).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SchemaError, ownCredentialRefusal, sourceEnvOf, type Decision } from '../../src/core/schemas/index.js';
import { ActionInputs, healRequestFrom, readActionSettings, validateLocalConfig, workflowRunOf } from '../../src/action/inputs.js';
import { writeLine } from '../../src/action/log.js';
import { markdownTable, missingPermissionMessage, renderDecision, renderEmaChart, shortTime } from '../../src/action/render.js';

const inputs = (over: Partial<Record<string, unknown>> = {}): ActionInputs =>
  ActionInputs.parse({
    mode: 'heal',
    token: 't',
    run_id: '',
    dry_run: 'false',
    environment: '',
    config: ['.github/autonomy.yml'],
    signing_key: '',
    confirm_prune: '',
    github_api_url: 'http://127.0.0.1:1/api/v3',
    repository: 'acme/app',
    ...over,
  });

describe('inputs', () => {
  test('heal request from the triggering workflow_run event, attempt included', () => {
    const event = { workflow_run: { id: 42, run_attempt: 2, conclusion: 'failure', name: 'Build & Deploy' } };
    expect(workflowRunOf(event)).toMatchObject({ id: 42, run_attempt: 2, conclusion: 'failure' });
    expect(healRequestFrom(inputs(), event)).toEqual({ repository: 'acme/app', run_id: 42, run_attempt: 2, dry_run: false });
  });

  test('the run-id input wins over the event; the attempt is then unknown', () => {
    const event = { workflow_run: { id: 42, run_attempt: 2, conclusion: 'failure' } };
    expect(healRequestFrom(inputs({ run_id: '7', dry_run: 'true', environment: 'production' }), event)).toEqual({
      repository: 'acme/app',
      run_id: 7,
      dry_run: true,
      environment: 'production',
    });
  });

  test('no run anywhere: a precise error naming the input', () => {
    expect(() => healRequestFrom(inputs(), {})).toThrow(/run-id: no run to heal/);
  });

  test('bad inputs are refused with the field named', () => {
    expect(() => ActionInputs.parse({ ...inputs(), run_id: 'abc' })).toThrow();
    expect(() => inputs({ dry_run: 'maybe' })).toThrow();
    expect(() => inputs({ repository: 'not a repo' })).toThrow();
  });

  test('runner credentials never reach from_env sources, even under an allowlist of everything', () => {
    const settings = readActionSettings({ INPUT_TOKEN: 'x', ACTIONS_RUNTIME_TOKEN: 'y', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'z', ACTIONS_CACHE_URL: 'c', ACTIONS_RESULTS_URL: 'r', GITHUB_TOKEN: 'w', DEPLOY_TOKEN_SOURCE: 'ok', GITHUB_REPOSITORY: 'acme/app', LIVING_BRIDGE_FROM_ENV_ALLOW: '*' });
    expect(settings.fromEnv.values).toEqual({ DEPLOY_TOKEN_SOURCE: 'ok' });
    expect(sourceEnvOf(settings.fromEnv, 'acme/app')).toEqual({ DEPLOY_TOKEN_SOURCE: 'ok' });
    for (const name of ['INPUT_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_TOKEN']) expect(ownCredentialRefusal(name)).toContain('never a source');
  });
});

describe('local config validation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'action-config-'));
    await mkdir(path.join(dir, '.github'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('valid files are parsed; missing files are skipped', async () => {
    await writeFile(path.join(dir, '.github', 'autonomy.yml'), 'version: 1\nledger:\n  branch: my-ledger\n');
    const local = validateLocalConfig(['.github/autonomy.yml', '.github/environment.json'], dir);
    expect(local.validated).toEqual(['.github/autonomy.yml']);
    expect(local.repoConfig?.ledger.branch).toBe('my-ledger');
  });

  test('a bad file fails with file, path and expectation', async () => {
    await writeFile(path.join(dir, '.github', 'environment.json'), JSON.stringify({ repository: { secrets: { DEPLOY_TOKEN: { source: 'guess' } } } }));
    expect(() => validateLocalConfig(['.github/environment.json'], dir)).toThrow(SchemaError);
    expect(() => validateLocalConfig(['.github/environment.json'], dir)).toThrow(/\.github\/environment\.json: repository\.secrets\.DEPLOY_TOKEN/);
    await writeFile(path.join(dir, '.github', 'environment.json'), '{ nope');
    expect(() => validateLocalConfig(['.github/environment.json'], dir)).toThrow(/not valid JSON/);
  });
});

describe('log routing', () => {
  test('pino lines become readable toolkit calls; request logs are not annotations', () => {
    const calls: [string, string][] = [];
    const sink = { debug: (m: string) => calls.push(['debug', m]), info: (m: string) => calls.push(['info', m]), warning: (m: string | Error) => calls.push(['warning', String(m)]), error: (m: string | Error) => calls.push(['error', String(m)]) };
    writeLine(JSON.stringify({ level: 30, msg: 'healed', repository: 'acme/app' }), sink);
    writeLine(JSON.stringify({ level: 40, msg: 'could not announce' }), sink);
    writeLine(JSON.stringify({ level: 50, msg: 'GET /repos/acme/app/contents/x - 500 with id X in 3ms' }), sink);
    writeLine(JSON.stringify({ level: 50, msg: 'ledger commit failed' }), sink);
    writeLine(JSON.stringify({ level: 20, msg: 'detail' }), sink);
    expect(calls).toEqual([
      ['info', 'healed {"repository":"acme/app"}'],
      ['warning', 'could not announce'],
      ['info', 'GET /repos/acme/app/contents/x - 500 with id X in 3ms'],
      ['error', 'ledger commit failed'],
      ['debug', 'detail'],
    ]);
  });
});

describe('summary markdown', () => {
  test('the decision shows every number that went into it', () => {
    const decision: Decision = {
      verdict: 'execute',
      action: 'CREATE_SECRET',
      steps: ['CREATE_SECRET', 'RERUN'],
      guardrail: null,
      reason: 'score 0.50',
      incident_kind: 'secret.missing',
      target: { type: 'secret', name: 'DEPLOY_TOKEN' },
      incident_fingerprint: 'f',
      cooldown_key: 'k',
      candidates: [
        { action: 'CREATE_SECRET', ema: 0.5, cooldown_penalty: 0, weight: 1, predicted_success: 0.5, score: 0.5 },
        { action: 'ESCALATE', ema: 0.9, cooldown_penalty: 0.25, weight: 0.3, predicted_success: 0.8, score: 0.195 },
      ],
      policy_version: 1,
      blueprint_mode: 'adaptive',
      decided_at: '2026-11-23T10:00:00.000Z',
    };
    const md = renderDecision(decision);
    expect(md).toContain('CREATE_SECRET → RERUN');
    expect(md).toContain('| **CREATE_SECRET** | 0.500 | 0.000 | 1.000 | 0.500 | 0.500 |');
    expect(md).toContain('| ESCALATE | 0.900 | 0.250 | 0.300 | 0.800 | 0.195 |');
  });

  test('EMA history becomes one mermaid xychart per action, in time order', () => {
    const md = renderEmaChart([
      { at: '2026-11-23T10:05:00.000Z', action: 'RERUN', ema: 0.55 },
      { at: '2026-11-23T10:00:00.000Z', action: 'CREATE_SECRET', ema: 0.55 },
      { at: '2026-11-23T11:00:00.000Z', action: 'CREATE_SECRET', ema: 0.595 },
    ]);
    expect(md.match(/```mermaid\nxychart-beta/g)).toHaveLength(2);
    expect(md).toContain('title "CREATE_SECRET EMA (success rate)"');
    expect(md).toContain('x-axis ["11-23 10:00", "11-23 11:00"]');
    expect(md).toContain('line [0.550, 0.595]');
    expect(md).toContain('y-axis "EMA" 0 --> 1');
    expect(renderEmaChart([])).toMatch(/No EMA history yet/);
    expect(shortTime('2026-01-02T03:04:05Z')).toBe('01-02 03:04');
  });

  test('table cells are escaped', () => {
    expect(markdownTable(['a'], [['x|y\nz']])).toBe('| a |\n| --- |\n| x\\|y z |');
  });

  test('the missing-permission message names the permission and both ways to get a token', () => {
    const msg = missingPermissionMessage('secrets', 'create the missing secret');
    expect(msg).toContain('"secrets: write" permission to create the missing secret');
    expect(msg).toContain('GITHUB_TOKEN can never have it');
    expect(msg).toContain('actions/create-github-app-token');
    expect(msg).toContain('fine-grained personal access token');
    expect(missingPermissionMessage('checks')).toContain("workflow's `permissions:` block");
  });
});
