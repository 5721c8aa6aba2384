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
  type CertificateErrorCode,
} from './certificate.js';
export { actionStatement, outcomeStatement, rotationStatement, syncStatement, type ChainHead, type Link, type PredicateInput } from './statement.js';
export { verifyChain, type VerifyChainOptions, type ChainVerification, type ChainErrorCode } from './chain.js';
export { canonicalJson, sha256Hex } from '../canonical.js';
export { signCheckpoint, verifyCheckpoint, checkpointMessage, type CheckpointVerification } from './checkpoint.js';
export {
  verifyLedgerEvidence,
  type Anchor,
  type LedgerEvidence,
  type LedgerVerification,
  type LedgerVerificationError,
  type LedgerErrorCode,
  type TrustMaterial,
  type VerificationStep,
} from './verify-ledger.js';
export { parseTrustedKeys } from './trust.js';
export { renderAnchorMarker, anchorsInText, anchorsInDocument } from './anchor.js';
export { attestationSubjects, checksumsFile, ledgerIdentity, CHECKPOINT_PREDICATE_TYPE, type AttestationSubject } from './attestation.js';
