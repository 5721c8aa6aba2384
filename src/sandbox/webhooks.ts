/** Signed webhook delivery (X-Hub-Signature-256 = HMAC-SHA256 of the exact body bytes). */
import { createHmac } from 'node:crypto';
import { uuid } from './util.js';

export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Delivery { id: string; status: number | null; error?: string }

export async function deliverWebhook(target: { url: string; secret: string }, event: string, payload: unknown, installationTarget = 1): Promise<Delivery> {
  const id = uuid();
  const body = JSON.stringify(payload);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/sandbox',
        'x-github-event': event,
        'x-github-delivery': id,
        'x-github-hook-id': '1',
        'x-github-hook-installation-target-type': 'integration',
        'x-github-hook-installation-target-id': String(installationTarget),
        'x-hub-signature-256': signPayload(target.secret, body),
        'x-hub-signature': `sha1=${createHmac('sha1', target.secret).update(body).digest('hex')}`,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { id, status: res.status };
  } catch (err) {
    return { id, status: null, error: err instanceof Error ? err.message : String(err) };
  }
}
