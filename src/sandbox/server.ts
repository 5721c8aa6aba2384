/**
 * The HTTP front of the sandbox: GitHub Enterprise layout (`/api/v3`), table-driven routing, auth and
 * permission checks, ETags/304, rate-limit headers, request counting, chaos, webhook delivery.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenInfo } from './model.js';
import { compile, match, type CompiledRoute, type Reply, type RouteContext, type RouteDef } from './router.js';
import { actionsRoutes } from './routes/actions.js';
import { appRoutes } from './routes/app.js';
import { controlRoutes } from './routes/control.js';
import { MAX_HOOK_DELIVERIES, deliveryStatus, hookDeliveryRoutes } from './routes/hook-deliveries.js';
import { environmentRoutes } from './routes/environments.js';
import { gitRoutes } from './routes/git.js';
import { checkRoutes, issueRoutes, pullRoutes } from './routes/issues.js';
import { ciControlRoute, promotionRoutes } from './routes/promotion.js';
import { pageRoutes } from './routes/pages.js';
import { repoRoutes } from './routes/repos.js';
import { secretRoutes, variableRoutes } from './routes/secrets.js';
import { SANDBOX_ADMIN_TOKEN, createSandboxState, type SandboxState } from './state.js';
import { DOCS, SandboxHttpError, randomHex, sha256Hex } from './util.js';
import { deliverWebhook } from './webhooks.js';

export interface SandboxOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where to POST webhooks, signed with X-Hub-Signature-256. */
  webhook?: { url: string; secret: string };
  /** One line per request (method, path, status, duration; never bodies). */
  logger?: (line: string) => void;
  /** Injectable clock (ms since epoch) for timestamps, token and log-URL expiry. */
  now?: () => number;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/api/v3' */
  apiUrl: string;
  state: SandboxState;
  /** Keyed "METHOD /route/template" (304s under "<key> 304"), plus `total` and `writes`. */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  close(): Promise<void>;
}

const RATE_LIMIT = 5000;
const JSON_TYPE = 'application/json; charset=utf-8';

/** The full route table, in match order (specific templates before general ones). */
export function apiRoutes(): RouteDef[] {
  return [...hookDeliveryRoutes, ...appRoutes, ...secretRoutes, ...variableRoutes, ...environmentRoutes, ...actionsRoutes, ...gitRoutes, ...issueRoutes, ...pullRoutes, ...checkRoutes, ...promotionRoutes, ...repoRoutes];
}

