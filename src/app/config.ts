import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parsePipelineSettings, type ApiToken, type PipelineSettings } from '../core/schemas/index.js';
import type { StorageSettings } from '../intake/index.js';
import { ConfigurationError, envFlag } from '../pipeline/build-context.js';
import { readApiTokens } from './api-tokens.js';

export interface AppSettings {
  appId: string;
  webhookSecret: string;
  /**
   * Tokens of the /api/autonomy/* endpoints, each with the repositories it may act on: the entries of
   * LIVING_BRIDGE_API_TOKENS (or _FILE), plus AUTONOMY_API_TOKEN as an all-scope token.
   */
  apiTokens: ApiToken[];
  port: number;
  host: string;
  concurrency: number;
  /** AUTONOMY_ENABLED: the global kill switch (false: every decision is NOOP(halted)). */
  autonomyEnabled: boolean;
  /** LIVING_BRIDGE_CLIENT_PACING: client-side pacing of writes (off for the sandbox). */
  clientPacing: boolean;
  /** LIVING_BRIDGE_ENV_SYNC_SCHEDULE: the hourly env sync over every installation (src/app/schedule.ts). */
  envSyncSchedule: boolean;
  /** LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES: length of one pass over every repository (default 60). */
  envSyncPeriodMinutes: number;
  /** What every pipeline context of the App runs with (core schema: src/core/schemas/settings-env.ts). */
  pipeline: PipelineSettings;
  /** LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: how often failed deliveries are looked for (default 300; 0 = never). */
  redeliverySweepSeconds: number;
  /** WEBHOOK_PATH (default /api/github/webhooks). */
  webhookPath: string;
  /** LIVING_BRIDGE_STARTUP_CHECK: check and log GitHub reachability after start (default on). */
  startupCheck: boolean;
  /** LOG_LEVEL (default info). */
  logLevel: string;
  /** REDIS_URL, LIVING_BRIDGE_REDIS_PREFIX, LIVING_BRIDGE_REDIS_LOCK_MS, LIVING_BRIDGE_DATA_DIR: the intake's and the schedule's storage. */
  storage: StorageSettings;
}

/**
 * Reads and checks the App's environment. Probot would silently accept "development" as the
 * webhook secret when WEBHOOK_SECRET is unset: we refuse to start instead.
 */
