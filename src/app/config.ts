import { ConfigurationError, envFlag } from '../pipeline/build-context.js';

export interface AppSettings {
  appId: string;
  webhookSecret: string;
  apiToken: string | null;
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
  const envSyncSchedule = flag('LIVING_BRIDGE_ENV_SYNC_SCHEDULE', true);
  const envSyncPeriodMinutes = Number(env.LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES ?? 60);
  if (!Number.isFinite(envSyncPeriodMinutes) || envSyncPeriodMinutes < 1) problems.push('LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES must be a number of minutes, at least 1');
  if (problems.length) throw new ConfigurationError(`Living Bridge cannot start:\n- ${problems.join('\n- ')}`);
  return {
    appId: env.APP_ID!,
    webhookSecret,
    apiToken,
    port,
    host: env.HOST ?? '127.0.0.1',
    concurrency,
    autonomyEnabled,
    clientPacing,
    envSyncSchedule,
    envSyncPeriodMinutes,
  };
}
