import { z } from 'zod';
import { RepoFullName } from './common.js';

/**
 * What an API token may act on: `*` (everything this App is installed on), `owner/*` (one owner's
 * repositories) or `owner/name` (one repository). Matched case-insensitively, as GitHub names are.
 */
export const TokenScope = z.union([
  z.literal('*'),
  z.string().regex(/^[A-Za-z0-9_.-]+\/\*$/, 'expected "*", "owner/*" or "owner/name"'),
  RepoFullName,
]);

/**
 * One scoped API token (LIVING_BRIDGE_API_TOKENS). The operator keeps the token itself and gives the
 * App its sha256 (`printf %s "$TOKEN" | sha256sum`), so the App's configuration holds no usable token;
 * `token` (the plain value) is accepted for setups where the configuration is itself a secret.
 */
export const ApiToken = z
  .strictObject({
    /** Named in every audit line this token's requests cause (`api-token:<name>`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a short name of letters, digits, _ . -'),
    token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the token\'s sha256 as 64 lower-case hex digits').optional(),
    token: z.string().min(16, 'a token must be at least 16 characters').optional(),
    scopes: z.array(TokenScope).min(1, 'name at least one scope ("owner/name", "owner/*" or "*")'),
  })
  .refine((t) => (t.token_sha256 === undefined) !== (t.token === undefined), { message: 'give exactly one of token_sha256 or token', path: ['token_sha256'] });
export type ApiToken = z.infer<typeof ApiToken>;

export const ApiTokens = z.array(ApiToken).superRefine((tokens, ctx) => {
  const seen = new Set<string>();
  tokens.forEach((t, i) => {
    if (seen.has(t.name)) ctx.addIssue({ code: 'custom', message: `token name ${t.name} is used twice`, path: [i, 'name'] });
    seen.add(t.name);
  });
});

/** Whether a token with `scopes` may act on `repository` (`owner/name`). */
export function scopeCovers(scopes: readonly string[], repository: string): boolean {
  const full = repository.toLowerCase();
  const owner = full.split('/')[0];
  return scopes.some((s) => {
    const scope = s.toLowerCase();
    return scope === '*' || scope === full || (scope.endsWith('/*') && scope.slice(0, -2) === owner);
  });
}

/** POST /api/autonomy/halt and /resume. Who acted is the token, never a field of the body. */
export const ControlRequest = z.strictObject({
  repository: RepoFullName,
  reason: z.string().trim().min(1).max(500).optional(),
});
export type ControlRequest = z.infer<typeof ControlRequest>;
