import { z } from 'zod';

/**
 * Where the value of a secret comes from. Living Bridge never invents a value for a
 * name nobody declared: a secret can only be created from one of these.
 * - generate: a fresh random value (e.g. an internal token both sides read from the secret)
 * - from_env: a variable of the healer's own environment (App host or Action step env)
 * - external: must exist, written by humans or another system; we never write it
 */
export const SecretSource = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('generate'),
    length: z.number().int().min(16).max(256).default(32),
    charset: z.enum(['alnum', 'hex', 'base64url']).default('alnum'),
    description: z.string().optional(),
  }),
  z.strictObject({
    source: z.literal('from_env'),
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
    description: z.string().optional(),
  }),
  z.strictObject({ source: z.literal('external'), description: z.string().optional() }),
]);
export type SecretSource = z.infer<typeof SecretSource>;

/** A declared variable: a literal value or a value read from the healer's environment. */
export const VariableSource = z.union([
  z.string(),
  z.strictObject({ value: z.string(), description: z.string().optional() }),
  z.strictObject({ from_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), description: z.string().optional() }),
]);
export type VariableSource = z.infer<typeof VariableSource>;
