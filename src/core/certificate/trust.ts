import type { PublicKeys } from './certificate.js';
import { keyIdFor } from './keys.js';

/**
 * Trusted public keys from text a person pinned (a `--keys` file, LIVING_BRIDGE_TRUSTED_KEYS,
 * LIVING_BRIDGE_GRANT_KEYS): entries separated by newlines, commas or spaces; `#` starts a comment.
 * An entry is a base64 Ed25519 public key, optionally prefixed `keyid=` or `name=`. The key id is always
 * recomputed from the key: a label that disagrees is an error, never a way to name a key.
 */
export function parseTrustedKeys(text: string, source: string): { keys: PublicKeys; errors: string[] } {
  const keys: PublicKeys = {};
  const errors: string[] = [];
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    // Base64 padding is '=' too, but only at the end: an '=' with a key after it ends a label
    // (`<keyid>=<key>`, or a name as LIVING_BRIDGE_GRANT_KEYS allows).
    const labelled = eq > 0 && entry.length - eq - 1 >= 43 && /^[A-Za-z0-9_.-]+$/.test(entry.slice(0, eq));
    const key = labelled ? entry.slice(eq + 1) : entry;
    // Only a label shaped like a key id claims to be one, and then it must be this key's.
    const label = labelled && /^[0-9a-f]{16}$/.test(entry.slice(0, eq)) ? entry.slice(0, eq) : null;
    let keyid: string;
    try {
      keyid = keyIdFor(key);
    } catch {
      errors.push(`${source}: "${entry.slice(0, 24)}${entry.length > 24 ? '…' : ''}" is not a base64 Ed25519 public key`);
      continue;
    }
    if (label !== null && label !== keyid) {
      errors.push(`${source}: the key labelled ${label} has key id ${keyid}`);
      continue;
    }
    keys[keyid] = key;
  }
  return { keys, errors };
}
