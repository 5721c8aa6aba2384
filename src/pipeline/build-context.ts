import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type * as Pino from 'pino';
import { createSigner, type Signer } from '../core/certificate/index.js';
import type { Door, RepoRef } from '../core/schemas/index.js';
import type { GitHubPort } from '../engines/ports.js';
import { GitHubAdapter, createOctokit } from '../github/index.js';
import { createGitLedger } from '../ledger/index.js';
import type { Ledger } from '../ledger/types.js';
import type { PipelineContext } from './context.js';

/** Paths pino must never print: tokens, keys, secret values, webhook bodies' credentials. */
export const REDACT_PATHS = [
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'value', '*.value', 'secret', '*.secret', 'encrypted_value', '*.encrypted_value', 'privateKey', '*.privateKey',
  'signingKey', '*.signingKey', 'password', '*.password',
];

/** A redacting pino logger; `fd: 2` for doors whose stdout is their output (the CLI's `--json`). */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info', opts: { fd?: number } = {}): Logger {
  const options = { name, level: level as Pino.LevelWithSilent, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return opts.fd === undefined ? pino(options) : pino(options, pino.destination({ fd: opts.fd, sync: true }));
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * The signing key: TRUTH_SIGNING_KEY (base64 Ed25519 seed or secret key) or TRUTH_SIGNING_KEY_FILE.
 * No key, no certificates: refuse rather than sign with something nobody can verify later.
 */
export async function loadSigner(env: Record<string, string | undefined>): Promise<Signer> {
  let material = env.TRUTH_SIGNING_KEY?.trim();
  if (!material && env.TRUTH_SIGNING_KEY_FILE) {
    try {
      material = readFileSync(env.TRUTH_SIGNING_KEY_FILE, 'utf8').trim();
    } catch {
      throw new ConfigurationError(`TRUTH_SIGNING_KEY_FILE ${env.TRUTH_SIGNING_KEY_FILE} cannot be read`);
    }
  }
  if (!material) {
    throw new ConfigurationError('no signing key: set TRUTH_SIGNING_KEY (or TRUTH_SIGNING_KEY_FILE); create one with `npx living-bridge keygen`');
  }
  try {
    return await createSigner(material);
  } catch {
    // Never echo key material back.
    throw new ConfigurationError('TRUTH_SIGNING_KEY is not a base64 Ed25519 seed (32 bytes) or secret key (64 bytes)');
  }
}

export interface BuildContextOptions {
  /** Either a token (Action, CLI) or an authenticated octokit (Probot's context.octokit). */
  token?: string;
  octokit?: ConstructorParameters<typeof GitHubAdapter>[0];
  baseUrl?: string;
  signer: Signer;
  env: Record<string, string | undefined>;
  door: Door;
  log: Logger;
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  ledgerFor?: (repo: RepoRef, branch: string) => Ledger;
}

export function buildContext(opts: BuildContextOptions): PipelineContext {
  // LIVING_BRIDGE_CLIENT_PACING=off: no client-side pacing of writes (the sandbox has no limits to respect).
  const pacing = (opts.env.LIVING_BRIDGE_CLIENT_PACING ?? 'on').toLowerCase() !== 'off';
  const octokit = opts.octokit ?? createOctokit({ auth: opts.token, baseUrl: opts.baseUrl, log: opts.log, ...(pacing ? {} : { throttle: false }) });
  const github: GitHubPort = new GitHubAdapter(octokit);
  return {
    github,
    ledgerFor: opts.ledgerFor ?? ((repo, branch) => createGitLedger(github, repo, branch)),
    signer: opts.signer,
    now: opts.now ?? (() => new Date()),
    randomBytes: opts.random ?? ((n) => new Uint8Array(randomBytes(n))),
    env: opts.env,
    log: opts.log,
    door: opts.door,
    publicApiBase: opts.env.PUBLIC_API_BASE,
    autonomyEnabled: (opts.env.AUTONOMY_ENABLED ?? 'true').toLowerCase() !== 'false',
  };
}
