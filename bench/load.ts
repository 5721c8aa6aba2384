/**
 * A small HTTP load generator for the webhook benches: `concurrency` keep-alive connections, each
 * sending pre-signed deliveries back to back for a fixed time, latency recorded per answer.
 * Signing and serialising happen before the clock starts, so the generator's own cost per request
 * is one write and one read.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface Delivery { body: Buffer; headers: Record<string, string> }

/** A delivery exactly as GitHub sends it: JSON body, HMAC-SHA256 signature, event and delivery id. */
export function signedDelivery(secret: string, event: string, payload: unknown, deliveryId = randomUUID()): Delivery {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

const quantile = (sorted: number[], q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

/**
 * Sends `next()`'s deliveries to `url` from `concurrency` loops for `ms` milliseconds (plus the
 * answers still under way), or, with `count`, exactly `count` deliveries however long they take.
 * Every answer's body is read to its end.
 */
export async function runLoad(url: string, next: () => Delivery, opts: { concurrency: number; ms: number; count?: number }): Promise<LoadResult> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  const deadline = started + opts.ms;
  const one = (d: Delivery): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: d.headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(d.body);
    });
  let sent = 0;
  const more = () => (opts.count !== undefined ? sent++ < opts.count : performance.now() < deadline);
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (more()) await one(next());
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, statuses, errors, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}
