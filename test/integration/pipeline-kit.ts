/**
 * Shared set-up of the pipeline integration tests (pipeline-*.test.ts): a FakeGitHub (which is also
 * the git data port of the ledger), a git ledger on it, a real Ed25519 signer, a fixed clock, a
 * deterministic random source and a pino logger writing into a buffer.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createSigner, decodeCertificate, generateSigningKey, signCertificate, type Signer } from '../../src/core/certificate/index.js';
import type { Certificate, CertificatePredicate } from '../../src/core/schemas/index.js';
import { signGrant } from '../../src/core/grants/index.js';
import type { GrantBody, HealJob, HealRequestInput, RepoRef } from '../../src/core/schemas/index.js';
import { HealRequest } from '../../src/core/schemas/index.js';
import { createGitLedger } from '../../src/ledger/index.js';
import { REDACT_PATHS } from '../../src/pipeline/build-context.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { FakeGitHub } from '../support/fake-github.js';
import type { GitDataPort, GitTreeEntry } from '../../src/ports/index.js';

export const REPO: RepoRef = { owner: 'acme', repo: 'shop' };
export const FULL = 'acme/shop';
export const DEPLOY_TOKEN_VALUE = 'dtok-7f3a9c2e41b85d60-super-secret';

export const ts = (line: string): string => `2026-03-01T10:00:00.0000000Z ${line}`;
export const LOGS = {
  missingSecret: (name = 'DEPLOY_TOKEN') =>
    [ts('Run ./scripts/deploy.sh'), ts(`Error: ${name} is not set`), ts('##[error]Process completed with exit code 1.')].join('\n') + '\n',
  credential: [ts('POST https://deploy.example.com/v1/releases'), ts('HTTP 401 Unauthorized: Bad credentials'), ts('curl: (22) The requested URL returned error: 401'), ts('##[error]Process completed with exit code 22.')].join('\n') + '\n',
  transient: [ts('npm ERR! code ECONNRESET'), ts('npm ERR! network request to https://registry.npmjs.org/typescript failed, reason: read ECONNRESET'), ts('npm ERR! network This is a problem related to network connectivity.'), ts('##[error]Process completed with exit code 1.')].join('\n') + '\n',
  codeFailure: [ts('FAIL src/deploy.test.ts'), ts('  ● deploy › builds the release url'), ts('    expect(received).toBe(expected) // Object.is equality'), ts('Test Suites: 1 failed, 3 passed, 4 total'), ts('Tests:       1 failed, 27 passed, 28 total'), ts('##[error]Process completed with exit code 1.')].join('\n') + '\n',
};

export const AUTONOMY = (extra = '', level = 'full') => `version: 1
default_level: ${level}
cooldowns:
  default_minutes: 0
secrets:
  DEPLOY_TOKEN:
    source: from_env
    env: DEPLOY_TOKEN_SOURCE
${extra}`;

export class Clock {
  ms: number;
  constructor(iso = '2026-03-01T10:00:00Z') {
    this.ms = Date.parse(iso);
  }
  now = (): Date => new Date(this.ms);
  advance(minutes: number): void {
    this.ms += minutes * 60_000;
  }
}

/**
 * The fake's git data port, with tree entries that carry inline `content` turned into blobs first
 * (the fake treats `sha: null` as a deletion), so the ledger's files really land in the fake's trees.
 */
export function blobsFirst(gh: FakeGitHub): GitDataPort {
  return {
    getBranchHead: (repo, branch) => gh.getBranchHead(repo, branch),
    getCommitTree: (repo, sha) => gh.getCommitTree(repo, sha),
    listTree: (repo, sha) => gh.listTree(repo, sha),
    readBlob: (repo, sha) => gh.readBlob(repo, sha),
    createBlob: (repo, content) => gh.createBlob(repo, content),
    createTree: async (repo, base, entries) => {
      const plain: GitTreeEntry[] = [];
      for (const e of entries) {
        const content = (e as { content?: string }).content;
        plain.push(content !== undefined ? { path: e.path, mode: e.mode, type: e.type, sha: await gh.createBlob(repo, content) } : e);
      }
      return gh.createTree(repo, base, plain);
    },
    createCommit: (repo, message, tree, parents) => gh.createCommit(repo, message, tree, parents),
    createBranch: (repo, branch, sha) => gh.createBranch(repo, branch, sha),
    updateBranch: (repo, branch, sha) => gh.updateBranch(repo, branch, sha),
    createPullRequest: (repo, pr) => gh.createPullRequest(repo, pr),
    findOpenPullRequest: (repo, head, base) => gh.findOpenPullRequest(repo, head, base),
  };
}

let signerPromise: Promise<{ signer: Signer; secretKey: string }> | null = null;
export function testSigner(): Promise<{ signer: Signer; secretKey: string }> {
  signerPromise ??= (async () => {
    const key = await generateSigningKey(new Uint8Array(32).fill(11));
    return { signer: await createSigner(key.secretKey), secretKey: key.secretKey };
  })();
  return signerPromise;
}

