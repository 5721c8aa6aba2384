import { z } from 'zod';

/**
 * One boolean spelling for every door (environment variables, Action inputs): the usual words,
 * case-insensitive. Anything else is refused rather than guessed: `AUTONOMY_ENABLED=0` must not
 * leave autonomy on because only the exact word `false` was understood.
 */
const TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
const FALSE_WORDS = ['false', '0', 'no', 'off'] as const;
export const BOOLEAN_SPELLINGS = [...TRUE_WORDS, ...FALSE_WORDS] as const;

export const BooleanText = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(BOOLEAN_SPELLINGS, { message: `expected one of ${BOOLEAN_SPELLINGS.join('|')}` }))
  .transform((s) => (TRUE_WORDS as readonly string[]).includes(s));

/** Thrown for a setting whose text is not one of its accepted spellings; the message names the variable. */
export class SettingError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/**
 * A boolean setting from a name → text map (e.g. the environment a door was given). Unset or empty
 * is `fallback`; an unknown spelling throws a SettingError naming the variable and the spellings.
 */
export function booleanSetting(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const parsed = BooleanText.safeParse(raw);
  if (!parsed.success) {
    throw new SettingError(name, `${name}=${JSON.stringify(raw.slice(0, 40))} is not a boolean: use one of ${BOOLEAN_SPELLINGS.join(', ')}`);
  }
  return parsed.data;
}

/**
 * One entry of LIVING_BRIDGE_FROM_ENV_ALLOW: a variable name or a prefix (`LB_SOURCE_*`), optionally
 * scoped to one owner (`acme:DEPLOY_*`) or one repository (`acme/api:DEPLOY_TOKEN`).
 */
export interface FromEnvRule {
  pattern: string;
  /** `owner` or `owner/name`, lower-case; null: every repository. */
  scope: string | null;
}

export const FROM_ENV_ALLOW_VARIABLE = 'LIVING_BRIDGE_FROM_ENV_ALLOW';
const RULE_RE = /^(?:([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)?):)?([A-Za-z_][A-Za-z0-9_]*\*?|\*)$/;

/** Parses LIVING_BRIDGE_FROM_ENV_ALLOW ("NAME,PREFIX_*,owner:NAME,owner/repo:PREFIX_*"). */
export function parseFromEnvAllow(text: string | undefined): FromEnvRule[] {
  const rules: FromEnvRule[] = [];
  for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = RULE_RE.exec(entry);
    if (!m) {
      throw new SettingError(FROM_ENV_ALLOW_VARIABLE, `${FROM_ENV_ALLOW_VARIABLE}: ${JSON.stringify(entry.slice(0, 80))} is not NAME, PREFIX_*, owner:NAME or owner/repo:NAME`);
    }
    rules.push({ pattern: m[2]!, scope: m[1] ? m[1].toLowerCase() : null });
  }
  return rules;
}

const ruleCovers = (rule: FromEnvRule, name: string, repository: string | null): boolean => {
  const nameOk = rule.pattern.endsWith('*') ? name.startsWith(rule.pattern.slice(0, -1)) : name === rule.pattern;
  if (!nameOk) return false;
  if (rule.scope === null) return true;
  if (repository === null) return false;
  const full = repository.toLowerCase();
  return rule.scope.includes('/') ? full === rule.scope : full.split('/')[0] === rule.scope;
};

/**
 * Why a `from_env` source may not read `name` for `repository`, or null when the operator allowed
 * it. The message says how to allow it: any installed repository can edit its own autonomy.yml, so
 * only what the operator listed is ever readable.
 */
export function fromEnvRefusal(rules: readonly FromEnvRule[], name: string, repository: string | null): string | null {
  if (rules.some((r) => ruleCovers(r, name, repository))) return null;
  const how = `set ${FROM_ENV_ALLOW_VARIABLE}=${name} (or a prefix such as LB_SOURCE_*; "owner:${name}" limits it to one owner) in the Living Bridge environment (App host, Action step env or CLI shell)`;
  if (rules.length === 0) return `from_env ${name} is refused: no ${FROM_ENV_ALLOW_VARIABLE} is set, so no from_env source may be read; ${how}`;
  return `from_env ${name} is refused: ${FROM_ENV_ALLOW_VARIABLE} does not allow it${repository ? ` for ${repository}` : ''}; ${how}`;
}
