import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { buildContext, sourceEnv } from '../../src/pipeline/build-context.js';
import type { Signer } from '../../src/core/certificate/index.js';

const HOST_ENV = {
  DEPLOY_TOKEN: 'from-the-vault',
  NPM_TOKEN_SOURCE: 'npm-value',
  WEBHOOK_SECRET: 'whsec',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  TRUTH_SIGNING_KEY: 'signing',
  AUTONOMY_API_TOKEN: 'api-token',
  GITHUB_TOKEN: 'ghs_x',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  LIVING_BRIDGE_GRANT_KEYS: 'k=pub',
};

describe('from_env sources never reach Living Bridge\'s own credentials', () => {
  test('own credentials are withheld, everything else is readable by default', () => {
    const env = sourceEnv(HOST_ENV);
    expect(env).toEqual({ DEPLOY_TOKEN: 'from-the-vault', NPM_TOKEN_SOURCE: 'npm-value', LIVING_BRIDGE_GRANT_KEYS: 'k=pub' });
  });

  test('LIVING_BRIDGE_FROM_ENV_ALLOW narrows sources to names and prefixes, never to own credentials', () => {
    const env = sourceEnv({ ...HOST_ENV, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_*,PRIVATE_KEY' });
    expect(Object.keys(env).sort()).toEqual(['DEPLOY_TOKEN', 'LIVING_BRIDGE_GRANT_KEYS']);
  });

  test('the pipeline context gets the filtered environment but still honours AUTONOMY_ENABLED', () => {
    const signer: Signer = { keyid: 'k', publicKey: 'p', sign: async () => new Uint8Array(64) };
    const ctx = buildContext({ token: 't', baseUrl: 'http://127.0.0.1:1/api/v3', signer, env: { ...HOST_ENV, AUTONOMY_ENABLED: 'FALSE' }, door: 'cli', log: pino({ level: 'silent' }) });
    expect(ctx.env.PRIVATE_KEY).toBeUndefined();
    expect(ctx.env.DEPLOY_TOKEN).toBe('from-the-vault');
    expect(ctx.autonomyEnabled).toBe(false);
  });
});
