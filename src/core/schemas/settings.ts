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
