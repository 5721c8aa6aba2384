/**
 * The keys a verifier trusts: only keys it was given (pinned), never keys the ledger branch lists.
 * Sources, in order: `--keys` files, LIVING_BRIDGE_TRUSTED_KEYS, the process's own signing key
 * (the App's TRUTH_SIGNING_KEY) and its grant keys (LIVING_BRIDGE_GRANT_KEYS).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrustedKeys, type PublicKeys, type Signer } from '../core/certificate/index.js';

/** A key source that cannot be used; doors turn it into exit 2 / a startup error naming the source. */
export class TrustedKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustedKeysError';
  }
}

export interface PinnedKeys {
  keys: PublicKeys;
  /** Where the keys came from, for reports ("keys.txt", "LIVING_BRIDGE_TRUSTED_KEYS", ...). */
  sources: string[];
}

/** A `--keys` path: a file of keys (one per line, `#` comments), or a directory of `<keyid>.pub` files. */
export function readKeysPath(path: string): PublicKeys {
  let text: string;
  try {
    if (statSync(path).isDirectory()) {
      text = readdirSync(path).filter((f) => f.endsWith('.pub')).sort().map((f) => readFileSync(join(path, f), 'utf8')).join('\n');
    } else {
      text = readFileSync(path, 'utf8');
    }
  } catch (err) {
    throw new TrustedKeysError(`cannot read the keys file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = parseTrustedKeys(text, path);
  if (parsed.errors.length) throw new TrustedKeysError(parsed.errors.join('; '));
  if (Object.keys(parsed.keys).length === 0) throw new TrustedKeysError(`the keys file ${path} holds no public key`);
  return parsed.keys;
}

export function pinnedKeys(opts: { env: Record<string, string | undefined>; keyFiles?: readonly string[]; signer?: Pick<Signer, 'keyid' | 'publicKey'> | null }): PinnedKeys {
  const keys: PublicKeys = {};
  const sources: string[] = [];
  for (const file of opts.keyFiles ?? []) {
    Object.assign(keys, readKeysPath(file));
    sources.push(file);
  }
  for (const name of ['LIVING_BRIDGE_TRUSTED_KEYS', 'LIVING_BRIDGE_GRANT_KEYS'] as const) {
    const text = opts.env[name]?.trim();
    if (!text) continue;
    const parsed = parseTrustedKeys(text, name);
    if (parsed.errors.length) throw new TrustedKeysError(parsed.errors.join('; '));
    Object.assign(keys, parsed.keys);
    sources.push(name);
  }
  if (opts.signer) {
    keys[opts.signer.keyid] = opts.signer.publicKey;
    sources.push('the signing key (TRUTH_SIGNING_KEY)');
  }
  return { keys, sources };
}