export function readAppSettings(env: Record<string, string | undefined>): AppSettings {
  const problems: string[] = [];
  const webhookSecret = env.WEBHOOK_SECRET ?? '';
  if (!webhookSecret) problems.push('WEBHOOK_SECRET is not set (the secret configured on the GitHub App\'s webhook)');
  else if (webhookSecret === 'development') problems.push('WEBHOOK_SECRET must not be "development"');
  if (!env.APP_ID) problems.push('APP_ID is not set to the GitHub App\'s numeric id (the "App ID" on the App\'s settings page)');
  else if (!/^\d+$/.test(env.APP_ID)) problems.push(`APP_ID=${shown(env.APP_ID)} is not a number: use the numeric "App ID" from the App's settings page, not its name or client id`);
  const keyProblem = privateKeyProblem(env);
  if (keyProblem) problems.push(keyProblem);
  const signingProblem = signingKeyProblem(env);
  if (signingProblem) problems.push(signingProblem);
  if (env.GHE_PROTOCOL && !['http', 'https'].includes(env.GHE_PROTOCOL)) problems.push(`GHE_PROTOCOL=${shown(env.GHE_PROTOCOL)} must be http or https`);
  if (env.GHE_HOST && /[/\s]/.test(env.GHE_HOST)) problems.push(`GHE_HOST=${shown(env.GHE_HOST)} must be a host name (like github.example.com), without scheme or path`);
  if (env.REDIS_URL && !/^rediss?:\/\/[^\s]+$/.test(env.REDIS_URL.trim())) problems.push('REDIS_URL is not a redis:// or rediss:// URL');
  const lockMs = env.LIVING_BRIDGE_REDIS_LOCK_MS?.trim() ? Number(env.LIVING_BRIDGE_REDIS_LOCK_MS) : undefined;
  if (lockMs !== undefined && !(Number.isInteger(lockMs) && lockMs >= 1000)) problems.push('LIVING_BRIDGE_REDIS_LOCK_MS must be a whole number of milliseconds >= 1000');
  if (env.LOG_LEVEL && !LOG_LEVELS.includes(env.LOG_LEVEL)) problems.push(`LOG_LEVEL=${shown(env.LOG_LEVEL)} is not one of ${LOG_LEVELS.join(', ')}`);
  const apiToken = env.AUTONOMY_API_TOKEN?.trim() || null;
  if (apiToken !== null && apiToken.length < 16) problems.push('AUTONOMY_API_TOKEN must be at least 16 characters');
  const apiTokens = readApiTokens(env, apiToken, problems);
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT ${env.PORT} is not a port number`);
  const concurrency = Number(env.LIVING_BRIDGE_CONCURRENCY ?? 2);
  if (!Number.isInteger(concurrency) || concurrency < 1) problems.push('LIVING_BRIDGE_CONCURRENCY must be a positive integer');
  const flag = (name: string, fallback: boolean): boolean => {
    try {
      return envFlag(env, name, fallback);
    } catch (err) {
      problems.push((err as Error).message);
      return fallback;
    }
  };
  // AUTONOMY_ENABLED, pacing, request timeout, grant keys, the from_env allowlist: the core schema, its problems listed with the rest.
  const pipeline = parsePipelineSettings(env);
  if (pipeline.problems) problems.push(...pipeline.problems);
  const envSyncSchedule = flag('LIVING_BRIDGE_ENV_SYNC_SCHEDULE', true);
  const envSyncPeriodMinutes = Number(env.LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES ?? 60);
  if (!Number.isFinite(envSyncPeriodMinutes) || envSyncPeriodMinutes < 1) problems.push('LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES must be a number of minutes, at least 1');
  const startupCheck = flag('LIVING_BRIDGE_STARTUP_CHECK', true); // acted on by the process entry (src/app/main.ts)
  const sweepRaw = env.LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS;
  const redeliverySweepSeconds = sweepRaw === undefined || sweepRaw.trim() === '' ? 300 : Number(sweepRaw);
  if (!Number.isFinite(redeliverySweepSeconds) || redeliverySweepSeconds < 0) problems.push('LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS must be a number of seconds (0 turns the sweeper off)');
  if (problems.length) throw new ConfigurationError(`Living Bridge cannot start:\n- ${problems.join('\n- ')}`);
  return {
    appId: env.APP_ID!,
    webhookSecret,
    apiTokens,
    port,
    host: env.HOST ?? '127.0.0.1',
    concurrency,
    autonomyEnabled: pipeline.settings!.autonomyEnabled,
    clientPacing: pipeline.settings!.clientPacing,
    envSyncSchedule,
    envSyncPeriodMinutes,
    pipeline: pipeline.settings!,
    redeliverySweepSeconds,
    webhookPath: env.WEBHOOK_PATH ?? '/api/github/webhooks',
    startupCheck,
    logLevel: env.LOG_LEVEL ?? 'info',
    storage: {
      ...(env.REDIS_URL?.trim() ? { redisUrl: env.REDIS_URL.trim() } : {}),
      ...(env.LIVING_BRIDGE_REDIS_PREFIX?.trim() ? { redisPrefix: env.LIVING_BRIDGE_REDIS_PREFIX.trim() } : {}),
      ...(lockMs !== undefined ? { redisLockMs: lockMs } : {}),
      ...(env.LIVING_BRIDGE_DATA_DIR?.trim() ? { dataDir: env.LIVING_BRIDGE_DATA_DIR.trim() } : {}),
    },
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A setting's value for an error message: only short, plain values (never anything that could be a secret). */
const shown = (value: string): string => (/^[\w.:-]{1,40}$/.test(value) ? `"${value}"` : '(value not shown)');

/**
 * The App's private key in every form Probot accepts (PEM, PEM with literal "\n", base64 of the PEM,
 * or a file at PRIVATE_KEY_PATH), or null when none is configured.
 */
export function readPrivateKey(env: Record<string, string | undefined>): string | null {
  if (env.PRIVATE_KEY) {
    let key = env.PRIVATE_KEY.trim();
    if (!key.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(key)) key = Buffer.from(key, 'base64').toString('utf8');
    return key.replace(/\\n/g, '\n');
  }
  if (env.PRIVATE_KEY_PATH) return readFileSync(env.PRIVATE_KEY_PATH, 'utf8');
  return null;
}

function privateKeyProblem(env: Record<string, string | undefined>): string | null {
  let pem: string | null;
  try {
    pem = readPrivateKey(env);
  } catch {
    return `PRIVATE_KEY_PATH ${env.PRIVATE_KEY_PATH} cannot be read`;
  }
  const name = env.PRIVATE_KEY ? 'PRIVATE_KEY' : `the file at PRIVATE_KEY_PATH (${env.PRIVATE_KEY_PATH})`;
  if (pem === null) return 'PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set to the GitHub App\'s private key (the .pem file from the App\'s settings page)';
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') return `${name} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; GitHub Apps sign with the RSA key GitHub generated`;
  } catch {
    // Never echo any part of the key.
    return `${name} is not a PEM private key: paste the whole .pem file GitHub generated, from -----BEGIN RSA PRIVATE KEY----- to the END line (newlines or literal \\n both work)`;
  }
  return null;
}

/** The same checks createSigner makes, synchronously, so they are reported together with the rest. */
function signingKeyProblem(env: Record<string, string | undefined>): string | null {
  let material = env.TRUTH_SIGNING_KEY?.trim();
  if (!material && env.TRUTH_SIGNING_KEY_FILE) {
    try {
      material = readFileSync(env.TRUTH_SIGNING_KEY_FILE, 'utf8').trim();
    } catch {
      return `TRUTH_SIGNING_KEY_FILE ${env.TRUTH_SIGNING_KEY_FILE} cannot be read`;
    }
  }
  if (!material) return 'TRUTH_SIGNING_KEY (or TRUTH_SIGNING_KEY_FILE) is not set: create a key with `npx living-bridge keygen`';
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(material) ? Buffer.from(material, 'base64').length : 0;
  if (bytes !== 32 && bytes !== 64) return 'TRUTH_SIGNING_KEY is not a base64 Ed25519 seed (32 bytes) or secret key (64 bytes); create one with `npx living-bridge keygen`';
  return null;
}
