import { z } from 'zod';
import { ActionKind, IsoTimestamp } from './common.js';

/**
 * A signed, least-privilege pre-authorization: lets the Governor execute actions that the
 * autonomy level would otherwise only suggest, within a scope and a time window.
 */
export const GrantBody = z.strictObject({
  id: z.string().min(1).max(128),
  /** `owner/name`, or `owner/*` for every repository of an owner. */
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/([A-Za-z0-9_.-]+|\*)$/, 'expected "owner/name" or "owner/*"'),
  actions: z.array(ActionKind.exclude(['NOOP'])).min(1),
  /** Deployment environments covered; ['*'] for all, [] for runs without an environment only. */
  environments: z.array(z.string().min(1)).default(['*']),
  /** Target names covered (secret/variable names); '*' as a suffix wildcard, e.g. "DEPLOY_*". */
  targets: z.array(z.string().min(1)).default(['*']),
  not_before: IsoTimestamp,
  expires_at: IsoTimestamp,
  issued_by: z.string().min(1),
  reason: z.string().min(1),
  /** Break-glass grants override a halted Governor; they must be short and are always audited. */
  break_glass: z.boolean().default(false),
  max_uses: z.number().int().positive().optional(),
});
export type GrantBody = z.infer<typeof GrantBody>;

export const Grant = z.strictObject({
  grant: GrantBody,
  keyid: z.string().min(1),
  /** Ed25519 signature (base64) over the canonical JSON of `grant`. */
  signature: z.string().min(1),
});
export type Grant = z.infer<typeof Grant>;

/** Break-glass grants may live at most this long. */
export const BREAK_GLASS_MAX_HOURS = 4;
