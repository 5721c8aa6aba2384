import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type * as Pino from 'pino';
import { createSigner, type Signer } from '../core/certificate/index.js';
import { SettingError, booleanSetting, fromEnvPolicyOf, parsePipelineSettings, sourceEnvOf, type Door, type PipelineSettings, type RepoRef } from '../core/schemas/index.js';
import type { GitHubPort } from '../ports/index.js';
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
export function createLogger(name: string, level = 'info', opts: { fd?: number } = {}): Logger {
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

// The one never-a-source list and the from_env policy live in the core (src/core/schemas/settings-env.ts).
export { ownCredentialRefusal } from '../core/schemas/index.js';

/**
 * The environment a door was given → {@link PipelineSettings}, every problem listed in one
 * ConfigurationError. Doors call this once (the App inside readAppSettings, with its own checks);
 * the pipeline only ever sees the typed result.
 */
export function pipelineSettingsFrom(env: Record<string, string | undefined>): PipelineSettings {
  const parsed = parsePipelineSettings(env);
  if (parsed.problems) throw new ConfigurationError(parsed.problems.length === 1 ? parsed.problems[0]! : `Living Bridge cannot start:\n- ${parsed.problems.join('\n- ')}`);
  return parsed.settings;
}

/** The one rule for `from_env` of `repository` (allowlist, then the never-a-source list), from a door's environment. */
export function fromEnvPolicy(env: Record<string, string | undefined>, repository: string | null): (name: string) => string | null {
  return fromEnvPolicyOf(pipelineSettingsFrom(env).fromEnv, repository);
}

/** What `from_env` sources of `repository` may read from a door's environment: only what the allowlist admits. */
export function sourceEnv(env: Record<string, string | undefined>, repository: string | null = null): Record<string, string | undefined> {
  return sourceEnvOf(pipelineSettingsFrom(env).fromEnv, repository);
}

export interface BuildContextOptions {
  /** Either a token (Action, CLI) or an authenticated octokit (Probot's context.octokit). */
  token?: string;
  octokit?: ConstructorParameters<typeof GitHubAdapter>[0];
  baseUrl?: string;
  signer: Signer;
  /** The door's settings, parsed once from its environment (`pipelineSettingsFrom`, or the App's readAppSettings). */
  settings: PipelineSettings;
  door: Door;
  log: Logger;
  /** `owner/name` this context acts on: LIVING_BRIDGE_FROM_ENV_ALLOW entries scoped to an owner or repository apply to it. */
  repository?: string;
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  ledgerFor?: (repo: RepoRef, branch: string) => Ledger;
  /** Retry tuning of the token client (the CLI retries once: a person is waiting for the answer). */
  retry?: { retries?: number; retryAfterBaseValue?: number };
}

export function buildContext(opts: BuildContextOptions): PipelineContext {
  const { settings } = opts;
  // LIVING_BRIDGE_CLIENT_PACING=off: no client-side spacing of writes (the sandbox has no limits to
  // respect); retries of 403/429/5xx stay on either way.
  const pacing = settings.clientPacing;
  const timeoutMs = settings.requestTimeoutMs;
  const octokit = opts.octokit ?? createOctokit({ auth: opts.token, baseUrl: opts.baseUrl, log: opts.log, pacing, timeoutMs, ...(opts.retry ? { retry: opts.retry } : {}) });
  const github: GitHubPort = new GitHubAdapter(octokit);
  return {
    github,
    ledgerFor: opts.ledgerFor ?? ((repo, branch) => createGitLedger(github, repo, branch, { signer: opts.signer })),
    signer: opts.signer,
    now: opts.now ?? (() => new Date()),
    randomBytes: opts.random ?? ((n) => new Uint8Array(randomBytes(n))),
    env: sourceEnvOf(settings.fromEnv, opts.repository ?? null),
    fromEnvRefusal: fromEnvPolicyOf(settings.fromEnv, opts.repository ?? null),
    grantKeys: settings.grantKeys,
    log: opts.log,
    door: opts.door,
    publicApiBase: settings.publicApiBase,
    autonomyEnabled: settings.autonomyEnabled,
  };
}
