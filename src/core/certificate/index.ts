export type { Signer } from './signer.js';
export { encodeBase64, decodeBase64 } from './base64.js';
export { pae } from './dsse.js';
export { generateSigningKey, keyIdFor, createSigner, verifyEd25519, SigningKeyError, type SigningKey } from './keys.js';
export {
  signCertificate,
  decodeCertificate,
  verifyCertificate,
  buildStatement,
  subjectName,
  reportHash,
  type PublicKeys,
  type CertificateVerification,
} from './certificate.js';
export { verifyChain, type VerifyChainOptions, type ChainVerification } from './chain.js';
export { canonicalJson, sha256Hex } from '../canonical.js';
