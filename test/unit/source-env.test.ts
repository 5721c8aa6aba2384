import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { ConfigurationError, buildContext, fromEnvPolicy, pipelineSettingsFrom, sourceEnv } from '../../src/pipeline/build-context.js';
import type { Signer } from '../../src/core/certificate/index.js';

const HOST_ENV = {
  DEPLOY_TOKEN: 'from-the-vault',
  NPM_TOKEN_SOURCE: 'npm-value',
  LB_SOURCE_A: 'a',
  WEBHOOK_SECRET: 'whsec',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  GITHUB_CLIENT_SECRET: 'oauth-secret',
  TRUTH_SIGNING_KEY: 'signing',
  AUTONOMY_API_TOKEN: 'api-token',
  GITHUB_TOKEN: 'ghs_x',
  REDIS_PASSWORD: 'redis-pw',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  RUNNER_TEMP: '/tmp',
  LIVING_BRIDGE_GRANT_KEYS: 'k=pub',
};

describe('from_env sources read only what the operator allowlisted', () => {
  test('no LIVING_BRIDGE_FROM_ENV_ALLOW: nothing is readable, and the refusal says how to allow it', () => {
    expect(sourceEnv(HOST_ENV)).toEqual({});
    const refusal = fromEnvPolicy(HOST_ENV, 'acme/api')('DEPLOY_TOKEN');
    expect(refusal).toContain('no LIVING_BRIDGE_FROM_ENV_ALLOW is set');
    expect(refusal).toContain('set LIVING_BRIDGE_FROM_ENV_ALLOW=DEPLOY_TOKEN');
  });

  test('names and prefixes are allowed; own credentials never, even when a pattern covers them', () => {
    const env = sourceEnv({ ...HOST_ENV, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN, LB_SOURCE_*, GITHUB_*, PRIVATE_KEY, REDIS_*, *' });
    expect(Object.keys(env).sort()).toEqual(['DEPLOY_TOKEN', 'LB_SOURCE_A', 'NPM_TOKEN_SOURCE']);
    const refusal = fromEnvPolicy({ LIVING_BRIDGE_FROM_ENV_ALLOW: 'GITHUB_*' }, 'acme/api');
    for (const name of ['GITHUB_CLIENT_SECRET', 'GITHUB_TOKEN', 'WEBHOOK_SECRET', 'PRIVATE_KEY', 'REDIS_URL', 'ACTIONS_RUNTIME_TOKEN', 'AUTONOMY_API_TOKEN', 'TRUTH_SIGNING_KEY']) {
      expect(refusal(name)).toContain('never a source');
    }
  });

  test('owner- and repository-scoped entries apply to that owner or repository only', () => {
    const env = { ...HOST_ENV, LIVING_BRIDGE_FROM_ENV_ALLOW: 'acme:DEPLOY_TOKEN,acme/api:NPM_TOKEN_SOURCE' };
    expect(Object.keys(sourceEnv(env, 'acme/api')).sort()).toEqual(['DEPLOY_TOKEN', 'NPM_TOKEN_SOURCE']);
    expect(Object.keys(sourceEnv(env, 'ACME/web'))).toEqual(['DEPLOY_TOKEN']);
    expect(sourceEnv(env, 'other/api')).toEqual({});
    expect(fromEnvPolicy(env, 'other/api')('DEPLOY_TOKEN')).toContain('does not allow it for other/api');
  });

  test('a malformed allowlist entry is a configuration error naming the variable', () => {
    expect(() => fromEnvPolicy({ LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY-TOKEN' }, null)).toThrow(ConfigurationError);
    expect(() => fromEnvPolicy({ LIVING_BRIDGE_FROM_ENV_ALLOW: 'a:b:c' }, null)).toThrow(/LIVING_BRIDGE_FROM_ENV_ALLOW/);
  });

  test('the pipeline context gets the allowlisted environment, grant keys apart, and AUTONOMY_ENABLED', () => {
    const signer: Signer = { keyid: 'k', publicKey: 'p', sign: async () => new Uint8Array(64) };
    const ctx = buildContext({ token: 't', baseUrl: 'http://127.0.0.1:1/api/v3', signer, settings: pipelineSettingsFrom({ ...HOST_ENV, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', AUTONOMY_ENABLED: 'FALSE' }), door: 'cli', repository: 'acme/api', log: pino({ level: 'silent' }) });
    expect(ctx.env).toEqual({ DEPLOY_TOKEN: 'from-the-vault' });
    expect(ctx.fromEnvRefusal('NPM_TOKEN_SOURCE')).toContain('does not allow it for acme/api');
    expect(ctx.grantKeys).toEqual({ k: 'pub' });
    expect(ctx.autonomyEnabled).toBe(false);
  });
});
