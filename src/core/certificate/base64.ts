/**
 * Base64 helpers shared by certificates and grants. Encoding is always standard base64 with
 * padding (libsodium's ORIGINAL variant). Decoding is strict, and accepts standard or URL-safe
 * alphabets with or without padding, as the DSSE protocol asks of verifiers.
 */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64 decode; returns null instead of throwing so callers can word their own error. */
export function decodeBase64(text: string): Uint8Array | null {
  if (typeof text !== 'string') return null;
  let standard: string;
  if (BASE64.test(text)) standard = text;
  else if (BASE64URL.test(text)) standard = text.replace(/-/g, '+').replace(/_/g, '/');
  else return null;
  const unpadded = standard.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return null;
  const padded = unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
  if (standard.length !== unpadded.length && standard !== padded) return null; // wrong amount of padding
  const bytes = Buffer.from(padded, 'base64');
  // Reject non-canonical encodings (stray bits in the last character) so one byte string has one text.
  if (bytes.toString('base64') !== padded) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