const isJwt = (t: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(t) && t.startsWith('eyJ');

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const state = await createSandboxState(opts.now ? { now: opts.now } : {});
  state.webhook = opts.webhook ?? null;
  let counts: Record<string, number> = {};
  const bump = (key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const rate = { used: 0, windowStart: Math.floor(state.now() / 1000) };
  const rateHeaders = (): Record<string, string> => {
    const nowS = Math.floor(state.now() / 1000);
    if (nowS >= rate.windowStart + 3600) Object.assign(rate, { used: 0, windowStart: nowS });
    return {
      'x-ratelimit-limit': String(RATE_LIMIT), 'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - rate.used)),
      'x-ratelimit-used': String(rate.used), 'x-ratelimit-reset': String(rate.windowStart + 3600), 'x-ratelimit-resource': 'core',
    };
  };

  const rateLimitRoute: RouteDef = {
    method: 'GET', path: '/rate_limit', auth: 'none',
    // Like GitHub: anonymous callers are answered, a token that is presented must be valid.
    handler: ({ req }) => {
      const m = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (m && !isJwt(m[1]!) && m[1] !== SANDBOX_ADMIN_TOKEN && !state.resolveToken(m[1]!)) throw new SandboxHttpError(401, 'Bad credentials');
      const h = rateHeaders();
      const core = { limit: RATE_LIMIT, used: rate.used, remaining: Number(h['x-ratelimit-remaining']), reset: rate.windowStart + 3600, resource: 'core' };
      const other = (resource: string, limit: number) => ({ limit, used: 0, remaining: limit, reset: rate.windowStart + 3600, resource });
      return { status: 200, body: { resources: { core, search: other('search', 30), graphql: other('graphql', 5000) }, rate: core } };
    },
  };
  const routes: CompiledRoute[] = compile([
    rateLimitRoute,
    ...apiRoutes(),
    ...controlRoutes({ counts: () => ({ ...counts }), reset: () => { counts = {}; } }),
    ciControlRoute,
    // Last: the HTML pages behind the html_url links; any API route matches first.
    ...pageRoutes,
  ]);

  const pending = new Set<Promise<unknown>>();
  /** Sends one event to the App and logs it the way GitHub's delivery log shows it. */
  const send = (target: { url: string; secret: string }, event: string, payload: unknown, guid?: string, redelivery = false, runId?: number): void => {
    // After the HTTP response of the request that caused it.
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => deliverWebhook(target, event, payload, state.installation.id, guid))
      .then((d) => {
        if (runId !== undefined) state.webhookDeliveries.push({ id: d.id, event, runId, status: d.status, ...(d.error ? { error: d.error } : {}) });
        const body = payload as { action?: string; repository?: { id?: number } };
        state.hookDeliveries.push({
          id: state.nextId() + 90_000_000_000, guid: d.id, delivered_at: new Date(state.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), redelivery,
          duration: d.ms / 1000, status: deliveryStatus(d.status, d.error), status_code: d.status ?? 0, event, action: body.action ?? null,
          installation_id: state.installation.id, repository_id: body.repository?.id ?? null, url: target.url,
          request: { headers: Object.fromEntries(Object.entries(d.headers).filter(([k]) => !k.startsWith('x-hub-signature'))), payload },
          response: { headers: d.responseHeaders, payload: d.responseBody },
        });
        if (state.hookDeliveries.length > MAX_HOOK_DELIVERIES) state.hookDeliveries.splice(0, state.hookDeliveries.length - MAX_HOOK_DELIVERIES);
        opts.logger?.(`webhook ${event}${redelivery ? ' (redelivery)' : ''} ${d.id} -> ${d.status ?? d.error}`);
      });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  state.onRunCompleted((owner, repo, runId) => {
    const target = state.webhook;
    if (!state.autoWebhooks || !target) return;
    const { event, payload } = state.webhookPayloadFor(owner, repo, runId);
    send(target, event, payload, undefined, false, runId);
  });
  // Every new comment, the App's own included (it ignores bots), as GitHub does: `/bridge approve`
  // typed into the sandbox reaches the App like a comment on github.com.
  state.onCommentCreated((owner, repo, commentId) => {
    const target = state.webhook;
    if (!state.autoWebhooks || !target) return;
    const { event, payload } = state.commentPayloadFor(owner, repo, commentId);
    send(target, event, payload);
  });
  state.redeliver = (d) => {
    const target = state.webhook;
    if (!target) throw new SandboxHttpError(422, 'Validation Failed: no webhook is configured');
    send(target, d.event, d.request.payload, d.guid, true);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    let path = url.pathname;
    if (path === '/api/v3' || path.startsWith('/api/v3/')) path = path.slice('/api/v3'.length) || '/';
    const root = path.startsWith('/_');
    const headers: Record<string, string> = { 'x-github-request-id': `${randomHex(2).toUpperCase()}:${randomHex(3).toUpperCase()}:${randomHex(4).toUpperCase()}`, 'x-github-media-type': 'github.v3; format=json', 'x-github-api-version-selected': '2022-11-28' };
    let key = `${method} (unmatched)`;
    let counted = true;
    let reply: Reply;
    try {
      const m = match(routes, method, path, root);
      if (!m) throw new SandboxHttpError(404, 'Not Found');
      if ('allowed' in m) throw new SandboxHttpError(404, 'Not Found');
      const { route, params } = m;
      key = route.key;
      counted = !route.uncounted;
      const raw = await readBody(req);
      let body: Record<string, unknown> = {};
      if (raw.trim()) {
        try {
          const parsed: unknown = JSON.parse(raw);
          body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
        } catch {
          throw new SandboxHttpError(400, 'Problems parsing JSON');
        }
      }
      const actor = authenticate(route, req.headers.authorization);
      const ctx = { state, params, query: url.searchParams, body, actor, selfUrl: url.toString(), req } as RouteContext;
      if (params.owner !== undefined && params.repo !== undefined && !root && route.auth !== 'app') {
        const repo = state.findRepo(params.owner, params.repo);
        if (!repo) throw new SandboxHttpError(404, 'Not Found');
        ctx.repo = repo;
      } else if (params.owner !== undefined && params.repo !== undefined && route.auth === 'app') {
        if (!state.findRepo(params.owner, params.repo)) throw new SandboxHttpError(404, 'Not Found');
      }
      if (route.perm && actor) {
        const [perm, level] = route.perm;
        const has = actor.permissions[perm];
        if (!has || (level === 'write' && has !== 'write')) throw new SandboxHttpError(403, 'Resource not accessible by integration', {}, { 'x-accepted-github-permissions': `${perm}=${level}` });
      }
      const fault = state.chaos.take(key);
      if (fault) throw new SandboxHttpError(fault.status, fault.message, {}, fault.headers);
      const roll = root ? null : state.chaos.roll(method, key);
      if (roll?.kind === 'fail') throw new SandboxHttpError(roll.status, roll.message, {}, roll.headers);
      if (roll?.kind === 'latency') await new Promise((r) => setTimeout(r, roll.ms));
      if (roll?.kind === 'drop') {
        // The connection dies before any answer: the client cannot know whether anything happened.
        req.socket.destroy();
        bump('chaos dropped');
        return;
      }
      if (roll?.kind === 'cas-race' && params.owner && params.repo && params.ref) {
        // Another writer moves the branch first (same tree, new commit): this update is no longer a fast forward.
        const branch = params.ref.replace(/^(refs\/)?heads\//, '');
        state.commitFiles(params.owner, params.repo, branch, {}, 'sandbox chaos: a concurrent writer moved this branch');
      }
      reply = await route.handler(ctx);
      if (roll?.kind === 'write-then-5xx' && reply.status < 400) {
        // The write took effect; only its answer is lost.
        throw new SandboxHttpError(502, 'Bad Gateway');
      }
    } catch (err) {
      if (err instanceof SandboxHttpError) {
        reply = { status: err.status, body: { message: err.message, ...err.extra, documentation_url: DOCS, status: String(err.status) }, headers: err.headers };
      } else {
        opts.logger?.(`sandbox error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        reply = { status: 500, body: { message: 'Server Error', documentation_url: DOCS, status: '500' } };
      }
    }

    let payload: string | undefined;
    if (reply.text !== undefined) {
      payload = reply.text;
      headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8';
    } else {
      headers['content-type'] = JSON_TYPE;
      if (reply.body !== undefined && reply.status !== 204) payload = JSON.stringify(reply.body);
    }
    let status = reply.status;
    if (method === 'GET' && status === 200 && payload !== undefined) {
      const etag = `W/"${sha256Hex(payload)}"`;
      headers.etag = etag;
      headers['cache-control'] = 'private, max-age=60, s-maxage=60';
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(etag.replace(/^W\//, ''))) {
        status = 304;
        payload = undefined;
      }
    }
    if (counted) {
      bump(status === 304 ? `${key} 304` : key);
      bump('total');
      if (method !== 'GET' && method !== 'HEAD') bump('writes');
      if (status !== 304 && !root && key !== 'GET /rate_limit') rate.used += 1;
    }
    Object.assign(headers, rateHeaders(), reply.headers ?? {});
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(status, headers);
    res.end(payload);
    opts.logger?.(`${method} ${url.pathname}${url.search} -> ${status} (${Date.now() - started} ms)`);
  }

  function authenticate(route: CompiledRoute, authorization: string | undefined): TokenInfo | null {
    if (route.auth === 'none') return null;
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new SandboxHttpError(401, 'Requires authentication');
    const token = m[1]!;
    if (route.auth === 'app') {
      if (isJwt(token) || token === SANDBOX_ADMIN_TOKEN) return null;
      throw new SandboxHttpError(401, 'A JSON web token could not be decoded');
    }
    const info = state.resolveToken(token);
    if (!info) throw new SandboxHttpError(401, 'Bad credentials');
    return info;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger?.(`sandbox fatal: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE });
      res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  state.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | null = null;
  return {
    url: state.url,
    apiUrl: state.apiUrl,
    state,
    requestCounts: () => ({ ...counts }),
    resetRequestCounts: () => {
      counts = {};
    },
    close: () => {
      closed ??= (async () => {
        await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 2000).unref())]);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
