/**
 * Every tamper case an auditor worries about, each checked by all three verifiers:
 *   - the CLI (`living-bridge verify --dir`, offline, with pinned keys and saved anchors),
 *   - scripts/verify-chain.ts (a separate process, the same offline checks),
 *   - the App's GET /api/autonomy/verify (the real App process, reading the branch and the check runs).
 * The honest ledger is written by the real GitLedger (sequence numbers, signed checkpoints) on the
 * sandbox, and each of its commits is anchored in a "Living Bridge" check run the way heal anchors it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { canonicalJson } from '../../src/core/canonical.js';
import { createSigner, generateSigningKey, signCertificate, signCheckpoint, type Signer } from '../../src/core/certificate/index.js';
import type { Certificate, SignedCheckpoint } from '../../src/core/schemas/index.js';
import { startAppProcess, type AppProcess } from '../../src/demo/processes.js';
import { GitHubAdapter, createOctokit } from '../../src/github/index.js';
import { runCli } from '../../src/cli/main.js';
import { createGitLedger, type Ledger } from '../../src/ledger/index.js';
import { renderCheckpoint } from '../../src/pipeline/announce.js';
import { CHECK_RUN_NAME } from '../../src/pipeline/verify.js';
import { SANDBOX_ADMIN_TOKEN, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

jest.setTimeout(300_000);

const OWNER = 'acme';
const REPO = 'proof';
const FULL = `${OWNER}/${REPO}`;
const BRANCH = 'bridge-ledger';
const SCRIPT = resolve('scripts/verify-chain.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lb-tamper-'));

let sandbox: Sandbox;
let app: AppProcess;
let signer: Signer;
let signingKey: string;
let attacker: Signer;
let stranger: Signer;
let github: GitHubAdapter;
let ledger: Ledger;
let honestHead: string;
let honest: Record<string, string>;
/** The signed checkpoint as it was after link #2 (what a rollback would restore). */
let checkpointAt2: SignedCheckpoint;
const runIds: number[] = [];
const runShas: string[] = [];
let pinned: string;
let anchorsFile: string;

const repoRef = { owner: OWNER, repo: REPO };
const certPaths = (files: Record<string, string>) => Object.keys(files).filter((p) => p.startsWith('.bridge/certificates/')).sort();

function branchFiles(): Record<string, string> {
  const model = sandbox.state.repo(OWNER, REPO);
  const head = model.refs.get(`refs/heads/${BRANCH}`)!;
  const out: Record<string, string> = {};
  for (const [path, entry] of model.git.flatten(model.git.commit(head)!.tree)) out[path] = model.git.blob((entry as { sha: string }).sha)!.content.toString('utf8');
  return out;
}

const predicate = (i: number, runId: number, previous: string | null) => ({
  timestamp: `2026-11-2${i}T10:00:00.000Z`, action: 'RERUN' as const, reason: `deploy ${i} re-run`, targets: [`run:${runId}`], certified: true,
  report_hash: 'd'.repeat(63) + String(i), repository: FULL, run_id: runId, run_attempt: 1, policy_version: 1, changes: [],
  previous_certificate_hash: previous, sequence: i, certificate_type: 'action' as const,
});

/** One heal's worth of ledger: a new commit on main, a failed run of it, a certificate, and the check-run anchor. */
async function addLink(i: number): Promise<SignedCheckpoint> {
  sandbox.state.commitFiles(OWNER, REPO, 'main', { [`changes/${i}.txt`]: `change ${i}\n` }, `change ${i}`);
  const run = sandbox.state.triggerRun(OWNER, REPO, 'Build & Deploy', { event: 'push', actor: 'octocat' });
  runIds.push(run.id);
  runShas.push(run.headSha);
  const { snapshot } = await ledger.commit(`link ${i}`, async (snap) => ({
    certificates: [await signCertificate(predicate(snap.certificateCount + 1, run.id, snap.lastCertificateHash), signer)],
    publicKeys: { [signer.keyid]: signer.publicKey },
  }));
  await github.createCheckRun(repoRef, { name: CHECK_RUN_NAME, head_sha: run.headSha, conclusion: 'success', title: `healed · checkpoint #${i}`, summary: renderCheckpoint(snapshot.checkpoint!) });
  return snapshot.checkpoint!;
}

