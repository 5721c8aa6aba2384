import { BREAK_GLASS_MAX_HOURS, type GrantBody } from '../schemas/grant.js';

/** A problem with a grant body that the schema alone does not catch, with the field it is about. */
export interface GrantRuleViolation {
  path: (string | number)[];
  message: string;
}

/**
 * Rules every grant must satisfy beyond its schema, checked when signing, when verifying and
 * when parsing grant files (so a grant signed by hand cannot bypass them):
 * - `expires_at` is after `not_before`;
 * - a break-glass grant lives at most BREAK_GLASS_MAX_HOURS;
 * - a target pattern uses '*' only as its last character.
 */
export function grantRuleViolations(body: GrantBody): GrantRuleViolation[] {
  const out: GrantRuleViolation[] = [];
  const start = Date.parse(body.not_before);
  const end = Date.parse(body.expires_at);
  if (!(end > start)) {
    out.push({ path: ['expires_at'], message: `expected a time after not_before (${body.not_before}), got ${body.expires_at}` });
  } else if (body.break_glass && end - start > BREAK_GLASS_MAX_HOURS * 3_600_000) {
    const hours = Math.round(((end - start) / 3_600_000) * 100) / 100;
    out.push({
      path: ['expires_at'],
      message: `expected a break-glass grant to last at most ${BREAK_GLASS_MAX_HOURS}h, this one lasts ${hours}h`,
    });
  }
  body.targets.forEach((t, i) => {
    const star = t.indexOf('*');
    if (star >= 0 && star !== t.length - 1) {
      out.push({ path: ['targets', i], message: `expected '*' only at the end of a target pattern, got "${t}"` });
    }
  });
  return out;
}