export interface Kit {
  gh: FakeGitHub;
  clock: Clock;
  ctx: PipelineContext;
  logs: () => string;
  signer: Signer;
  secretKey: string;
}

export async function makeKit(opts: { env?: Record<string, string | undefined>; autonomyEnabled?: boolean; door?: PipelineContext['door'] } = {}): Promise<Kit> {
  const clock = new Clock();
  const gh = new FakeGitHub({ now: clock.now });
  const { signer, secretKey } = await testSigner();
  let buffer = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buffer += chunk.toString('utf8');
      cb();
    },
  });
  const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  let counter = 0;
  const ctx: PipelineContext = {
    github: gh,
    ledgerFor: (repo, branch) => createGitLedger(blobsFirst(gh), repo, branch, { now: clock.now, delay: async () => undefined, random: () => 0.5, signer }),
    signer,
    now: clock.now,
    randomBytes: (n) => Uint8Array.from({ length: n }, () => (counter = (counter * 31 + 7) % 251)),
    env: { DEPLOY_TOKEN_SOURCE: DEPLOY_TOKEN_VALUE, ...opts.env },
    // The kit's environment is the operator's allowlist: every name in it may be read.
    fromEnvRefusal: () => null,
    grantKeys: {},
    log,
    door: opts.door ?? 'webhook',
    autonomyEnabled: opts.autonomyEnabled ?? true,
  };
  return { gh, clock, ctx, logs: () => buffer, signer, secretKey };
}

/** A failed run of the deploy workflow with one failed job carrying `log`. */
/** The deploy workflow as committed: its failed `deploy` job targets no environment unless told. */
export const deployWorkflow = (environment?: string): string =>
  `name: Build & Deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n${environment ? `    environment: ${environment}\n` : ''}    steps:\n      - run: ./deploy.sh\n`;

/**
 * A failed run of the deploy workflow. Like on GitHub, its head_sha is a commit that holds the
 * workflow file (the environment of the failed jobs is read from it).
 */
export function failedRun(gh: FakeGitHub, log: string, run: Parameters<FakeGitHub['addRun']>[1] = {}) {
  const headSha = run.head_sha ?? gh.seedFiles(REPO, { '.github/workflows/deploy.yml': deployWorkflow() }, { message: 'deploy workflow' });
  const r = gh.addRun(REPO, { head_sha: headSha, ...run });
  gh.addJob(REPO, r.id, { name: 'deploy', log });
  return r;
}

let jobSeq = 0;
export function jobFor(request: HealRequestInput, door: HealJob['door'] = 'webhook'): HealJob {
  jobSeq += 1;
  return { id: `job-${jobSeq}`, door, delivery_id: `d-${jobSeq}`, received_at: '2026-03-01T10:00:00Z', request: HealRequest.parse(request) };
}

/** Port methods that change something on "GitHub" (not counting ledger writes). */
export const GITHUB_WRITES = ['setSecret', 'deleteSecret', 'upsertVariable', 'deleteVariable', 'putEnvironment', 'rerunFailedJobs', 'rerunRun', 'createIssue', 'updateIssue', 'ensureIssue', 'ensureComment', 'createCheckRun', 'createPullRequest', 'proposeFile'] as const;
export const LEDGER_WRITES = ['createBlob', 'createTree', 'createCommit', 'createBranch', 'updateBranch'] as const;

export const writesOf = (gh: FakeGitHub, methods: readonly string[]) => gh.calls.filter((c) => methods.includes(c.method)).map((c) => c.method);

/** Files of the ledger branch (empty when it does not exist). */
export function ledgerFiles(gh: FakeGitHub, branch = 'bridge-ledger'): Record<string, string> {
  return gh.branchHead(REPO, branch) ? gh.filesAt(REPO, branch) : {};
}

export function auditLines(gh: FakeGitHub): { event: string; detail: string; actor: string }[] {
  return Object.entries(ledgerFiles(gh))
    .filter(([p]) => p.startsWith('.bridge/audit/'))
    .flatMap(([, text]) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; detail: string; actor: string }));
}

export async function grantFor(signer: Signer, clock: Clock, body: Partial<GrantBody> & Pick<GrantBody, 'id' | 'actions'>) {
  return signGrant(
    {
      repository: FULL,
      environments: ['*'],
      targets: ['*'],
      not_before: new Date(clock.ms - 60_000).toISOString(),
      expires_at: new Date(clock.ms + 3600_000).toISOString(),
      issued_by: 'alice',
      reason: 'test',
      break_glass: false,
      ...body,
    },
    signer,
  );
}

export { signCertificate };

/** The signed statement's predicate of a certificate. */
export const predicateOf = (cert: Certificate | null | undefined): CertificatePredicate => {
  if (!cert) throw new Error('no certificate');
  return decodeCertificate(cert).predicate;
};
