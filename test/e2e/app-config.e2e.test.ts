/**
 * The App process refuses to start on a bad configuration: exit code 78 (EX_CONFIG) and a message
 * naming what to fix, never a stack and never a secret's value.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { PROJECT_ROOT, appPrivateKey } from '../../src/demo/processes.js';

jest.setTimeout(60_000);

function runApp(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/app/main.ts')], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the App refuses to start on a bad configuration', () => {
  test('without WEBHOOK_SECRET: exit 78 and the reason', async () => {
    const r = await runApp({ APP_ID: '1', PRIVATE_KEY: appPrivateKey(), TRUTH_SIGNING_KEY: Buffer.alloc(32, 3).toString('base64') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('Living Bridge cannot start');
    expect(r.stderr).toContain('WEBHOOK_SECRET is not set');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('with a malformed TRUTH_SIGNING_KEY: exit 78, the key not echoed', async () => {
    const key = 'not-base64-but-possibly-sensitive-material!';
    const r = await runApp({ APP_ID: '1', PRIVATE_KEY: appPrivateKey(), WEBHOOK_SECRET: 'whsec-0123456789', TRUTH_SIGNING_KEY: key });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('TRUTH_SIGNING_KEY is not a base64 Ed25519 seed');
    expect(`${r.stdout}${r.stderr}`).not.toContain(key);
  });
});
