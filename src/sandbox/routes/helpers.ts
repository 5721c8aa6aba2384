/** Shared helpers for route handlers. */
import type { Reply, RouteContext } from '../router.js';
import { SandboxHttpError, paginate } from '../util.js';

/** `{total_count, <key>: [...]}` lists (actions endpoints), paginated with a Link header. */
export function wrappedList<T>(ctx: RouteContext, key: string, all: T[], map: (t: T) => unknown = (t) => t): Reply {
  const page = paginate(all, ctx.query, ctx.selfUrl);
  return { status: 200, body: { total_count: page.total, [key]: page.items.map(map) }, ...(page.link ? { headers: { link: page.link } } : {}) };
}

/** Plain array lists (issues, comments, pulls), paginated with a Link header. */
export function arrayList<T>(ctx: RouteContext, all: T[], map: (t: T) => unknown = (t) => t): Reply {
  const page = paginate(all, ctx.query, ctx.selfUrl);
  return { status: 200, body: page.items.map(map), ...(page.link ? { headers: { link: page.link } } : {}) };
}

export function intParam(ctx: RouteContext, name: string): number {
  const n = Number(ctx.params[name]);
  if (!Number.isSafeInteger(n)) throw new SandboxHttpError(404, 'Not Found');
  return n;
}

/** The login writes are attributed to. */
export const actorLogin = (ctx: RouteContext): string => ctx.actor?.login ?? 'octocat';
