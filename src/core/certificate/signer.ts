/** Signs certificate and grant bytes. Key material stays behind this interface. */
export interface Signer {
  /** Key id recorded in every signature: first 16 hex chars of sha256(public key bytes). */
  readonly keyid: string;
  /** Base64 (ORIGINAL variant) Ed25519 public key, published in the ledger for offline verification. */
  readonly publicKey: string;
  /** Detached Ed25519 signature over exactly `bytes`. */
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}