/** A chain re-signed from scratch by `by` (what an attacker with push access could produce). */
async function resignedBy(by: Signer, files: Record<string, string>): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  let previous: string | null = null;
  for (const [n, path] of certPaths(files).entries()) {
    const cert = await signCertificate(predicate(n + 1, runIds[n]!, previous), by);
    out[path] = null;
    out[`.bridge/certificates/${String(n + 1).padStart(6, '0')}-${cert.certificate_hash.slice(0, 12)}.json`] = JSON.stringify(cert, null, 2);
    previous = cert.certificate_hash;
  }
  out['.bridge/checkpoint.json'] = JSON.stringify(await signCheckpoint({ repository: FULL, sequence: certPaths(files).length, head: previous, time: '2026-11-30T00:00:00.000Z' }, by));
  out['.bridge/state.json'] = JSON.stringify({ ...JSON.parse(files['.bridge/state.json']!), last_certificate_hash: previous });
  return out;
}

const payloadOf = (text: string) => JSON.parse(Buffer.from((JSON.parse(text) as Certificate).envelope.payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };

interface Case { name: string; code: RegExp; tamper: (files: Record<string, string>) => Promise<Record<string, string | null>> | Record<string, string | null> }

const CASES: Case[] = [
  {
    name: 'a changed byte',
    code: /HASH_MISMATCH|CERTIFICATE_MALFORMED|BAD_SIGNATURE/,
    tamper: (f) => {
      const p = certPaths(f)[1]!;
      const cert = JSON.parse(f[p]!) as Certificate;
      const payload = cert.envelope.payload;
      const at = 40;
      cert.envelope.payload = payload.slice(0, at) + (payload[at] === 'A' ? 'B' : 'A') + payload.slice(at + 1);
      return { [p]: JSON.stringify(cert, null, 2) };
    },
  },
  {
    name: 'an edited payload (rehashed)',
    code: /BAD_SIGNATURE/,
    tamper: (f) => {
      const p = certPaths(f)[1]!;
      const cert = JSON.parse(f[p]!) as Certificate;
      const statement = payloadOf(f[p]!);
      statement.predicate.reason = 'nothing to see here';
      const body = Buffer.from(canonicalJson(statement));
      cert.envelope.payload = body.toString('base64');
      cert.certificate_hash = createHash('sha256').update(body).digest('hex');
      return { [p]: JSON.stringify(cert, null, 2) };
    },
  },
  {
    name: 'two certificates reordered',
    code: /SEQUENCE_MISMATCH|LINK_BROKEN/,
    tamper: (f) => {
      const [, b, c] = certPaths(f);
      return { [b!]: f[c!]!, [c!]: f[b!]! };
    },
  },
  { name: 'a certificate deleted in the middle', code: /SEQUENCE_MISMATCH|LINK_BROKEN/, tamper: (f) => ({ [certPaths(f)[1]!]: null }) },
  { name: 'the tail cut', code: /CHECKPOINT_MISMATCH/, tamper: (f) => ({ [certPaths(f)[2]!]: null, [certPaths(f)[3]!]: null }) },
  {
    name: 'the tail cut and state.json rewritten',
    code: /CHECKPOINT_MISMATCH/,
    tamper: (f) => ({
      [certPaths(f)[2]!]: null,
      [certPaths(f)[3]!]: null,
      '.bridge/state.json': JSON.stringify({ ...JSON.parse(f['.bridge/state.json']!), last_certificate_hash: (JSON.parse(f[certPaths(f)[1]!]!) as Certificate).certificate_hash }),
    }),
  },
  { name: 'the tail cut and state.json deleted', code: /CHECKPOINT_MISMATCH/, tamper: (f) => ({ [certPaths(f)[2]!]: null, [certPaths(f)[3]!]: null, '.bridge/state.json': null }) },
  { name: 'the tail cut and the checkpoint deleted', code: /CHECKPOINT_MISSING/, tamper: (f) => ({ [certPaths(f)[2]!]: null, [certPaths(f)[3]!]: null, '.bridge/checkpoint.json': null }) },
  { name: 'a swapped key file', code: /KEY_FILE_MISMATCH/, tamper: () => ({ [`.bridge/keys/${signer.keyid}.pub`]: `${attacker.publicKey}\n` }) },
  {
    name: 'the chain re-signed with an attacker key published on the branch',
    code: /KEY_UNTRUSTED/,
    tamper: async (f) => ({ ...(await resignedBy(attacker, f)), [`.bridge/keys/${signer.keyid}.pub`]: null, [`.bridge/keys/${attacker.keyid}.pub`]: `${attacker.publicKey}\n` }),
  },
  { name: 'the chain re-signed with a key that is not pinned', code: /KEY_UNTRUSTED/, tamper: (f) => resignedBy(stranger, f) },
  {
    name: 'the tail cut and the checkpoint rolled back to an older signed one',
    code: /ROLLED_BACK/,
    tamper: (f) => ({
      [certPaths(f)[2]!]: null,
      [certPaths(f)[3]!]: null,
      '.bridge/state.json': JSON.stringify({ ...JSON.parse(f['.bridge/state.json']!), last_certificate_hash: (JSON.parse(f[certPaths(f)[1]!]!) as Certificate).certificate_hash }),
      '.bridge/checkpoint.json': JSON.stringify(checkpointAt2),
    }),
  },
  {
    name: 'a missing anchor (a signed link whose check run was never published)',
    code: /ANCHOR_MISSING/,
    tamper: async (f) => {
      const run = sandbox.state.triggerRun(OWNER, REPO, 'Build & Deploy', { event: 'push', actor: 'octocat' });
      const head = (JSON.parse(f[certPaths(f)[3]!]!) as Certificate).certificate_hash;
      const cert = await signCertificate(predicate(5, run.id, head), signer);
      return {
        [`.bridge/certificates/000005-${cert.certificate_hash.slice(0, 12)}.json`]: JSON.stringify(cert, null, 2),
        '.bridge/checkpoint.json': JSON.stringify(await signCheckpoint({ repository: FULL, sequence: 5, head: cert.certificate_hash, time: '2026-11-30T00:00:00.000Z' }, signer)),
        '.bridge/state.json': JSON.stringify({ ...JSON.parse(f['.bridge/state.json']!), last_certificate_hash: cert.certificate_hash }),
      };
    },
  },
];

async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, env: { LOG_LEVEL: 'silent', ...env } });
  return { code, out, err };
}

