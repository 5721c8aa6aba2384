/**
 * The App's webhook delivery log, as GitHub documents it: list (`GET /app/hook/deliveries`, newest
 * first, `per_page`, `cursor`, `status=success|failure`, Link rel="next"), one delivery with its request
 * and response, and redelivery (`POST /app/hook/deliveries/{delivery_id}/attempts`, 202): the same event
 * (same `guid`) sent again as a new delivery with `redelivery: true`. GitHub never redelivers by itself.
 */
import type { RouteDef } from '../router.js';
import { ok } from '../router.js';
import type { SandboxState } from '../state.js';
import { SandboxHttpError } from '../util.js';

export interface HookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  /** "OK", "Invalid HTTP Response: 503", "failed to connect", … */
  status: string;
  /** 0 when no HTTP answer came. */
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  url: string;
  request: { headers: Record<string, string>; payload: unknown };
  response: { headers: Record<string, string>; payload: string | null };
}

/** Deliveries kept (GitHub keeps them for 3 days; the sandbox keeps the last this many). */
export const MAX_HOOK_DELIVERIES = 5000;

export const deliveryStatus = (code: number | null, error?: string): string =>
  code === null ? (error && /timeout|abort/i.test(error) ? 'timed out' : 'failed to connect') : code >= 200 && code < 300 ? 'OK' : `Invalid HTTP Response: ${code}`;

const item = (d: HookDelivery) => {
  const { url: _u, request: _rq, response: _rs, ...rest } = d;
  return rest;
};

function find(state: SandboxState, id: string | undefined): HookDelivery {
  const d = state.hookDeliveries.find((x) => String(x.id) === id);
  if (!d) throw new SandboxHttpError(404, 'Not Found');
  return d;
}

export const hookDeliveryRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/app/hook/deliveries', auth: 'app',
    handler: ({ state, query }) => {
      const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
      const status = query.get('status');
      if (status !== null && status !== 'success' && status !== 'failure') throw new SandboxHttpError(422, 'Invalid request.\n\n"status" must be success or failure.');
      const cursor = query.get('cursor');
      let list = [...state.hookDeliveries].reverse();
      if (status) list = list.filter((d) => (status === 'success') === (d.status_code >= 200 && d.status_code < 300));
      if (cursor) list = list.filter((d) => d.id < Number(cursor));
      const page = list.slice(0, perPage);
      const headers: Record<string, string> = {};
      if (list.length > perPage) {
        const next = new URL(`${state.apiUrl}/app/hook/deliveries`);
        next.searchParams.set('per_page', String(perPage));
        if (status) next.searchParams.set('status', status);
        next.searchParams.set('cursor', String(page.at(-1)!.id));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return ok(page.map(item), headers);
    },
  },
  {
    method: 'GET', path: '/app/hook/deliveries/{delivery_id}', auth: 'app',
    handler: ({ state, params }) => {
      const d = find(state, params.delivery_id);
      return ok({ ...item(d), url: d.url, request: d.request, response: d.response });
    },
  },
  {
    method: 'POST', path: '/app/hook/deliveries/{delivery_id}/attempts', auth: 'app',
    handler: ({ state, params }) => {
      const d = find(state, params.delivery_id);
      if (!state.redeliver) throw new SandboxHttpError(422, 'Validation Failed: no webhook is configured');
      state.redeliver(d);
      return { status: 202, body: {} };
    },
  },
];
