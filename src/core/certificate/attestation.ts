/**
 * The ledger checkpoint as a GitHub artifact attestation (the Action path's anchor outside the
 * branch). The Action writes the signed checkpoint as the predicate and a checksums file of two
 * subjects; `actions/attest` signs them with a Sigstore certificate bound to the workflow run and
 * stores the attestation with GitHub, out of reach of a force-push to the ledger branch:
 *
 *   <certificate_hash>  <owner>/<repo>#certificate/<sequence>   the head certificate (sha256 of its payload)
 *   <ledger id digest>  living-bridge-ledger:<owner>/<repo>      the same for every checkpoint of the ledger
 *
 * The first ties one checkpoint to its head certificate (`gh attestation verify head.payload ...`);
 * the second lets an auditor list every checkpoint ever attested for the repository with one
 * subject (`gh attestation verify ledger.id ...`), so a rolled-back branch shows against the newest.
 */
import { sha256Hex } from '../canonical.js';
import { CHECKPOINT_PREDICATE_TYPE, type SignedCheckpoint } from '../schemas/checkpoint.js';

export { CHECKPOINT_PREDICATE_TYPE };

export interface AttestationSubject {
  name: string;
  /** sha256 hex. */
  digest: string;
}

/** The bytes whose sha256 is the ledger's constant subject: `living-bridge-ledger:<owner>/<repo>`, no newline. */
export const ledgerIdentity = (repository: string): string => `living-bridge-ledger:${repository}`;

/** The two subjects of a checkpoint attestation (one when the chain is empty). */
export function attestationSubjects(signed: SignedCheckpoint): AttestationSubject[] {
  const { repository, sequence, head } = signed.checkpoint;
  const ledger = { name: ledgerIdentity(repository), digest: sha256Hex(ledgerIdentity(repository)) };
  return head === null ? [ledger] : [{ name: `${repository}#certificate/${sequence}`, digest: head }, ledger];
}

/** The `subject-checksums` file of `actions/attest` (shasum format: digest, two spaces, name). */
export function checksumsFile(subjects: readonly AttestationSubject[]): string {
  return subjects.map((s) => `${s.digest}  ${s.name}\n`).join('');
}
