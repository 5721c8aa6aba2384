import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { sha256Hex } from '../canonical.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import type { Signer } from './signer.js';

/** A freshly derived Ed25519 key pair, base64 (standard, padded). */
export interface SigningKey {
  /** 64-byte libsodium Ed25519 secret key (seed || public key). Keep it secret. */
  secretKey: string;
  /** 32-byte Ed25519 public key; publish it in the ledger as `.bridge/keys/<keyid>.pub`. */
  publicKey: string;
  keyid: string;
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/** Key id: the first 16 hex characters of sha256(raw 32-byte public key). */
export function keyIdFor(publicKeyBase64: string): string {
  const bytes = decodeBase64(publicKeyBase64);
  if (!bytes || bytes.length !== 32) {
    throw new SigningKeyError('public key must be base64 of 32 bytes (an Ed25519 public key)');
  }
  return sha256Hex(bytes).slice(0, 16);
}

/**
 * Derive an Ed25519 key pair from a 32-byte seed. The core has no randomness: the door passes
 * 32 bytes from a CSPRNG (e.g. `crypto.randomBytes(32)`); a fixed seed gives a fixed key (tests).
 */
export async function generateSigningKey(seed: Uint8Array): Promise<SigningKey> {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new SigningKeyError(`seed must be 32 bytes, got ${seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed}`);
  }
  await sodium.ready;
  const pair = sodium.crypto_sign_seed_keypair(seed);
  const publicKey = encodeBase64(pair.publicKey);
  const secretKey = encodeBase64(pair.privateKey);
  sodium.memzero(pair.privateKey);
  return { secretKey, publicKey, keyid: keyIdFor(publicKey) };
}

/**
 * A Signer over a base64 Ed25519 key: either a 32-byte seed or a 64-byte libsodium secret key
 * (seed || public key, checked for consistency). Errors describe the problem, never the key.
 */
export async function createSigner(secretKeyBase64: string): Promise<Signer> {
  if (typeof secretKeyBase64 !== 'string' || secretKeyBase64.trim() === '') {
    throw new SigningKeyError('signing key is empty: expected base64 of a 32-byte Ed25519 seed or a 64-byte Ed25519 secret key');
  }
  const raw = decodeBase64(secretKeyBase64.trim());
  if (!raw) {
    throw new SigningKeyError('signing key is not valid base64 (value not shown): expected base64 of a 32-byte Ed25519 seed or a 64-byte Ed25519 secret key');
  }
  if (raw.length !== 32 && raw.length !== 64) {
    const length = raw.length;
    raw.fill(0);
    throw new SigningKeyError(`signing key decodes to ${length} bytes: expected a 32-byte Ed25519 seed or a 64-byte Ed25519 secret key`);
  }
  await sodium.ready;
  const pair = sodium.crypto_sign_seed_keypair(raw.subarray(0, 32));
  if (raw.length === 64 && !sodium.memcmp(pair.publicKey, raw.subarray(32, 64))) {
    raw.fill(0);
    sodium.memzero(pair.privateKey);
    throw new SigningKeyError('signing key is inconsistent: its public half does not match its seed (is it really an Ed25519 secret key?)');
  }
  raw.fill(0);
  const secretKey = pair.privateKey;
  const publicKey = encodeBase64(pair.publicKey);
  const keyid = keyIdFor(publicKey);
  const signer: Signer = {
    keyid,
    publicKey,
    sign: (bytes: Uint8Array) => Promise.resolve(sodium.crypto_sign_detached(bytes, secretKey)),
  };
  return Object.freeze(signer);
}

// Ed25519 public keys as DER SubjectPublicKeyInfo: this fixed prefix, then the 32 raw bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keyCache = new Map<string, KeyObject | null>();

function publicKeyObject(publicKeyBase64: string): KeyObject | null {
  const cached = keyCache.get(publicKeyBase64);
  if (cached !== undefined) return cached;
  const raw = decodeBase64(publicKeyBase64);
  let key: KeyObject | null = null;
  if (raw && raw.length === 32) {
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
  }
  if (keyCache.size > 256) keyCache.clear();
  keyCache.set(publicKeyBase64, key);
  return key;
}

/**
 * Verify a detached Ed25519 signature. Synchronous (node:crypto), so verification needs neither
 * `sodium.ready` nor anything but Node: the same check an offline verifier runs.
 * Returns false for malformed keys or signatures instead of throwing.
 */
export function verifyEd25519(message: Uint8Array, signatureBase64: string, publicKeyBase64: string): boolean {
  const key = publicKeyObject(publicKeyBase64);
  const sig = decodeBase64(signatureBase64);
  if (!key || !sig || sig.length !== 64) return false;
  try {
    return nodeVerify(null, message, key, sig);
  } catch {
    return false;
  }
}
