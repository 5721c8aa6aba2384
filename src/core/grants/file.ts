import { z } from 'zod';
import { Grant } from '../schemas/grant.js';
import { parseWith, SchemaError } from '../schemas/errors.js';
import { grantRuleViolations } from './rules.js';

/** A grant as found in a file: the schema plus the grant rules, so bad windows fail with their path. */
const FileGrant = Grant.superRefine((g, ctx) => {
  for (const v of grantRuleViolations(g.grant)) ctx.addIssue({ code: 'custom', path: ['grant', ...v.path], message: v.message });
});

/**
 * Parse a grant file: a JSON array of signed grants, or one signed grant. Errors are SchemaErrors
 * in the form `<source>: <path>: <expectation>` (e.g. `grants.json: [1].grant.expires_at: ...`).
 * Parsing does not check signatures: `authorize` (or `verifyGrant`) does.
 */
export function parseGrantFile(text: string, source: string): Grant[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SchemaError(source, [{ path: '(root)', message: `expected JSON (${(error as Error).message})` }]);
  }
  if (Array.isArray(data)) return parseWith(z.array(FileGrant), data, source);
  return [parseWith(FileGrant, data, source)];
}
