import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type * as Pino from 'pino';
import { createSigner, type Signer } from '../core/certificate/index.js';
import { SettingError, booleanSetting, type Door, type RepoRef } from '../core/schemas/index.js';
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

/** pino options every door's logger shares: redaction, ISO-8601 timestamps. */
export const loggerOptions = (name: string, level: string): Pino.LoggerOptions => ({
  name,
  level: level as Pino.LevelWithSilent,
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** A redacting pino logger; `fd: 2` for doors whose stdout is their output (the CLI's `--json`). */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info', opts: { fd?: number } = {}): Logger {
  const options = loggerOptions(name, level);
  return opts.fd === undefined ? pino(options) : pino(options, pino.destination({ fd: opts.fd, sync: true }));
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * A boolean environment setting (AUTONOMY_ENABLED, LIVING_BRIDGE_CLIENT_PACING, …) read with the one
 * core parser every door uses: true/false/1/0/yes/no/on/off; anything else is a ConfigurationError
 * naming the variable, so a door refuses to start instead of guessing.
 */
export function envFlag(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  try {
    return booleanSetting(env, name, fallback);
  } catch (err) {
    if (err instanceof SettingError) throw new ConfigurationError(err.message);
    throw err;
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

/**
 * Living Bridge's own credentials and the runner's: never a `from_env` source. Without this, anyone
 * who can edit a repository's autonomy.yml could declare `source: from_env, env: PRIVATE_KEY` and
 * have the App copy its own key into that repository's secrets.
 */
const NEVER_A_SOURCE = /^(WEBHOOK_SECRET|PRIVATE_KEY|PRIVATE_KEY_PATH|APP_ID|TRUTH_SIGNING_KEY|TRUTH_SIGNING_KEY_FILE|AUTONOMY_API_TOKEN|REDIS_URL|LIVING_BRIDGE_TOKEN|GITHUB_TOKEN|GH_TOKEN|ACTIONS_RUNTIME_\w*|ACTIONS_ID_TOKEN_\w*|ACTIONS_CACHE_\w*|ACTIONS_RESULTS_\w*|INPUT_\w*)$/;

/**
 * The part of the healer's environment that `from_env` sources may read. Own credentials are
 * always withheld. With LIVING_BRIDGE_FROM_ENV_ALLOW="NAME,PREFIX_*" only those names are
 * readable — recommended for an App installed on many repositories, since every repository's
 * config can name any variable the App host has.
 */
export function sourceEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const allow = (env.LIVING_BRIDGE_FROM_ENV_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const allowed = (name: string) =>
    allow.length === 0 || allow.some((a) => (a.endsWith('*') ? name.startsWith(a.slice(0, -1)) : name === a));
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (NEVER_A_SOURCE.test(name)) continue;
    // Settings the pipeline itself reads stay visible; they are not secrets.
    if (name === 'LIVING_BRIDGE_GRANT_KEYS' || name === 'PUBLIC_API_BASE' || allowed(name)) out[name] = value;
  }
  return out;
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
  const pacing = envFlag(opts.env, 'LIVING_BRIDGE_CLIENT_PACING', true);
  const octokit = opts.octokit ?? createOctokit({ auth: opts.token, baseUrl: opts.baseUrl, log: opts.log, ...(pacing ? {} : { throttle: false }) });
  const github: GitHubPort = new GitHubAdapter(octokit);
  return {
    github,
    ledgerFor: opts.ledgerFor ?? ((repo, branch) => createGitLedger(github, repo, branch)),
    signer: opts.signer,
    now: opts.now ?? (() => new Date()),
    randomBytes: opts.random ?? ((n) => new Uint8Array(randomBytes(n))),
    env: sourceEnv(opts.env),
    log: opts.log,
    door: opts.door,
    publicApiBase: opts.env.PUBLIC_API_BASE,
    autonomyEnabled: envFlag(opts.env, 'AUTONOMY_ENABLED', true),
  };
}
