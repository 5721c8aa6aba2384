import sodium from 'libsodium-wrappers';

/**
 * Encrypts `value` for GitHub Actions: a libsodium sealed box against the repository's or
 * environment's public key (base64), returned as base64 (ORIGINAL variant), as GitHub expects.
 */
export async function sealSecret(value: string, publicKeyB64: string): Promise<string> {
  await sodium.ready;
  const key = sodium.from_base64(publicKeyB64, sodium.base64_variants.ORIGINAL);
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), key);
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}
