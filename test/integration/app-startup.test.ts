/**
 * The App's startup check of GitHub (src/app/reachability.ts): reachable and accepting the App's
 * JWT, unreachable (named promptly, with the cause), and a refused JWT.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appJwt, checkGitHub } from '../../src/app/reachability.js';
import { appPrivateKey, freePort } from '../../src/demo/processes.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
const PEM = appPrivateKey();
beforeAll(async () => { sandbox = await startSandbox(); });
afterAll(async () => { await sandbox?.close(); });

describe('checkGitHub', () => {
  test('reachable: names the App GitHub authenticated', async () => {
    const r = await checkGitHub({ APP_ID: '1', PRIVATE_KEY: PEM, GHE_HOST: new URL(sandbox.url).host, GHE_PROTOCOL: 'http' });
    expect(r).toMatchObject({ ok: true, url: `${sandbox.url}/api/v3` });
    expect(r.message).toMatch(/^GitHub reachable at http:\/\/127\.0\.0\.1:\d+\/api\/v3; authenticated as the App \S+/);
  });

  test('unreachable: says so with the cause, within the timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await checkGitHub({ APP_ID: '1', PRIVATE_KEY: PEM, GHE_HOST: `127.0.0.1:${port}`, GHE_PROTOCOL: 'http' }, { timeoutMs: 2000 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`GitHub at http://127.0.0.1:${port}/api/v3 is unreachable: the connection was refused (ECONNREFUSED). Webhooks are still accepted and queued; heals wait for GitHub`);
  });

  test('a JWT GitHub refuses: APP_ID and PRIVATE_KEY do not match', async () => {
    let seen = '';
    const fake = createServer((req, res) => {
      seen = req.headers.authorization ?? '';
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"A JSON web token could not be decoded"}');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const { port } = fake.address() as { port: number };
    const r = await checkGitHub({ APP_ID: '42', PRIVATE_KEY: PEM, GHE_HOST: `127.0.0.1:${port}`, GHE_PROTOCOL: 'http' });
    fake.close();
    expect(r.ok).toBe(false);
    expect(r.message).toContain('APP_ID 42 and PRIVATE_KEY do not belong to the same App');
    // GitHub's documented JWT: RS256, iss = the App id, issued 60 s in the past, at most 10 minutes.
    const [, payload] = seen.replace('Bearer ', '').split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { iss: string; iat: number; exp: number };
    expect(claims.iss).toBe('42');
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
  });

  test('appJwt is deterministic for a given time', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(appJwt('1', PEM, now)).toBe(appJwt('1', PEM, now));
  });
});