function script(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, LIVING_BRIDGE_TRUSTED_KEYS: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function api(repository: string): Promise<{ status: number; body: Record<string, unknown> }> {
  // A fresh connection per request (agent: false): spawnSync (the script) blocks this process's event loop,
  // so a pooled keep-alive socket the App closed meanwhile would be reused before the client noticed.
  return new Promise((resolvePromise, reject) => {
    const req = httpGet(`${app.url}/api/autonomy/verify?repository=${encodeURIComponent(repository)}`, { agent: false, headers: { authorization: `Bearer ${app.apiToken}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
  });
}

/** Writes a branch's files into a fresh directory, as `git worktree add` would. */
function checkout(files: Record<string, string>, name: string): string {
  const dir = join(tmp, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  seedScenario(sandbox.state, 'flaky-network', OWNER, { repo: REPO, trigger: false });
  signingKey = (await generateSigningKey(new Uint8Array(32).fill(61))).secretKey;
  signer = await createSigner(signingKey);
  attacker = await createSigner((await generateSigningKey(new Uint8Array(32).fill(62))).secretKey);
  stranger = await createSigner((await generateSigningKey(new Uint8Array(32).fill(63))).secretKey);
  github = new GitHubAdapter(createOctokit({ baseUrl: sandbox.apiUrl, auth: SANDBOX_ADMIN_TOKEN, throttle: false, retry: { enabled: false } }));
  ledger = createGitLedger(github, repoRef, BRANCH, { signer, cache: false });
  for (let i = 1; i <= 4; i++) {
    const cp = await addLink(i);
    if (i === 2) checkpointAt2 = cp;
  }
  honestHead = sandbox.state.repo(OWNER, REPO).refs.get(`refs/heads/${BRANCH}`)!;
  honest = branchFiles();
  pinned = join(tmp, 'pinned-keys.txt');
  writeFileSync(pinned, `# the Living Bridge signing key, pinned from the App's configuration\n${signer.publicKey}\n`);
  // What an auditor saves: `gh api repos/acme/proof/commits/<sha>/check-runs` for each deploy commit they saw.
  const saved = await Promise.all(runShas.map(async (sha) => (await fetch(`${sandbox.apiUrl}/repos/${FULL}/commits/${sha}/check-runs`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } })).json()));
  anchorsFile = join(tmp, 'anchors.json');
  writeFileSync(anchorsFile, JSON.stringify(saved));
  app = await startAppProcess(sandbox.url, { TRUTH_SIGNING_KEY: signingKey, LOG_LEVEL: 'warn' });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the honest ledger', () => {
  test('holds for all three verifiers, anchored; the branch lists its keys but only the pinned one is trusted', async () => {
    const dir = checkout(honest, 'honest');
    const offline = await cli(['verify', '--dir', dir, '--keys', pinned, '--anchor', anchorsFile, '--require-anchor', '--json']);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.out)).toMatchObject({ ok: true, status: 'ok', repository: FULL, length: 4, checkpoint: { sequence: 4 }, anchors: { valid: 4, latest: { sequence: 4 } } });
    const s = script(dir, '--keys', pinned, '--anchor', anchorsFile, '--require-anchor');
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^chain ok: acme\/proof, 4 certificate\(s\)/);
    const online = await api(FULL);
    expect(online.status).toBe(200);
    expect(online.body).toMatchObject({ ok: true, status: 'ok', length: 4, checkpoint: { sequence: 4, keyid: signer.keyid }, anchors: { latest: { sequence: 4 } } });
  });
});

