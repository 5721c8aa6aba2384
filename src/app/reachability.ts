import { createSign } from 'node:crypto';
import { describeNetworkError } from '../github/errors.js';
import { readPrivateKey } from './config.js';

export interface Reachability {
  ok: boolean;
  url: string;
  message: string;
}

/** The REST base the App talks to: GitHub, or GitHub Enterprise Server via GHE_HOST/GHE_PROTOCOL (as Probot reads them). */
export function githubApiBase(env: Record<string, string | undefined>): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3` : 'https://api.github.com';
}

/** A GitHub App JWT (RS256), as GitHub documents it: issued a minute in the past for clock drift, valid 9 minutes. */
export function appJwt(appId: string, privateKeyPem: string, now: Date): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(now.getTime() / 1000) - 60;
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat, exp: iat + 600, iss: appId })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKeyPem, 'base64url')}`;
}

/**
 * Startup check: can the App reach GitHub, and does GitHub accept APP_ID + PRIVATE_KEY (GET /app)?
 * Reported, not fatal: webhooks are accepted and queued while GitHub is away.
 */
export async function checkGitHub(env: Record<string, string | undefined>, opts: { timeoutMs?: number; now?: Date } = {}): Promise<Reachability> {
  const base = githubApiBase(env);
  const url = `${base}/app`;
  try {
    const jwt = appJwt(env.APP_ID ?? '', readPrivateKey(env) ?? '', opts.now ?? new Date());
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json', 'user-agent': 'living-bridge' },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    if (res.ok) {
      const app = (await res.json().catch(() => ({}))) as { slug?: string; name?: string };
      return { ok: true, url: base, message: `GitHub reachable at ${base}; authenticated as the App ${app.slug ?? app.name ?? env.APP_ID}` };
    }
    if (res.status === 401) return { ok: false, url: base, message: `GitHub at ${base} rejected the App's JWT (401): APP_ID ${env.APP_ID} and PRIVATE_KEY do not belong to the same App, or this machine's clock is off` };
    return { ok: false, url: base, message: `GitHub at ${base} answered GET /app with HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, url: base, message: `GitHub at ${base} is unreachable: ${describeNetworkError(err)}. Webhooks are still accepted and queued; heals wait for GitHub` };
  }
}
