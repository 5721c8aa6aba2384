import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starts the sandbox and the real App as separate processes, the way a user runs them, and speaks
 * to them over HTTP only. Shared by `npm run demo` and the end-to-end tests.
 */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

export interface ManagedProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready:\n${output().slice(-2000)}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready in ${timeoutMs} ms:\n${output().slice(-2000)}`);
}

function launch(script: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  // TypeScript sources run through tsx; compiled JavaScript (the production bundle) runs as it is.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, join(PROJECT_ROOT, script), ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

const stopper = (child: ChildProcess) => (): Promise<void> =>
  new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });

export async function startSandboxProcess(): Promise<ManagedProcess> {
  const port = await freePort();
  const { child, output } = launch('src/sandbox/cli.ts', ['--port', String(port), '--scenario', 'none'], {});
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/_sandbox/health`, child, output);
  return { url, child, output, stop: stopper(child) };
}

export interface AppProcess extends ManagedProcess {
  webhookSecret: string;
  apiToken: string;
  signingKey: string;
}

/** A fresh RSA key the App signs its JWTs with (the sandbox accepts any well-formed App JWT). */
export const appPrivateKey = (): string =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

/** `entry`: src/app/main.ts (default, through tsx) or the production bundle dist/server/main.js (`npm start`). */
export async function startAppProcess(sandboxUrl: string, extraEnv: Record<string, string> = {}, opts: { entry?: string; readyTimeoutMs?: number } = {}): Promise<AppProcess> {
  // A given PORT is kept (a restarted App must be where the webhooks go).
  const port = extraEnv.PORT ? Number(extraEnv.PORT) : await freePort();
  const webhookSecret = extraEnv.WEBHOOK_SECRET ?? `whsec-${randomBytes(16).toString('hex')}`;
  const apiToken = extraEnv.AUTONOMY_API_TOKEN ?? `lb-api-${randomBytes(16).toString('hex')}`;
  const signingKey = extraEnv.TRUTH_SIGNING_KEY ?? randomBytes(32).toString('base64');
  const sandboxHost = new URL(sandboxUrl).host;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_ID: '1',
    PRIVATE_KEY: appPrivateKey(),
    WEBHOOK_SECRET: webhookSecret,
    AUTONOMY_API_TOKEN: apiToken,
    TRUTH_SIGNING_KEY: signingKey,
    GHE_HOST: sandboxHost,
    GHE_PROTOCOL: 'http',
    LOG_LEVEL: 'info',
    // The sandbox has no rate limits to respect; GitHub's one-write-per-second pacing only slows drills.
    LIVING_BRIDGE_CLIENT_PACING: 'off',
    LIVING_BRIDGE_DATA_DIR: mkdtempSync(join(tmpdir(), 'living-bridge-')),
    // Drills and tests trigger what they measure; the hourly env sync would add requests of its own.
    LIVING_BRIDGE_ENV_SYNC_SCHEDULE: 'off',
    PUBLIC_API_BASE: `http://127.0.0.1:${port}`,
    ...extraEnv,
  };
  const { child, output } = launch(opts.entry ?? 'src/app/main.ts', [], env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, child, output, opts.readyTimeoutMs);
  } catch (err) {
    // Not left running when it never became ready (the caller may start another on the same port).
    child.kill('SIGKILL');
    throw err;
  }
  return { url, child, output, stop: stopper(child), webhookSecret, apiToken, signingKey };
}

/** POSTs a webhook exactly as GitHub does: JSON body, X-Hub-Signature-256 HMAC, event and delivery headers. */
export async function sendWebhook(
  appUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  opts: { deliveryId?: string; signature?: string | null } = {},
): Promise<{ status: number; body: unknown; deliveryId: string }> {
  const body = JSON.stringify(payload);
  const deliveryId = opts.deliveryId ?? randomUUID();
  const signature = opts.signature === undefined ? `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` : opts.signature;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'user-agent': 'GitHub-Hookshot/sandbox',
  };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${appUrl}/api/github/webhooks`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json().catch(() => null), deliveryId };
}

/** An `issue_comment.created` webhook on a pull request, as a user would post a `/bridge …` command. */
export function sendPullRequestComment(
  app: Pick<AppProcess, 'url' | 'webhookSecret'>,
  c: { repository: string; pullNumber: number; login: string; body: string; installationId: number },
): Promise<{ status: number; body: unknown; deliveryId: string }> {
  return sendWebhook(app.url, app.webhookSecret, 'issue_comment', {
    action: 'created',
    comment: { id: Date.now(), body: c.body, user: { login: c.login, type: 'User' } },
    issue: { number: c.pullNumber, pull_request: { url: 'x' } },
    repository: { full_name: c.repository },
    installation: { id: c.installationId },
  });
}

export async function sandboxControl<T = unknown>(sandboxUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandboxUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
