/** The route table machinery: `METHOD /path/{param}` templates compiled to regexes. */
import type { IncomingMessage } from 'node:http';
import type { Level, RepoModel, TokenInfo } from './model.js';
import type { SandboxState } from './state.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext {
  state: SandboxState;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The authenticated token (null for `auth: 'none'` and app-JWT routes). */
  actor: TokenInfo | null;
  /** Absolute URL of this request (for Link headers). */
  selfUrl: string;
  /** The repository named by {owner}/{repo}; resolved (404 if missing) before the handler runs. */
  repo: RepoModel;
  req: IncomingMessage;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Raw text body (served with `contentType`). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: Method;
  /** Template: `{name}` matches one segment, `{name+}` the rest of the path (with slashes). */
  path: string;
  /** 'token' (default): an installation/user token; 'app': an app JWT (or the admin token); 'none': public. */
  auth?: 'token' | 'app' | 'none';
  /** GitHub App permission the token needs, e.g. ['secrets', 'write']. */
  perm?: [string, Level];
  /** Served at the server root instead of under /api/v3 (control endpoints, log downloads). */
  root?: boolean;
  /** Exclude from requestCounts (control endpoints). */
  uncounted?: boolean;
  handler: (ctx: RouteContext) => Reply | Promise<Reply>;
}

export interface CompiledRoute extends RouteDef { regex: RegExp; names: string[]; key: string }

export function compile(routes: RouteDef[]): CompiledRoute[] {
  return routes.map((r) => {
    const names: string[] = [];
    const pattern = r.path.replace(/[.*?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(\+?)\}/g, (_m, name: string, plus: string) => {
      names.push(name);
      return plus ? '(.+)' : '([^/]+)';
    });
    return { ...r, regex: new RegExp(`^${pattern}/?$`), names, key: `${r.method} ${r.path.replace(/\{(\w+)\+\}/g, '{$1}')}` };
  });
}

export function match(routes: CompiledRoute[], method: string, path: string, root: boolean): { route: CompiledRoute; params: Record<string, string> } | { allowed: string[] } | null {
  const allowed: string[] = [];
  for (const route of routes) {
    if (!!route.root !== root) continue;
    const m = route.regex.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1]!);
    });
    return { route, params };
  }
  return allowed.length ? { allowed } : null;
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, ...(headers ? { headers } : {}) });
export const created = (body: unknown): Reply => ({ status: 201, body });
export const noContent = (): Reply => ({ status: 204 });

export function bodyString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  return typeof v === 'string' ? v : undefined;
}
