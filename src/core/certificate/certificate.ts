import type { z } from 'zod';
import { canonicalJson, sha256Hex, utf8Bytes } from '../canonical.js';
import {
  CERTIFICATE_PREDICATE_TYPE,
  Certificate,
  CertificatePredicate,
  DSSE_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  Statement,
} from '../schemas/certificate.js';
import { parseWith } from '../schemas/errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { pae } from './dsse.js';
import { verifyEd25519 } from './keys.js';
import type { Signer } from './signer.js';

/** keyid -> base64 Ed25519 public key (the ledger's `.bridge/keys/<keyid>.pub`). */
export type PublicKeys = Record<string, string>;

export type CertificateErrorCode = 'CERTIFICATE_MALFORMED' | 'HASH_MISMATCH' | 'KEY_UNTRUSTED' | 'BAD_SIGNATURE' | 'NOT_CANONICAL' | 'SUBJECT_MISMATCH';

export type CertificateVerification =
  | { ok: true; statement: Statement; keyid: string }
  | { ok: false; code: CertificateErrorCode; reason: string };

/** sha256 hex of the canonical JSON of an engine report: the certificate's `report_hash`. */
export function reportHash(report: unknown): string {
  return sha256Hex(canonicalJson(report));
}

/** `<repository>#<certificate_type>/<run_id|sync>`, the in-toto subject name of a certificate. */
export function subjectName(predicate: Pick<CertificatePredicate, 'repository' | 'certificate_type' | 'run_id'>): string {
  return `${predicate.repository}#${predicate.certificate_type}/${predicate.run_id ?? 'sync'}`;
}

/** The in-toto Statement v1 a certificate signs (validated; defaults applied). */
export function buildStatement(predicate: z.input<typeof CertificatePredicate>): Statement {
  const parsed = parseWith(CertificatePredicate, predicate, 'certificate predicate');
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: subjectName(parsed), digest: { sha256: parsed.report_hash } }],
    predicateType: CERTIFICATE_PREDICATE_TYPE,
    predicate: parsed,
  };
}

/**
 * Sign a certificate: validate the predicate, build the in-toto Statement, serialize it as
 * canonical JSON, sign the DSSE PAE of those bytes, and wrap it in a DSSE envelope.
 * `certificate_hash` is sha256 hex of the payload bytes (what the next link points at).
 */
export async function signCertificate(predicate: z.input<typeof CertificatePredicate>, signer: Signer): Promise<Certificate> {
  const statement = buildStatement(predicate);
  const body = utf8Bytes(canonicalJson(statement));
  const sig = await signer.sign(pae(DSSE_PAYLOAD_TYPE, body));
  return {
    certificate_hash: sha256Hex(body),
    envelope: {
      payloadType: DSSE_PAYLOAD_TYPE,
      payload: encodeBase64(body),
      signatures: [{ keyid: signer.keyid, sig: encodeBase64(sig) }],
    },
  };
}

type Decoded = { ok: true; certificate: Certificate; body: Uint8Array; statement: Statement } | { ok: false; code: 'CERTIFICATE_MALFORMED'; reason: string };

const describeZod = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');

function decode(input: unknown): Decoded {
  const cert = Certificate.safeParse(input);
  if (!cert.success) return { ok: false, code: 'CERTIFICATE_MALFORMED', reason: `not a certificate (${describeZod(cert.error)})` };
  const body = decodeBase64(cert.data.envelope.payload);
  if (!body) return { ok: false, code: 'CERTIFICATE_MALFORMED', reason: 'the envelope payload is not valid base64' };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { ok: false, code: 'CERTIFICATE_MALFORMED', reason: 'the envelope payload is not UTF-8 JSON' };
  }
  const statement = Statement.safeParse(json);
  if (!statement.success) return { ok: false, code: 'CERTIFICATE_MALFORMED', reason: `the payload is not a Living Bridge statement (${describeZod(statement.error)})` };
  return { ok: true, certificate: cert.data, body, statement: statement.data };
}

/**
 * Decode and validate a certificate's statement (envelope shape, base64, JSON, Statement schema).
 * It does NOT check the hash or the signature: use `verifyCertificate` for that.
 */
export function decodeCertificate(cert: unknown): Statement {
  const decoded = decode(cert);
  if (!decoded.ok) throw new Error(`cannot decode certificate: ${decoded.reason}`);
  return decoded.statement;
}

/**
 * Verify one certificate offline: envelope shape, `certificate_hash` = sha256(payload bytes),
 * an Ed25519 signature over the DSSE PAE by a key in `publicKeys` (looked up by keyid),
 * the payload is canonical JSON of a valid Statement, and its subject matches its predicate.
 */
export function verifyCertificate(cert: unknown, publicKeys: PublicKeys): CertificateVerification {
  const decoded = decode(cert);
  if (!decoded.ok) return decoded;
  const { certificate, body, statement } = decoded;

  const actual = sha256Hex(body);
  if (actual !== certificate.certificate_hash) {
    return {
      ok: false,
      code: 'HASH_MISMATCH',
      reason: `certificate_hash ${certificate.certificate_hash.slice(0, 12)}… does not match the payload, which hashes to ${actual.slice(0, 12)}… (the payload or the hash was edited)`,
    };
  }

  const message = pae(certificate.envelope.payloadType, body);
  const known = certificate.envelope.signatures.filter((s) => Object.prototype.hasOwnProperty.call(publicKeys, s.keyid));
  if (known.length === 0) {
    const ids = certificate.envelope.signatures.map((s) => s.keyid).join(', ');
    const trusted = Object.keys(publicKeys);
    return {
      ok: false,
      code: 'KEY_UNTRUSTED',
      reason: `signed by unknown key ${ids}; trusted keys: ${trusted.length ? trusted.join(', ') : '(none)'}`,
    };
  }
  const good = known.find((s) => verifyEd25519(message, s.sig, publicKeys[s.keyid] as string));
  if (!good) {
    return {
      ok: false,
      code: 'BAD_SIGNATURE',
      reason: `the signature by key ${known.map((s) => s.keyid).join(', ')} does not verify (the payload or the signature was edited, or the wrong key is published under this key id)`,
    };
  }

  const text = new TextDecoder().decode(body);
  if (canonicalJson(JSON.parse(text)) !== text) {
    return { ok: false, code: 'NOT_CANONICAL', reason: 'the signed payload is not canonical JSON (it was not produced by signCertificate)' };
  }
  const subject = statement.subject[0];
  if (!subject || subject.name !== subjectName(statement.predicate) || subject.digest['sha256'] !== statement.predicate.report_hash) {
    return { ok: false, code: 'SUBJECT_MISMATCH', reason: 'the statement subject does not match its predicate (repository, type, run or report_hash)' };
  }
  return { ok: true, statement, keyid: good.keyid };
}
