import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type * as Pino from 'pino';
import { createSigner, type Signer } from '../core/certificate/index.js';
import { FROM_ENV_ALLOW_VARIABLE, SettingError, booleanSetting, fromEnvRefusal, parseFromEnvAllow, type Door, type RepoRef } from '../core/schemas/index.js';
import type { GitHubPort } from '../ports/index.js';
import { GitHubAdapter, createOctokit } from '../github/index.js';
import { requestPolicyFrom } from '../github/request-policy.js';
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
 * Defence in depth behind the allowlist: credentials of Living Bridge, Probot, octokit, BullMQ/Redis
 * and the Actions runner are never a `from_env` source, even if an operator's allowlist pattern
 * covers them. Without this, anyone who can edit a repository's autonomy.yml could declare
 * `source: from_env, env: PRIVATE_KEY` and have the App copy its own key into that repository.
 */
const NEVER_A_SOURCE = new RegExp(
  '^(' +
    [
      // Living Bridge
      'TRUTH_SIGNING_KEY\\w*', 'AUTONOMY_\\w*', 'LIVING_BRIDGE_\\w*',
      // Probot / the GitHub App
      'APP_ID', 'PRIVATE_KEY\\w*', 'WEBHOOK_SECRET', 'WEBHOOK_PROXY_URL', 'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'CLIENT_SECRET', 'SENTRY_DSN', 'GHE_HOST',
      // octokit, gh and the runner's GITHUB_* (GITHUB_TOKEN among them)
      'GITHUB_\\w*', 'GH_\\w*',
      // BullMQ / ioredis
      'REDIS\\w*', 'REDISCLI_AUTH',
      // the Actions runner
      'ACTIONS_\\w*', 'INPUT_\\w*', 'RUNNER_\\w*', 'NODE_AUTH_TOKEN',
    ].join('|') +
    ')$',
);

/** Why `name` is never a source (an own credential), or null. */
export function ownCredentialRefusal(name: string): string | null {
  return NEVER_A_SOURCE.test(name)
    ? `from_env ${name} is refused: it is one of the credentials or settings of Living Bridge, Probot, octokit, Redis or the Actions runner, which are never a source`
    : null;
}

/** The one rule for `from_env`: the operator's allowlist (LIVING_BRIDGE_FROM_ENV_ALLOW), then the blocklist. */
export function fromEnvPolicy(env: Record<string, string | undefined>, repository: string | null): (name: string) => string | null {
  let rules;
  try {
    rules = parseFromEnvAllow(env[FROM_ENV_ALLOW_VARIABLE]);
  } catch (err) {
    if (err instanceof SettingError) throw new ConfigurationError(err.message);
    throw err;
  }
  return (name) => ownCredentialRefusal(name) ?? fromEnvRefusal(rules, name, repository);
}

/**
 * The part of the healer's environment that `from_env` sources of `repository` may read: only what
 * LIVING_BRIDGE_FROM_ENV_ALLOW lists (for that repository), never an own credential. No allowlist:
 * nothing.
 */
export function sourceEnv(env: Record<string, string | undefined>, repository: string | null = null): Record<string, string | undefined> {
  const refusal = fromEnvPolicy(env, repository);
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (refusal(name) === null) out[name] = value;
  return out;
}

/** LIVING_BRIDGE_GRANT_KEYS="keyid=base64,keyid2=base64": operators' keys trusted to sign grants. */
export function trustedGrantKeys(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (env.LIVING_BRIDGE_GRANT_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
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
  /** `owner/name` this context acts on: LIVING_BRIDGE_FROM_ENV_ALLOW entries scoped to an owner or repository apply to it. */
  repository?: string;
  now?: () => Date;
  random?: (n: number) => Uint8Array;
  ledgerFor?: (repo: RepoRef, branch: string) => Ledger;
  /** Retry tuning of the token client (the CLI retries once: a person is waiting for the answer). */
  retry?: { retries?: number; retryAfterBaseValue?: number };
}

export function buildContext(opts: BuildContextOptions): PipelineContext {
  // LIVING_BRIDGE_CLIENT_PACING=off: no client-side spacing of writes (the sandbox has no limits to
  // respect); retries of 403/429/5xx stay on either way.
  const { pacing, timeoutMs } = requestPolicyFrom(opts.env, envFlag(opts.env, 'LIVING_BRIDGE_CLIENT_PACING', true));
  const octokit = opts.octokit ?? createOctokit({ auth: opts.token, baseUrl: opts.baseUrl, log: opts.log, pacing, timeoutMs, ...(opts.retry ? { retry: opts.retry } : {}) });
  const github: GitHubPort = new GitHubAdapter(octokit);
  return {
    github,
    ledgerFor: opts.ledgerFor ?? ((repo, branch) => createGitLedger(github, repo, branch, { signer: opts.signer })),
    signer: opts.signer,
    now: opts.now ?? (() => new Date()),
    randomBytes: opts.random ?? ((n) => new Uint8Array(randomBytes(n))),
    env: sourceEnv(opts.env, opts.repository ?? null),
    fromEnvRefusal: fromEnvPolicy(opts.env, opts.repository ?? null),
    grantKeys: trustedGrantKeys(opts.env),
    log: opts.log,
    door: opts.door,
    publicApiBase: opts.env.PUBLIC_API_BASE,
    autonomyEnabled: envFlag(opts.env, 'AUTONOMY_ENABLED', true),
  };
}
