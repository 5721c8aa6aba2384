import { readFileSync } from 'node:fs';
import { ApiTokens, SchemaError, parseWith, type ApiToken } from '../core/schemas/index.js';
import { ConfigurationError, envFlag } from '../pipeline/build-context.js';

/** The name AUTONOMY_API_TOKEN acts under in the audit trail: the all-scope token kept for compatibility. */
export const LEGACY_TOKEN_NAME = 'AUTONOMY_API_TOKEN';

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
  if (!env.APP_ID || !/^\d+$/.test(env.APP_ID)) problems.push('APP_ID is not set to the GitHub App\'s numeric id');
  if (!env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) problems.push('PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set to the GitHub App\'s private key');
  const apiToken = env.AUTONOMY_API_TOKEN?.trim() || null;
  if (apiToken !== null && apiToken.length < 16) problems.push('AUTONOMY_API_TOKEN must be at least 16 characters');
  const apiTokens = readApiTokens(env, problems);
  if (apiToken !== null && apiToken.length >= 16) apiTokens.push({ name: LEGACY_TOKEN_NAME, token: apiToken, scopes: ['*'] });
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
  const autonomyEnabled = flag('AUTONOMY_ENABLED', true);
  const clientPacing = flag('LIVING_BRIDGE_CLIENT_PACING', true);
  if (problems.length) throw new ConfigurationError(`Living Bridge cannot start:\n- ${problems.join('\n- ')}`);
  return {
    appId: env.APP_ID!,
    webhookSecret,
    apiTokens,
    port,
    host: env.HOST ?? '127.0.0.1',
    concurrency,
    autonomyEnabled,
    clientPacing,
  };
}

/** LIVING_BRIDGE_API_TOKENS (JSON) or LIVING_BRIDGE_API_TOKENS_FILE (a JSON file): scoped API tokens. */
function readApiTokens(env: Record<string, string | undefined>, problems: string[]): ApiToken[] {
  let text = env.LIVING_BRIDGE_API_TOKENS?.trim();
  let source = 'LIVING_BRIDGE_API_TOKENS';
  if (!text && env.LIVING_BRIDGE_API_TOKENS_FILE) {
    source = `LIVING_BRIDGE_API_TOKENS_FILE ${env.LIVING_BRIDGE_API_TOKENS_FILE}`;
    try {
      text = readFileSync(env.LIVING_BRIDGE_API_TOKENS_FILE, 'utf8');
    } catch {
      problems.push(`${source} cannot be read`);
      return [];
    }
  }
  if (!text) return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Never echo the text: it may hold tokens.
    problems.push(`${source} is not JSON (expected [{"name": …, "token_sha256": …, "scopes": ["owner/name"]}])`);
    return [];
  }
  try {
    return parseWith(ApiTokens, data, source);
  } catch (err) {
    if (err instanceof SchemaError) problems.push(...err.issues.map((i) => `${source}: ${i.path}: ${i.message}`));
    else throw err;
    return [];
  }
}
