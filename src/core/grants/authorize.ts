import type { ActionKind } from '../schemas/common.js';
import type { Grant, GrantBody } from '../schemas/grant.js';
import { verifyGrant } from './sign.js';

export interface AuthorizeInput {
  grants: readonly Grant[];
  /** keyid -> base64 Ed25519 public key of keys allowed to issue grants. */
  trustedKeys: Record<string, string>;
  revokedIds: readonly string[];
  /** grant id -> times it has been used (for max_uses). */
  uses: Record<string, number>;
  /** `owner/name`. */
  repository: string;
  /** Deployment environment of the run, if any. */
  environment?: string | undefined;
  action: ActionKind;
  /** Secret/variable name the action changes, if any. */
  target?: string | undefined;
  now: Date;
  /** The Governor is halted: only a break-glass grant overrides it. */
  halted: boolean;
}

export interface Authorization {
  allowed: boolean;
  /** The grant that allowed it (the narrowest match), or null. */
  grant: GrantBody | null;
  /** Why, in plain words: which grant allowed it, or precisely why each near-miss did not. */
  reason: string;
  /** The allowing grant is a break-glass grant (always audited). */
  breakGlass: boolean;
}

/** Does `repository` fall under the grant's `owner/name` or `owner/*`? GitHub names are case-insensitive. */
export function repositoryMatches(pattern: string, repository: string): boolean {
  const p = pattern.toLowerCase();
  const r = repository.toLowerCase();
  if (p.endsWith('/*')) {
    const owner = p.slice(0, -2);
    const slash = r.indexOf('/');
    return slash > 0 && r.slice(0, slash) === owner && slash < r.length - 1;
  }
  return p === r;
}

/** ['*'] matches any environment (and none); [] only runs without an environment; otherwise exact names. */
export function environmentMatches(environments: readonly string[], environment: string | undefined): boolean {
  if (environments.includes('*')) return true;
  if (environment === undefined || environment === '') return environments.length === 0;
  return environments.includes(environment);
}

/** A target pattern: exact, or a '*' suffix wildcard ("DEPLOY_*"); '*' alone matches anything, including no target. */
export function targetMatches(pattern: string, target: string | undefined): boolean {
  if (pattern === '*') return true;
  if (target === undefined || target === '') return false;
  if (pattern.endsWith('*')) return target.startsWith(pattern.slice(0, -1));
  return pattern === target;
}

const describeRequest = (i: AuthorizeInput): string =>
  `${i.action} on ${i.repository}${i.environment ? ` environment ${i.environment}` : ' (no environment)'}${i.target ? ` target ${i.target}` : ''}`;

/** Why a grant's scope does not cover the request, or null when it does. */
function scopeMiss(g: GrantBody, i: AuthorizeInput): string | null {
  if (!repositoryMatches(g.repository, i.repository)) return `grant ${g.id} is for ${g.repository}, not ${i.repository}`;
  if (!(g.actions as readonly string[]).includes(i.action)) return `grant ${g.id} covers ${g.actions.join(', ')}, not ${i.action}`;
  if (!environmentMatches(g.environments, i.environment)) {
    const covered = g.environments.length ? `environment(s) ${g.environments.join(', ')}` : 'only runs without an environment';
    return `grant ${g.id} covers ${covered}, not ${i.environment ? `environment ${i.environment}` : 'a run without an environment'}`;
  }
  if (!g.targets.some((t) => targetMatches(t, i.target))) {
    return `grant ${g.id} covers target(s) ${g.targets.join(', ')}, not ${i.target ? `target ${i.target}` : 'an action without a target'}`;
  }
  return null;
}

