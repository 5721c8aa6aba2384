/** Signed webhook delivery (X-Hub-Signature-256 = HMAC-SHA256 of the exact body bytes). */
import { createHmac } from 'node:crypto';
import { uuid } from './util.js';

export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Delivery { id: string; status: number | null; error?: string; headers: Record<string, string>; responseHeaders: Record<string, string>; responseBody: string | null; ms: number }

/** POSTs one delivery; `guid` is the event's X-GitHub-Delivery (a redelivery keeps it). */
export async function deliverWebhook(target: { url: string; secret: string }, event: string, payload: unknown, installationTarget = 1, guid = uuid()): Promise<Delivery> {
  const id = guid;
  const started = Date.now();
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/sandbox',
    'x-github-event': event,
    'x-github-delivery': id,
    'x-github-hook-id': '1',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': String(installationTarget),
    'x-hub-signature-256': signPayload(target.secret, body),
    'x-hub-signature': `sha1=${createHmac('sha1', target.secret).update(body).digest('hex')}`,
  };
  try {
    const res = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text().catch(() => '');
    return { id, status: res.status, headers, responseHeaders: Object.fromEntries(res.headers), responseBody: text.slice(0, 4096), ms: Date.now() - started };
  } catch (err) {
    return { id, status: null, error: err instanceof Error ? err.message : String(err), headers, responseHeaders: {}, responseBody: null, ms: Date.now() - started };
  }
}
