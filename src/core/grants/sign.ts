import type { z } from 'zod';
import { canonicalJson, utf8Bytes } from '../canonical.js';
import { encodeBase64 } from '../certificate/base64.js';
import { verifyEd25519 } from '../certificate/keys.js';
import type { Signer } from '../certificate/signer.js';
import { Grant, GrantBody } from '../schemas/grant.js';
import { parseWith, SchemaError } from '../schemas/errors.js';
import { grantRuleViolations } from './rules.js';

export type GrantVerification = { ok: true; grant: GrantBody; keyid: string } | { ok: false; reason: string };

/** The exact bytes a grant signature covers: UTF-8 canonical JSON of the parsed body (defaults filled in). */
export function grantSigningBytes(body: GrantBody): Uint8Array {
  return utf8Bytes(canonicalJson(body));
}

/**
 * Sign a grant body. Validates it (schema, expires_at after not_before, break-glass at most
 * BREAK_GLASS_MAX_HOURS, '*' only as a target suffix) and throws a SchemaError naming the field.
 */
export async function signGrant(body: z.input<typeof GrantBody>, signer: Signer): Promise<Grant> {
  const parsed = parseWith(GrantBody, body, 'grant');
  const violations = grantRuleViolations(parsed);
  if (violations.length > 0) {
    throw new SchemaError(
      'grant',
      violations.map((v) => ({ path: v.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '['), message: v.message })),
    );
  }
  const sig = await signer.sign(grantSigningBytes(parsed));
  return { grant: parsed, keyid: signer.keyid, signature: encodeBase64(sig) };
}

const grantLabel = (input: unknown): string => {
  const id = (input as { grant?: { id?: unknown } } | null)?.grant?.id;
  return typeof id === 'string' && id ? `grant ${id}` : 'grant';
};

/** Verify a grant's shape, rules and Ed25519 signature by a trusted key (keyid -> base64 public key). */
export function verifyGrant(grant: unknown, trustedKeys: Record<string, string>): GrantVerification {
  const label = grantLabel(grant);
  const parsed = Grant.safeParse(grant);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `${label} is malformed (${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'})` };
  }
  const { grant: body, keyid, signature } = parsed.data;
  if (!Object.prototype.hasOwnProperty.call(trustedKeys, keyid)) {
    return { ok: false, reason: `${label} is signed by key ${keyid}, which is not a trusted grant key` };
  }
  if (!verifyEd25519(grantSigningBytes(body), signature, trustedKeys[keyid] as string)) {
    return { ok: false, reason: `${label} has an invalid signature by key ${keyid} (the grant was edited after signing, or signed by another key)` };
  }
  const violations = grantRuleViolations(body);
  if (violations[0]) {
    return { ok: false, reason: `${label} breaks the grant rules (${violations[0].path.join('.')}: ${violations[0].message})` };
  }
  return { ok: true, grant: body, keyid };
}