describe.each(CASES)('$name', ({ tamper, code, name }) => {
  test('is detected by the CLI, the script and the API', async () => {
    const changes = await tamper(structuredClone(honest));
    sandbox.state.commitFiles(OWNER, REPO, BRANCH, changes, `tamper: ${name}`);
    try {
      const dir = checkout(branchFiles(), name.replace(/\W+/g, '-'));
      const offline = await cli(['verify', '--dir', dir, '--keys', pinned, '--anchor', anchorsFile, '--require-anchor', '--json']);
      const report = JSON.parse(offline.out) as { ok: boolean; error: { code: string; message: string; last_anchored_sequence?: number } };
      expect({ code: offline.code, ok: report.ok }).toEqual({ code: 1, ok: false });
      expect(report.error.code).toMatch(code);

      const s = script(dir, '--keys', pinned, '--anchor', anchorsFile, '--require-anchor');
      expect(s.code).toBe(1);
      expect(s.err).toMatch(new RegExp(`^chain BROKEN \\((${code.source})`));

      const online = await api(FULL);
      expect(online.status).toBe(200);
      expect(online.body).toMatchObject({ ok: false, status: 'broken' });
      expect((online.body.error as { code: string }).code).toMatch(code);
      if (/ROLLED_BACK/.test(code.source)) {
        expect(report.error.last_anchored_sequence).toBe(4);
        expect((online.body.error as { message: string }).message).toMatch(/falls short of the last anchored sequence 4/);
      }
    } finally {
      sandbox.state.repo(OWNER, REPO).refs.set(`refs/heads/${BRANCH}`, honestHead);
    }
  });
});

describe('never a false ok', () => {
  test('no ledger, a typo directory, an unknown repository, no pinned key', async () => {
    seedScenario(sandbox.state, 'flaky-network', OWNER, { repo: 'empty', trigger: false });
    const none = await cli(['--api-url', sandbox.apiUrl, 'verify', '--repo', `${OWNER}/empty`, '--keys', pinned], { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, LIVING_BRIDGE_CLIENT_PACING: 'off' });
    expect(none).toMatchObject({ code: 3, out: `no ledger for ${OWNER}/empty (branch bridge-ledger does not exist)\n` });
    expect(await api(`${OWNER}/empty`)).toMatchObject({ status: 404, body: { status: 'no-ledger', ok: false } });
    expect(await api('acme/nope')).toMatchObject({ status: 404, body: { error: expect.stringMatching(/acme\/nope was not found, or Living Bridge is not installed on it/) } });

    const typo = await cli(['verify', '--dir', '/typo', '--keys', pinned]);
    expect(typo).toMatchObject({ code: 2 });
    expect(typo.err).toMatch(/cannot read \/typo: ENOENT/);
    expect(script('/typo', '--keys', pinned)).toMatchObject({ code: 2, err: expect.stringMatching(/cannot read \/typo/) });

    const emptyDir = mkdtempSync(join(tmp, 'not-a-ledger-'));
    expect(await cli(['verify', '--dir', emptyDir, '--keys', pinned])).toMatchObject({ code: 3, out: expect.stringMatching(/^no ledger for/) });
    expect(script(emptyDir, '--keys', pinned).code).toBe(3);

    // Keys on the branch are never trusted by themselves: without a pinned key, verification refuses.
    const dir = checkout(honest, 'unpinned');
    expect(await cli(['verify', '--dir', dir])).toMatchObject({ code: 2, err: expect.stringMatching(/no trusted keys/) });
    expect(script(dir)).toMatchObject({ code: 2, err: expect.stringMatching(/no trusted keys/) });
    // The environment can pin keys too, and no private key is needed for any of this.
    expect(await cli(['verify', '--dir', dir], { LIVING_BRIDGE_TRUSTED_KEYS: signer.publicKey, TRUTH_SIGNING_KEY: undefined })).toMatchObject({ code: 0 });
  });
});
