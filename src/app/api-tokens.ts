import { readFileSync } from 'node:fs';
import { ApiTokens, SchemaError, parseWith, type ApiToken } from '../core/schemas/index.js';

/** The name AUTONOMY_API_TOKEN acts under in the audit trail: the all-scope token kept for compatibility. */
export const LEGACY_TOKEN_NAME = 'AUTONOMY_API_TOKEN';

/**
 * The API's tokens: LIVING_BRIDGE_API_TOKENS (JSON) or LIVING_BRIDGE_API_TOKENS_FILE (a JSON file),
 * plus AUTONOMY_API_TOKEN as an all-scope token. Problems are pushed to `problems`, never echoing
 * the text (it may hold tokens).
 */
export function readApiTokens(env: Record<string, string | undefined>, legacyToken: string | null, problems: string[]): ApiToken[] {
  const tokens = readScopedTokens(env, problems);
  if (legacyToken !== null && legacyToken.length >= 16) tokens.push({ name: LEGACY_TOKEN_NAME, token: legacyToken, scopes: ['*'] });
  return tokens;
}

function readScopedTokens(env: Record<string, string | undefined>, problems: string[]): ApiToken[] {
  let text = env.LIVING_BRIDGE_API_TOKENS?.trim();
  let source = 'LIVING_BRIDGE_API_TOKENS';
  if (!text && env.LIVING_BRIDGE_API_TOKENS_FILE) {
    source = `LIVING_BRIDGE_API_TOKENS_FILE ${env.LIVING_BRIDGE_API_TOKENS_FILE}`;
    try {
      text = readFileSync(env.LIVING_BRIDGE_API_TOKENS_FILE, 'utf8');
    } catch {
      problems.push(`${source} cannot be read`);
      return [];
    }
  }
  if (!text) return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    problems.push(`${source} is not JSON (expected [{"name": …, "token_sha256": …, "scopes": ["owner/name"]}])`);
    return [];
  }
  try {
    return parseWith(ApiTokens, data, source);
  } catch (err) {
    if (err instanceof SchemaError) problems.push(...err.issues.map((i) => `${source}: ${i.path}: ${i.message}`));
    else throw err;
    return [];
  }
}
