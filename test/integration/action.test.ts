/**
 * The bundled Action, run the way the runner runs it: `node action/dist/index.js` as a child
 * process with INPUT_* variables, GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, against
 * an in-process sandbox (GITHUB_API_URL = the sandbox's /api/v3). The bundle is built from the
 * current sources into a temporary directory first (scripts/check-bundle.mjs separately proves the
 * committed action/dist is that same build).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { generateSigningKey } from '../../src/core/certificate/index.js';
import { SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

jest.setTimeout(120_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OWNER = 'acme';

const AUTONOMY_YML = `version: 1
default_level: full
deploy_workflows: ["Build & Deploy"]
secrets:
  DEPLOY_TOKEN:
    source: from_env
    env: DEPLOY_TOKEN_SOURCE
`;

let sandbox: Sandbox;
let tmp: string;
let bundle: string;
let signingKey: string;

interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** GITHUB_OUTPUT's file-command format: `name<<DELIM\nvalue\nDELIM`. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

let seq = 0;
/** The base64 public half of a 64-byte libsodium secret key (seed || public key). */
const publicKeyOf = (secretKey: string): string => Buffer.from(secretKey, 'base64').subarray(32).toString('base64');

async function runAction(inputs: Record<string, string>, opts: { event?: Record<string, unknown>; env?: Record<string, string>; repository: string; workspaceFiles?: Record<string, string> }): Promise<ActionRun> {
  seq += 1;
  const dir = path.join(tmp, `run-${seq}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  for (const [rel, text] of Object.entries(opts.workspaceFiles ?? {})) {
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true }));
    await writeFile(path.join(dir, rel), text);
  }
  const eventPath = path.join(dir, 'event.json');
  const outputPath = path.join(dir, 'output.txt');
  const summaryPath = path.join(dir, 'summary.md');
  await writeFile(eventPath, JSON.stringify(opts.event ?? {}));
  await writeFile(outputPath, '');
  await writeFile(summaryPath, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: opts.repository,
    GITHUB_API_URL: sandbox.apiUrl,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_WORKSPACE: dir,
    GITHUB_RUN_ID: String(1000 + seq),
    GITHUB_RUN_ATTEMPT: '1',
    // The operator's allowlist for from_env sources (the workflow step's env in real use).
    LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN_SOURCE,NPM_TOKEN_SOURCE',
    ...opts.env,
  };
  // @actions/core reads INPUT_<name upper-cased, spaces to _>; dashes stay dashes (INPUT_RUN-ID).
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bundle], { env, cwd: dir, timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (err, so, se) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout: so, stderr: se });
    });
  });
  return { code, stdout, stderr, outputs: parseOutputs(await readFile(outputPath, 'utf8')), summary: await readFile(summaryPath, 'utf8') };
}

/** A repository whose "Build & Deploy" failed on a pull request because DEPLOY_TOKEN is missing. */
function failingDeploy(repo: string, files: Record<string, string> = { '.github/autonomy.yml': AUTONOMY_YML }) {
  const { state } = sandbox;
  seedScenario(state, 'missing-secret', OWNER, { repo, trigger: false });
  state.commitFiles(OWNER, repo, 'main', files, 'Living Bridge configuration');
  const pull = state.createPullRequest(OWNER, repo, { headBranch: 'feature/deploy' });
  const run = state.triggerRun(OWNER, repo, 'Build & Deploy', { headSha: pull.headSha, headBranch: 'feature/deploy', event: 'pull_request', pullRequest: pull.number, actor: 'octocat' });
  return { fullName: `${OWNER}/${repo}`, run, pull };
}

const workflowRunEvent = (fullName: string, runId: number): Record<string, unknown> => {
  const [owner, repo] = fullName.split('/') as [string, string];
  return sandbox.state.webhookPayloadFor(owner, repo, runId).payload;
};

/** Every file on the ledger branch, read straight from the sandbox's git store. */
const ledgerFiles = (fullName: string): Map<string, string> => {
  const [owner, repo] = fullName.split('/') as [string, string];
  const r = sandbox.state.repo(owner, repo);
  const out = new Map<string, string>();
  const head = r.refs.get('refs/heads/bridge-ledger');
  if (!head) return out;
  for (const [p, entry] of r.git.flatten(r.git.commit(head)!.tree)) out.set(p, r.git.blob(entry.sha)!.content.toString('utf8'));
  return out;
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'living-bridge-action-test-'));
  const { buildAction } = (await import(path.join(ROOT, 'scripts', 'build-action.mjs'))) as { buildAction: (dir: string) => Promise<string[]> };
  await buildAction(path.join(tmp, 'dist'));
  bundle = path.join(tmp, 'dist', 'index.js');
  sandbox = await startSandbox();
  signingKey = (await generateSigningKey(new Uint8Array(randomBytes(32)))).secretKey;
});

afterAll(async () => {
  await sandbox?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the bundled Action against the sandbox', () => {
  let healed: { fullName: string; runId: number; certificate: string };

  test('heal mode creates the missing secret from its declared source, re-runs green, certifies, sets outputs', async () => {
    const { fullName, run, pull } = failingDeploy('action-heal');
    const token = sandbox.state.issueInstallationToken().token;
    const res = await runAction(
      { mode: 'heal', token, 'signing-key': signingKey, 'dry-run': 'false' },
      { repository: fullName, event: workflowRunEvent(fullName, run.id), env: { DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN } },
    );
    expect({ code: res.code, err: res.stdout.split('\n').filter((l) => l.startsWith('::error')) }).toEqual({ code: 0, err: [] });
    expect(sandbox.state.secretValue(OWNER, 'action-heal', 'DEPLOY_TOKEN')).toBe(SCENARIO_VALUES.DEPLOY_TOKEN);
    expect(sandbox.state.latestAttempt(sandbox.state.run(OWNER, 'action-heal', run.id)).conclusion).toBe('success');
    expect(res.outputs.decision).toBe('execute:CREATE_SECRET');
    expect(res.outputs['certificate-hash']).toMatch(/^[0-9a-f]{64}$/);
    const changes = JSON.parse(res.outputs.changes ?? '[]') as { target: string; kind: string; op: string }[];
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ target: 'DEPLOY_TOKEN', kind: 'secret', op: 'create' })]));
    // The summary: decision with its numbers, the certificate with its key id.
    expect(res.summary).toContain('Heal: healed');
    expect(res.summary).toMatch(/predicted success/);
    expect(res.summary).toContain(res.outputs['certificate-hash']!);
    expect(res.summary).toContain('signed by key');
    // Values never leave: not in outputs, summary or logs.
    for (const text of [res.stdout, res.stderr, res.summary, JSON.stringify(res.outputs)]) expect(text).not.toContain(SCENARIO_VALUES.DEPLOY_TOKEN);
    // The token was masked before anything could print it.
    expect(res.stdout).toContain(`::add-mask::${token}`);
    const comments = [...sandbox.state.repo(OWNER, 'action-heal').comments.values()].filter((c) => c.issueNumber === pull.number);
    expect(comments.map((c) => c.body).join('\n')).toContain(res.outputs['certificate-hash']!);
    // The comment it wrote is an output, linkable from later steps; no escalation issue was needed.
    expect(res.outputs['comment-url']).toMatch(new RegExp(`/acme/action-heal/(issues|pull)/${pull.number}#issuecomment-\\d+$`));
    expect(res.outputs['issue-url']).toBe('');
    // The ledger's signed checkpoint, ready for actions/attest (the anchor outside the branch).
    const checkpoint = JSON.parse(res.outputs.checkpoint ?? 'null') as { checkpoint: { repository: string; head: string } } | null;
    expect(checkpoint?.checkpoint).toMatchObject({ repository: fullName, head: res.outputs['certificate-hash'] });
    expect(res.outputs['attestation-subjects']).toContain(`${res.outputs['certificate-hash']}  ${fullName}#certificate/`);
    expect(res.outputs['attestation-subjects']).toContain(`  living-bridge-ledger:${fullName}`);
    expect(JSON.parse(await readFile(res.outputs['checkpoint-path']!, 'utf8'))).toEqual(checkpoint);
    // What a job log looks like (docs/action.md shows one): kept for reading, beside the test's temp files.
    await writeFile(path.join(os.tmpdir(), 'living-bridge-action-heal.log'), res.stdout);
    healed = { fullName, runId: run.id, certificate: res.outputs['certificate-hash']! };
  });

  test('the green re-run is the outcome: the Governor learns and the summary charts the EMA', async () => {
    const token = sandbox.state.issueInstallationToken().token;
    const res = await runAction(
      { mode: 'heal', token, 'signing-key': signingKey },
      { repository: healed.fullName, event: workflowRunEvent(healed.fullName, healed.runId) },
    );
    expect(res.code).toBe(0);
    // The learn run names what it committed: the outcome certificate, judging the heal's certificate.
    expect(res.outputs.decision).toBe('outcome:success');
    expect(res.outputs['certificate-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(res.outputs['certificate-hash']).not.toBe(healed.certificate);
    const outcomeFile = [...ledgerFiles(healed.fullName).entries()].find(([p, t]) => p.startsWith('.bridge/certificates/') && t.includes(res.outputs['certificate-hash']!));
    expect(outcomeFile).toBeDefined();
    expect(res.summary).toContain('<h3>Certificate</h3>');
    expect(res.summary).toContain(res.outputs['certificate-hash']!);
    expect(res.summary).toMatch(/\| type \| outcome \|/);
    expect(res.summary).toContain('recorded as the outcome of CREATE_SECRET');
    expect(res.summary).toContain('xychart-beta');
    expect(res.summary).toMatch(/CREATE_SECRET EMA/);
    const state = JSON.parse(ledgerFiles(healed.fullName).get('.bridge/state.json') ?? '{}') as { ema_history?: unknown[] };
    expect(state.ema_history?.length).toBeGreaterThan(0);
  });

  test('verify mode verifies the ledger chain, and fails on a tampered certificate', async () => {
    const token = sandbox.state.issueInstallationToken().token;
    // Without a key to trust, verify refuses rather than trusting the keys the ledger branch lists.
    const unpinned = await runAction({ mode: 'verify', token }, { repository: healed.fullName });
    expect(unpinned.code).toBe(1);
    expect(unpinned.stdout).toMatch(/::error::.*verify needs the key\(s\) to trust/);
    const ok = await runAction({ mode: 'verify', token, 'signing-key': signingKey }, { repository: healed.fullName });
    expect(ok.code).toBe(0);
    expect(ok.outputs.decision).toBe('verified');
    expect(ok.summary).toContain('Ledger verified');

    // Tamper: rewrite the first certificate's claim on the ledger branch, keeping its signature.
    const files = ledgerFiles(healed.fullName);
    const [certPath, certText] = [...files.entries()].find(([p]) => /^\.bridge\/certificates\/000001-/.test(p))!;
    const cert = JSON.parse(certText) as { envelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(cert.envelope.payload, 'base64').toString('utf8')) as { predicate: { reason: string } };
    statement.predicate.reason = 'nothing to see here';
    cert.envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    sandbox.state.commitFiles(OWNER, 'action-heal', 'bridge-ledger', { [certPath]: JSON.stringify(cert, null, 2) }, 'tamper');

    const broken = await runAction({ mode: 'verify', token }, { repository: healed.fullName, env: { LIVING_BRIDGE_TRUSTED_KEYS: publicKeyOf(signingKey) } });
    expect(broken.code).toBe(1);
    expect(broken.outputs.decision).toBe('broken');
    expect(broken.stdout).toMatch(/::error::acme\/action-heal: chain BROKEN \(HASH_MISMATCH at step certificates\): link 0 /);
    expect(broken.summary).toContain('Ledger BROKEN');
  });

  test('a GITHUB_TOKEN-like token without the secrets permission fails with the permission named, and still does what it can', async () => {
    const { fullName, run } = failingDeploy('action-github-token');
    const token = sandbox.state.issueToken({ actions: 'write', contents: 'write', issues: 'write', pull_requests: 'write' });
    const res = await runAction(
      { mode: 'heal', token, 'signing-key': signingKey },
      { repository: fullName, event: workflowRunEvent(fullName, run.id), env: { DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN } },
    );
    expect(res.code).toBe(1);
    const errors = res.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors.join('\n')).toMatch(/"secrets: write" permission/);
    expect(errors.join('\n')).toMatch(/actions\/create-github-app-token/);
    expect(errors.join('\n')).toMatch(/fine-grained personal access token/);
    expect(sandbox.state.secretValue(OWNER, 'action-github-token', 'DEPLOY_TOKEN')).toBeUndefined();
    // What the token could do, it did: the escalation issue says what a human must do.
    const issues = [...sandbox.state.repo(OWNER, 'action-github-token').issues.values()].filter((i) => !i.isPull);
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(res.outputs.decision).toBe('execute:CREATE_SECRET');
  });

  test('sync mode syncs the drift from environment.json, certifies it and writes the drift table to the summary', async () => {
    const repo = 'action-sync';
    sandbox.state.createRepo({ owner: OWNER, repo });
    const envJson = {
      version: 1,
      repository: {
        variables: { APP_NAME: 'bridge-demo', DEPLOY_REGION: 'eu-west-1' },
        secrets: { SESSION_KEY: { source: 'generate', length: 32 }, NPM_TOKEN: { source: 'from_env', env: 'NPM_TOKEN_SOURCE' } },
      },
      environments: { staging: { variables: { API_URL: 'https://staging.example.com' } } },
    };
    sandbox.state.commitFiles(OWNER, repo, 'main', { '.github/environment.json': JSON.stringify(envJson, null, 2) }, 'declare environment');
    const fullName = `${OWNER}/${repo}`;
    const token = sandbox.state.issueInstallationToken().token;
    const first = await runAction({ mode: 'sync', token, 'signing-key': signingKey }, { repository: fullName, env: { NPM_TOKEN_SOURCE: 'npm_sandbox_value_42' } });
    expect({ code: first.code, err: first.stdout.split('\n').filter((l) => l.startsWith('::error')) }).toEqual({ code: 0, err: [] });
    expect(first.outputs.decision).toBe('applied');
    expect(first.outputs['certificate-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(sandbox.state.getVariable(OWNER, repo, 'APP_NAME')?.value).toBe('bridge-demo');
    expect(sandbox.state.getVariable(OWNER, repo, 'API_URL', 'staging')?.value).toBe('https://staging.example.com');
    expect(sandbox.state.secretValue(OWNER, repo, 'NPM_TOKEN')).toBe('npm_sandbox_value_42');
    expect(sandbox.state.secretValue(OWNER, repo, 'SESSION_KEY')).toMatch(/^.{32}$/);
    expect(first.summary).toContain('Env sync: applied');
    expect(first.summary).toMatch(/\|.*APP_NAME.*\|/);
    const changes = JSON.parse(first.outputs.changes ?? '[]') as { target: string }[];
    expect(changes.map((c) => c.target)).toEqual(expect.arrayContaining(['APP_NAME', 'DEPLOY_REGION', 'SESSION_KEY', 'NPM_TOKEN', 'API_URL']));
    for (const text of [first.stdout, first.summary, JSON.stringify(first.outputs)]) expect(text).not.toContain('npm_sandbox_value_42');

    const second = await runAction({ mode: 'sync', token, 'signing-key': signingKey }, { repository: fullName, env: { NPM_TOKEN_SOURCE: 'npm_sandbox_value_42' } });
    expect(second.code).toBe(0);
    expect(second.outputs.decision).toBe('no-drift');
    expect(second.outputs['certificate-hash']).toBe('');
  });

  test('a bad autonomy.yml in the workspace fails the step with inline ::error annotations at its line and column', async () => {
    const bad = 'version: 1\ndefault_levle: full\nenvironments:\n  production:\n    level: ful\n';
    const res = await runAction({ mode: 'heal', token: 'x', 'run-id': '1' }, { repository: 'acme/action-heal', workspaceFiles: { '.github/autonomy.yml': bad } });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('::error title=Living Bridge%3A .github/autonomy.yml is invalid,file=.github/autonomy.yml,line=2,endLine=2,col=1,endColumn=14::(root): unknown key(s) default_levle (did you mean default_level?)');
    expect(res.stdout).toContain('file=.github/autonomy.yml,line=5,endLine=5,col=12,endColumn=15::environments.production.level: expected one of observe|suggest|balanced|full (did you mean full?)');
    expect(res.outputs.decision).toBe('error');
  });

  test('bad inputs fail before anything is done, with the input named', async () => {
    const res = await runAction({ mode: 'repair', token: 'x' }, { repository: 'acme/action-heal' });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/::error::action inputs: mode: expected one of heal\|sync\|verify/);
    expect(res.outputs.decision).toBe('error');
  });
});
