import { describe, expect, test } from '@jest/globals';
import { readAppSettings } from '../../src/app/config.js';
import { NEVER_A_SOURCE, ownCredentialRefusal, parsePipelineSettings, sourceEnvOf } from '../../src/core/schemas/index.js';
import { appPrivateKey } from '../../src/demo/processes.js';

describe('NEVER_A_SOURCE: the one list of variables that are never a from_env source', () => {
  test('covers what the Action hid (HIDDEN_ENV) and what build-context refused (NEVER_A_SOURCE) before they became one list', () => {
    const formerlyHiddenByTheAction = ['INPUT_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL', 'GITHUB_TOKEN'];
    const formerlyRefusedByBuildContext = ['TRUTH_SIGNING_KEY', 'TRUTH_SIGNING_KEY_FILE', 'AUTONOMY_API_TOKEN', 'LIVING_BRIDGE_API_TOKENS', 'APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET', 'WEBHOOK_PROXY_URL', 'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'CLIENT_SECRET', 'SENTRY_DSN', 'GHE_HOST', 'GH_TOKEN', 'REDIS_URL', 'REDISCLI_AUTH', 'RUNNER_TEMP', 'NODE_AUTH_TOKEN'];
    for (const name of [...formerlyHiddenByTheAction, ...formerlyRefusedByBuildContext]) expect(ownCredentialRefusal(name)).toContain('never a source');
    for (const name of ['DEPLOY_TOKEN', 'NPM_TOKEN_SOURCE', 'LB_SOURCE_A', 'GITHUBX', 'MY_GITHUB_TOKEN']) expect(ownCredentialRefusal(name)).toBeNull();
    expect(NEVER_A_SOURCE).toContain('INPUT_*');
  });
});

describe('parsePipelineSettings', () => {
  test('defaults', () => {
    expect(parsePipelineSettings({})).toEqual({ settings: { autonomyEnabled: true, clientPacing: true, requestTimeoutMs: 30_000, grantKeys: {}, fromEnv: { rules: [], values: {} } } });
  });

  test('typed values; only what the allowlist could admit leaves the environment, never an own credential', () => {
    const { settings } = parsePipelineSettings({
      AUTONOMY_ENABLED: 'off', LIVING_BRIDGE_CLIENT_PACING: 'no', LIVING_BRIDGE_REQUEST_TIMEOUT_MS: '2500', LIVING_BRIDGE_GRANT_KEYS: 'k1=pub1, k2=pub2',
      PUBLIC_API_BASE: 'https://bridge.example.com', LIVING_BRIDGE_FROM_ENV_ALLOW: 'acme/api:DEPLOY_TOKEN,LB_*,GITHUB_*',
      DEPLOY_TOKEN: 'd', LB_A: 'a', GITHUB_TOKEN: 'never', WEBHOOK_SECRET: 'never', UNLISTED: 'u',
    });
    expect(settings).toMatchObject({ autonomyEnabled: false, clientPacing: false, requestTimeoutMs: 2500, grantKeys: { k1: 'pub1', k2: 'pub2' }, publicApiBase: 'https://bridge.example.com' });
    expect(settings!.fromEnv.values).toEqual({ DEPLOY_TOKEN: 'd', LB_A: 'a' });
    expect(sourceEnvOf(settings!.fromEnv, 'acme/api')).toEqual({ DEPLOY_TOKEN: 'd', LB_A: 'a' });
    expect(sourceEnvOf(settings!.fromEnv, 'acme/web')).toEqual({ LB_A: 'a' });
  });

  test('every problem at once, each naming its variable, no value echoed beyond a short prefix', () => {
    const parsed = parsePipelineSettings({ AUTONOMY_ENABLED: 'maybe', LIVING_BRIDGE_REQUEST_TIMEOUT_MS: '5', LIVING_BRIDGE_FROM_ENV_ALLOW: 'a:b:c', DEPLOY_TOKEN: 'secret-value' });
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems!.join('\n')).toMatch(/AUTONOMY_ENABLED=.*is not a boolean[\s\S]*LIVING_BRIDGE_REQUEST_TIMEOUT_MS must be[\s\S]*LIVING_BRIDGE_FROM_ENV_ALLOW/);
    expect(parsed.problems!.join('\n')).not.toContain('secret-value');
  });

  test('the App lists the pipeline settings\' problems with its own (startup diagnostics) and still refuses without WEBHOOK_SECRET', () => {
    const good = { WEBHOOK_SECRET: 'whsec-0123456789abcdef', APP_ID: '1', PRIVATE_KEY: appPrivateKey(), TRUTH_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64') };
    expect(readAppSettings({ ...good, LIVING_BRIDGE_DATA_DIR: '/tmp/x', REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ pipeline: { autonomyEnabled: true }, storage: { dataDir: '/tmp/x', redisUrl: 'redis://127.0.0.1:6379' }, webhookPath: '/api/github/webhooks', redeliverySweepSeconds: 300 });
    let message = '';
    try {
      readAppSettings({ ...good, WEBHOOK_SECRET: undefined, LIVING_BRIDGE_REQUEST_TIMEOUT_MS: 'soon', LIVING_BRIDGE_REDIS_LOCK_MS: '10', LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: '-1' });
    } catch (err) {
      message = (err as Error).message;
    }
    const lines = message.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toHaveLength(4);
    for (const name of ['WEBHOOK_SECRET is not set', 'LIVING_BRIDGE_REQUEST_TIMEOUT_MS', 'LIVING_BRIDGE_REDIS_LOCK_MS', 'LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS']) expect(message).toContain(name);
  });
});