/** Why a grant that covers the request still cannot be used now, or null. */
function usabilityMiss(grant: Grant, i: AuthorizeInput): string | null {
  const g = grant.grant;
  const verified = verifyGrant(grant, i.trustedKeys);
  if (!verified.ok) return verified.reason;
  const now = i.now.getTime();
  if (now < Date.parse(g.not_before)) return `grant ${g.id} is not valid before ${g.not_before}`;
  if (now >= Date.parse(g.expires_at)) return `grant ${g.id} expired at ${g.expires_at}`;
  if (i.revokedIds.includes(g.id)) return `grant ${g.id} was revoked`;
  const used = i.uses[g.id] ?? 0;
  if (g.max_uses !== undefined && used >= g.max_uses) return `grant ${g.id} is used up (${used} of ${g.max_uses} uses)`;
  if (i.halted && !g.break_glass) return `grant ${g.id} is not break-glass, and the Governor is halted (only a break-glass grant overrides a halt)`;
  return null;
}

/** Sort key: smaller is narrower. Compared element by element. */
function breadth(g: GrantBody, i: AuthorizeInput): number[] {
  const envExact = g.environments.includes('*') ? 1 : 0;
  // Best matching target pattern: exact (0), longest prefix wildcard, '*' (worst).
  let targetRank = Number.MAX_SAFE_INTEGER;
  for (const t of g.targets) {
    if (!targetMatches(t, i.target)) continue;
    const rank = t === '*' ? 1_000_000 : t.endsWith('*') ? 1_000 - Math.min(t.length, 999) : 0;
    targetRank = Math.min(targetRank, rank);
  }
  return [
    g.break_glass ? 1 : 0, // outside a halt, prefer an ordinary grant over spending a break-glass one
    g.repository.endsWith('/*') ? 1 : 0,
    envExact,
    targetRank,
    g.actions.length,
    g.environments.length,
    g.targets.length,
    g.max_uses === undefined ? 1 : 0,
    Date.parse(g.expires_at) - Date.parse(g.not_before),
  ];
}

function compareBreadth(a: number[], b: number[]): number {
  for (let k = 0; k < a.length; k++) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Least-privilege authorization by signed grants. A grant allows the request when it matches the
 * repository (exact or owner/*), the action, the environment, the target, the time window
 * [not_before, expires_at), is not revoked, is under max_uses, and carries a valid signature by a
 * trusted key. A halted Governor is overridden only by a break-glass grant. The narrowest
 * matching grant wins; a denial names each grant that nearly matched and why it did not.
 */
export function authorize(input: AuthorizeInput): Authorization {
  const request = describeRequest(input);
  const usable: { grant: GrantBody; key: number[] }[] = [];
  const nearMisses: string[] = [];
  for (const grant of input.grants) {
    const body = (grant as Partial<Grant> | null)?.grant;
    if (!body || typeof body !== 'object') {
      const verified = verifyGrant(grant, input.trustedKeys);
      if (!verified.ok) nearMisses.push(verified.reason);
      continue;
    }
    let scope: string | null;
    try {
      scope = scopeMiss(body, input);
    } catch {
      // A malformed grant (wrong field types): let verifyGrant word it.
      scope = null;
    }
    if (scope !== null) continue;
    const miss = usabilityMiss(grant, input);
    if (miss !== null) {
      nearMisses.push(miss);
      continue;
    }
    usable.push({ grant: body, key: breadth(body, input) });
  }

  if (usable.length === 0) {
    const head = input.halted ? `the Governor is halted and no usable break-glass grant covers ${request}` : `no grant covers ${request}`;
    return {
      allowed: false,
      grant: null,
      reason: nearMisses.length ? `${head}: ${nearMisses.join('; ')}` : head,
      breakGlass: false,
    };
  }
  usable.sort((a, b) => compareBreadth(a.key, b.key) || (a.grant.id < b.grant.id ? -1 : a.grant.id > b.grant.id ? 1 : 0));
  const chosen = (usable[0] as { grant: GrantBody }).grant;
  const uses = chosen.max_uses !== undefined ? `, use ${(input.uses[chosen.id] ?? 0) + 1} of ${chosen.max_uses}` : '';
  const glass = chosen.break_glass ? (input.halted ? ' (break-glass override of the halted Governor)' : ' (break-glass)') : '';
  return {
    allowed: true,
    grant: chosen,
    reason: `grant ${chosen.id} issued by ${chosen.issued_by} covers ${request} until ${chosen.expires_at}${uses}${glass}`,
    breakGlass: chosen.break_glass,
  };
}
