/**
 * CREATE_SECRET: writes a secret whose value comes only from its declared source
 * (`.github/autonomy.yml` or `.github/environment.json`), reads it back and reports fingerprints.
 * The value never leaves this module except towards `SecretsPort.setSecret`.
 */
import { SecretName, type Change, type RepoRef, type SecretSource } from '../core/schemas/index.js';
import { scopeLabel, type Scope, type SecretMeta, type SecretsPort } from '../ports/index.js';
import { fingerprintValue } from './fingerprint.js';
import { failed, fromPortError, type EngineResult } from './report.js';

export interface CreateSecretPlan {
  repo: RepoRef;
  scope: Scope;
  name: string;
  source: SecretSource;
  /** The healer's own environment (for `from_env`). */
  env: Record<string, string | undefined>;
  /** Cryptographic randomness (for `generate`). */
  randomBytes(length: number): Uint8Array;
  /** Key of `fingerprintValue` (derived from the signing key by the caller). */
  fingerprintKey: string;
  /**
   * Called with the value's keyed fingerprint just before the write (the intent record): a replay after
   * a crash can then tell from `updated_at` that this write landed, without knowing or regenerating the value.
   */
  beforeWrite?: (fingerprint: string) => Promise<void>;
}

export type CreateSecretReport = EngineResult<{
  /** What the sync state remembers about the written secret (`SyncState.secret_fingerprints`). */
  written?: { fingerprint: string; updated_at: string | null };
}>;

export const CHARSETS = {
  alnum: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
} as const;
export type Charset = keyof typeof CHARSETS;

/**
 * `length` characters drawn uniformly from `charset`, one random byte per candidate character with
 * rejection sampling: bytes at or above the largest multiple of the alphabet size are discarded, so
 * no character is favoured (no modulo bias).
 */
export function generateSecretValue(length: number, charset: Charset, randomBytes: (n: number) => Uint8Array): string {
  if (!Number.isInteger(length) || length < 1) throw new Error(`generate: invalid length ${length}`);
  const alphabet = CHARSETS[charset];
  const n = alphabet.length;
  const limit = 256 - (256 % n); // largest multiple of n that fits in a byte
  let out = '';
  // Expected draws per character is 256/limit (< 1.04 for 62 characters); the bound only stops a broken source.
  for (let batches = 0; out.length < length; batches++) {
    if (batches > 64 + length) throw new Error('generate: the random source keeps returning unusable bytes');
    const need = length - out.length;
    const bytes = randomBytes(need + Math.ceil(need / 8) + 1);
    for (const b of bytes) {
      if (b >= limit) continue;
      out += alphabet[b % n];
      if (out.length === length) break;
    }
  }
  return out;
}

export { missingSourceInstruction, missingSourceMessage } from '../core/governor/plan.js';

type Resolved = { ok: true; value: string; origin: string } | { ok: false; error: string; notes: string[] };

function resolveValue(plan: CreateSecretPlan): Resolved {
  const { source, name } = plan;
  switch (source.source) {
    case 'generate': {
      const length = source.length ?? 32;
      const charset = source.charset ?? 'alnum';
      try {
        return { ok: true, value: generateSecretValue(length, charset, plan.randomBytes), origin: `generated (${length} ${charset} characters)` };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err), notes: [] };
      }
    }
    case 'from_env': {
      const value = plan.env[source.env];
      if (value === undefined || value === '') {
        return {
          ok: false,
          error: `set ${source.env} in the Living Bridge environment`,
          notes: [`${name} is declared from_env ${source.env}, but ${source.env} is ${value === undefined ? 'not set' : 'empty'} in the healer's environment (App host or Action step env).`],
        };
      }
      return { ok: true, value, origin: `from the healer's environment variable ${source.env}` };
    }
    case 'external':
      return {
        ok: false,
        error: `${name} is declared external: a human must set it`,
        notes: [`Living Bridge never writes secrets declared external; ${name} was not touched.`],
      };
  }
}

export async function executeCreateSecret(port: SecretsPort, plan: CreateSecretPlan): Promise<CreateSecretReport> {
  const ACTION = 'CREATE_SECRET' as const;
  const { repo, scope, name } = plan;
  const where = `${name} (${scopeLabel(scope)})`;

  const valid = SecretName.safeParse(name);
  if (!valid.success) return failed(ACTION, `invalid secret name ${JSON.stringify(name)}: ${valid.error.issues[0]?.message ?? 'rejected'}`);
  if (plan.fingerprintKey.length === 0) return failed(ACTION, 'no fingerprint key: refusing to write a secret that could not be fingerprinted');

  const resolved = resolveValue(plan);
  if (!resolved.ok) return failed(ACTION, resolved.error, { notes: resolved.notes });
  const value = resolved.value;
  const secrets = [value];

  let existedBefore = false;
  const fingerprint = fingerprintValue(value, plan.fingerprintKey);
  await plan.beforeWrite?.(fingerprint);
  try {
    // 201: it did not exist; 204: it did (updated_at before unknown).
    const { created } = await port.setSecret(repo, scope, name, value);
    // GitHub's answer says whether it existed (204) or not (201), which saves reading it first.
    if (!created) existedBefore = true;
  } catch (err) {
    return fromPortError(ACTION, `writing ${where}`, err, { secrets });
  }

  const change: Change = {
    kind: 'secret',
    target: name,
    scope: scopeLabel(scope),
    op: existedBefore ? 'update' : 'create',
    // A secret's value can never be read; all we know of the state before is whether it existed.
    before_fingerprint: existedBefore ? 'existed' : null,
    after_fingerprint: fingerprint,
  };

  let after: SecretMeta | null;
  try {
    after = await port.getSecret(repo, scope, name);
  } catch (err) {
    return fromPortError(ACTION, `verifying ${where} after writing it`, err, {
      secrets,
      changes: [change],
      notes: [`${where} was written but could not be read back.`],
      extra: { written: { fingerprint, updated_at: null } },
    });
  }

  if (!after) {
    return failed(ACTION, `${where} was written but GitHub does not list it afterwards`, {
      changes: [change],
      extra: { written: { fingerprint, updated_at: null } },
    });
  }

  // The write is certified when GitHub lists the secret afterwards (its value cannot be read back).
  const certified = true;
  const notes = [
    `${existedBefore ? 'Updated' : 'Created'} secret ${where}, value ${resolved.origin}; fingerprint ${fingerprint}.`,
    `Verified: ${name} exists with updated_at ${after.updated_at}.`,
  ];
  return {
    action: ACTION,
    ok: true,
    certified,
    changes: [change],
    notes,
    written: { fingerprint, updated_at: after.updated_at },
  };
}
