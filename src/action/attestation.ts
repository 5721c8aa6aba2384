/**
 * The Action path's anchor: after a run that committed certificates, the ledger's signed checkpoint
 * is written as an attestation predicate plus an `actions/attest` checksums file, and their paths are
 * set as outputs. A later step `actions/attest` (needs `id-token: write`, `attestations: write`)
 * then records it with GitHub; see docs/certificates.md#artifact-attestations-the-action-path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attestationSubjects, checksumsFile, CHECKPOINT_PREDICATE_TYPE } from '../core/certificate/index.js';
import { parseRepoFullName, type SignedCheckpoint } from '../core/schemas/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { loadRepoConfig } from '../pipeline/repo-files.js';

export interface AttestationFiles {
  /** The predicate: the signed checkpoint as JSON, verbatim, and the file holding it. */
  predicate: string;
  predicatePath: string;
  /** `subject-checksums` for actions/attest (the head certificate and the ledger's constant subject), and its file. */
  subjects: string;
  subjectsPath: string;
  predicateType: string;
}

/** Writes the two files under `dir` (the runner's RUNNER_TEMP). */
export function writeAttestationFiles(dir: string, signed: SignedCheckpoint): AttestationFiles {
  mkdirSync(dir, { recursive: true });
  const predicatePath = join(dir, 'living-bridge-checkpoint.json');
  const subjectsPath = join(dir, 'living-bridge-subjects.txt');
  const predicate = JSON.stringify(signed);
  const subjects = checksumsFile(attestationSubjects(signed));
  writeFileSync(predicatePath, `${predicate}\n`);
  writeFileSync(subjectsPath, subjects);
  return { predicate, predicatePath, subjects, subjectsPath, predicateType: CHECKPOINT_PREDICATE_TYPE };
}

/**
 * After a run that committed a certificate: the ledger's checkpoint (it covers that certificate; one
 * ref request, the snapshot is cached) written for actions/attest. Best effort: null when it cannot.
 */
export async function prepareAttestation(ctx: Pick<PipelineContext, 'github' | 'ledgerFor'>, repository: string, branch: string | undefined, dir: string): Promise<AttestationFiles | null> {
  const repo = parseRepoFullName(repository);
  const ledgerBranch = branch ?? (await loadRepoConfig(ctx.github, repo)).ledger.branch;
  const { checkpoint } = await ctx.ledgerFor(repo, ledgerBranch).read();
  return checkpoint && checkpoint.checkpoint.head !== null ? writeAttestationFiles(dir, checkpoint) : null;
}
