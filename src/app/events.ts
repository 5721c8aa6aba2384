import { createHmac, randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigurationError } from '../pipeline/build-context.js';
import { BRIDGE_EVENT_TYPES, type BridgeEvent, type BridgeEventType, type Observer } from '../pipeline/observe.js';
import { VERSION } from '../version.js';

/** The signature header: `sha256=` + hex HMAC-SHA256 of the raw body, like GitHub's X-Hub-Signature-256. */
export const SIGNATURE_HEADER = 'x-living-bridge-signature-256';
export const EVENT_HEADER = 'x-living-bridge-event';
export const DELIVERY_HEADER = 'x-living-bridge-delivery';

export interface EventBusSettings {
  subscribers: URL[];
  secret: string;
  types: ReadonlySet<BridgeEventType>;
}

/**
 * LIVING_BRIDGE_EVENT_URLS (comma-separated http(s) URLs), LIVING_BRIDGE_EVENT_SECRET (the HMAC key,
 * at least 16 characters) and LIVING_BRIDGE_EVENT_TYPES (optional filter). Null when no URL is set.
 */
export function readEventBusSettings(env: Record<string, string | undefined>): EventBusSettings | null {
  const raw = (env.LIVING_BRIDGE_EVENT_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (raw.length === 0) return null;
  const problems: string[] = [];
  const subscribers: URL[] = [];
  for (const [i, u] of raw.entries()) {
    let url: URL | null = null;
    try {
      url = new URL(u);
    } catch {
      // The URL itself may carry a token (a Slack webhook path does): never echo it.
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) problems.push(`LIVING_BRIDGE_EVENT_URLS entry ${i + 1} is not an http(s) URL`);
    else subscribers.push(url);
  }
  const secret = env.LIVING_BRIDGE_EVENT_SECRET?.trim() ?? '';
  if (secret.length < 16) problems.push('LIVING_BRIDGE_EVENT_SECRET must be set (at least 16 characters) when LIVING_BRIDGE_EVENT_URLS is: every event is signed with it');
  const wanted = (env.LIVING_BRIDGE_EVENT_TYPES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of wanted) if (!BRIDGE_EVENT_TYPES.includes(t as BridgeEventType)) problems.push(`LIVING_BRIDGE_EVENT_TYPES: "${t}" is not one of ${BRIDGE_EVENT_TYPES.join(', ')}`);
  if (problems.length) throw new ConfigurationError(`Living Bridge cannot start:\n- ${problems.join('\n- ')}`);
  return { subscribers, secret, types: new Set((wanted.length ? wanted : BRIDGE_EVENT_TYPES) as BridgeEventType[]) };
}

/** A subscriber as logs and the delivery log name it: origin only (a path or query may be a credential). */
export const subscriberName = (url: URL): string => url.origin;

export const signBody = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const short = (hash: string | null): string => (hash ? `${hash.slice(0, 12)}…` : 'none');
const runOf = (e: { run_id: number | null }): string => (e.run_id !== null ? ` run ${e.run_id}` : '');

/** One line for chat: Slack's incoming webhooks (and Mattermost's, Discord's /slack) show `text`. */
export function textOf(e: BridgeEvent): string {
  switch (e.type) {
    case 'autonomy.decision':
      return `${e.repository}${runOf(e)}: ${e.verdict} ${e.steps.join(' → ') || e.action} for ${e.incident_kind}${e.target ? ` ${e.target}` : ''}${e.guardrail !== 'none' ? ` (guardrail ${e.guardrail})` : ''}${e.score !== null ? `, score ${e.score.toFixed(2)}` : ''}`;
    case 'autonomy.heal.applied':
      return `:white_check_mark: ${e.repository}${runOf(e)} healed: ${e.steps.join(' → ')}${e.approved_by ? ` (approved by ${e.approved_by})` : ''}, certificate ${short(e.certificate_hash)}${e.comment_url ? ` — ${e.comment_url}` : ''}`;
    case 'autonomy.heal.error':
      return `:x: ${e.repository}${runOf(e)}: ${e.steps.join(' → ')} could not be completed — ${e.summary}`;
    case 'autonomy.escalated':
      return `:rotating_light: ${e.repository}${runOf(e)} needs a human${e.issue_url ? `: ${e.issue_url}` : ''} — ${e.summary}`;
    case 'autonomy.sync.applied':
      return `${e.repository} environment sync: ${e.applied} applied, ${e.failed} failed, ${e.skipped} skipped, certificate ${short(e.certificate_hash)}`;
    case 'autonomy.outcome':
      return `${e.repository} run ${e.run_id} attempt ${e.run_attempt} ${e.outcome === 'success' ? 'went green' : 'failed again'} after ${e.action} (EMA ${(e.ema[e.action] ?? 0).toFixed(2)})${e.recovery_seconds !== null ? `, recovered in ${Math.round(e.recovery_seconds)} s` : ''}`;
  }
}

export interface DeliveryRecord {
  delivery: string;
  event: BridgeEventType;
  subscriber: string;
  status: 'delivered' | 'failed';
  attempts: number;
  /** HTTP status of the last attempt; null when no answer came. */
  http_status: number | null;
  error: string | null;
  at: string;
}

export interface EventBusOptions {
  log: Logger;
  /** Waits between attempts; the number of entries + 1 is the number of attempts. */
  retryDelaysMs?: number[];
  timeoutMs?: number;
  /** Append every delivery record to this JSON-lines file (LIVING_BRIDGE_DATA_DIR/deliveries.jsonl). */
  logPath?: string;
  fetch?: typeof fetch;
}

export interface EventBus extends Observer {
  /** The most recent delivery records, newest last. */
  deliveries(): DeliveryRecord[];
  /** Resolves when every delivery under way has finished (delivered or given up). */
  drain(): Promise<void>;
}

const MAX_REMEMBERED = 500;
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * The Genesis Bus: each pipeline event, as signed JSON, to every subscriber. A delivery is retried
 * on no answer, a timeout, 408, 429 or 5xx; every delivery ends in the delivery log, delivered or not.
 * Delivering never holds up a heal.
 */
export function createEventBus(settings: EventBusSettings, opts: EventBusOptions): EventBus {
  const delays = opts.retryDelaysMs ?? [1000, 5000, 25000];
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const records: DeliveryRecord[] = [];
  const inFlight = new Set<Promise<void>>();

  const remember = async (rec: DeliveryRecord): Promise<void> => {
    records.push(rec);
    if (records.length > MAX_REMEMBERED) records.shift();
    if (opts.logPath) await appendFile(opts.logPath, `${JSON.stringify(rec)}\n`).catch(() => undefined);
  };

  const deliver = async (url: URL, event: BridgeEvent, id: string, body: string): Promise<void> => {
    const log = opts.log.child({ delivery: id, event: event.type, subscriber: subscriberName(url) });
    const headers = {
      'content-type': 'application/json',
      'user-agent': `living-bridge/${VERSION}`,
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: id,
      [SIGNATURE_HEADER]: signBody(settings.secret, body),
    };
    let httpStatus: number | null = null;
    let error: string | null = null;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      try {
        const res = await doFetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        httpStatus = res.status;
        await res.arrayBuffer().catch(() => undefined);
        error = res.ok ? null : `HTTP ${res.status}`;
        if (res.ok || !retryable(res.status)) break;
      } catch (err) {
        httpStatus = null;
        error = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `network: ${((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message)}`;
      }
      if (attempt > delays.length) break;
      log.debug({ attempt, error }, 'event delivery failed; retrying');
      await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    }
    const ok = error === null;
    if (ok) log.info({ attempts: attempt, status: httpStatus }, 'event delivered');
    else log.warn({ attempts: attempt, status: httpStatus, error }, 'event not delivered; giving up');
    await remember({ delivery: id, event: event.type, subscriber: subscriberName(url), status: ok ? 'delivered' : 'failed', attempts: attempt, http_status: httpStatus, error, at: new Date().toISOString() });
  };

  return {
    emit(event) {
      if (!settings.types.has(event.type)) return;
      for (const url of settings.subscribers) {
        const id = randomUUID();
        const body = JSON.stringify({ id, type: event.type, created_at: new Date().toISOString(), text: textOf(event), data: event });
        const p = deliver(url, event, id, body).catch(() => undefined).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    },
    deliveries: () => [...records],
    async drain() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}
