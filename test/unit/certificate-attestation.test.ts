/**
 * The checkpoint as an artifact attestation: the subjects the Action hands to actions/attest, and the
 * verifier reading the checkpoint back out of what `gh attestation verify --format json`,
 * `gh attestation download` (Sigstore bundles, one per line) and the attestations REST API return.
 * The Sigstore signature itself is `gh attestation verify`'s job (it needs GitHub's trust roots);
 * what is checked here is the part Living Bridge owns: the checkpoint's own signature under pinned
 * keys, and the branch against it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINT_PREDICATE_TYPE,
  anchorsInDocument,
  attestationSubjects,
  checksumsFile,
  createSigner,
  generateSigningKey,
  ledgerIdentity,
  signCertificate,
  signCheckpoint,
  verifyLedgerEvidence,
  type Signer,
} from '../../src/core/certificate/index.js';
import type { Certificate, SignedCheckpoint } from '../../src/core/schemas/index.js';
import { writeAttestationFiles } from '../../src/action/attestation.js';

const REPO = 'acme/api';
const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
let signer: Signer;
let chain: Certificate[];
const checkpointAt = (n: number): Promise<SignedCheckpoint> =>
  signCheckpoint({ repository: REPO, sequence: n, head: chain[n - 1]?.certificate_hash ?? null, time: `2026-11-23T11:0${n}:00.000Z` }, signer);

beforeAll(async () => {
  signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(5))).secretKey);
  chain = [];
  for (let i = 0; i < 4; i++) {
    chain.push(await signCertificate({
      timestamp: `2026-11-23T10:0${i}:00.000Z`, action: 'RERUN', reason: `step ${i}`, targets: [], certified: true, report_hash: sha256(`r${i}`),
      repository: REPO, run_id: null, run_attempt: null, policy_version: 1, changes: [], previous_certificate_hash: chain[i - 1]?.certificate_hash ?? null,
      sequence: i + 1, certificate_type: 'action',
    }, signer));
  }
});

/** The in-toto statement actions/attest signs for a checkpoint, and the Sigstore bundle around it. */
function bundleOf(signed: SignedCheckpoint) {
  const statement = { _type: 'https://in-toto.io/Statement/v1', subject: attestationSubjects(signed).map((s) => ({ name: s.name, digest: { sha256: s.digest } })), predicateType: CHECKPOINT_PREDICATE_TYPE, predicate: signed };
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: 'MIIB' }, tlogEntries: [] },
    dsseEnvelope: { payload: Buffer.from(JSON.stringify(statement)).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'MEUC' }] },
  };
  return { statement, bundle };
}

describe('checkpoint attestations', () => {
  test('subjects: the head certificate (its hash is sha256 of its payload) and the constant ledger subject', async () => {
    const signed = await checkpointAt(4);
    const subjects = attestationSubjects(signed);
    expect(subjects).toEqual([
      { name: 'acme/api#certificate/4', digest: chain[3]!.certificate_hash },
      { name: 'living-bridge-ledger:acme/api', digest: sha256('living-bridge-ledger:acme/api') },
    ]);
    // The file an auditor hands to `gh attestation verify` has exactly these digests.
    expect(sha256(Buffer.from(chain[3]!.envelope.payload, 'base64'))).toBe(subjects[0]!.digest);
    expect(sha256(ledgerIdentity(REPO))).toBe(subjects[1]!.digest);
    expect(checksumsFile(subjects)).toBe(`${subjects[0]!.digest}  acme/api#certificate/4\n${subjects[1]!.digest}  living-bridge-ledger:acme/api\n`);
    // An empty chain has only the ledger subject.
    expect(attestationSubjects(await signCheckpoint({ repository: REPO, sequence: 0, head: null, time: 't' }, signer))).toHaveLength(1);
  });

  test('the Action writes the predicate and the subject-checksums file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lb-attest-'));
    const signed = await checkpointAt(2);
    const files = writeAttestationFiles(dir, signed);
    expect(JSON.parse(readFileSync(files.predicatePath, 'utf8'))).toEqual(signed);
    expect(files.predicate).toBe(JSON.stringify(signed));
    expect(readFileSync(files.subjectsPath, 'utf8')).toBe(checksumsFile(attestationSubjects(signed)));
    expect(files.predicateType).toBe('https://living-bridge.dev/checkpoint/v1');
  });

  test('anchors are read from gh attestation verify JSON, gh attestation download JSONL and the REST API, once each', async () => {
    const [two, four] = [await checkpointAt(2), await checkpointAt(4)];
    const verifyOutput = [two, four].map((s) => ({ attestation: { bundle: bundleOf(s).bundle }, verificationResult: { statement: bundleOf(s).statement, verifiedTimestamps: [] } }));
    expect(anchorsInDocument(JSON.stringify(verifyOutput), 'att.json').map((a) => a.checkpoint)).toEqual([two, four]);
    const jsonl = [two, four].map((s) => JSON.stringify(bundleOf(s).bundle)).join('\n');
    expect(anchorsInDocument(jsonl, 'bundles.jsonl').map((a) => a.checkpoint)).toEqual([two, four]);
    const rest = { attestations: [{ bundle: bundleOf(four).bundle, repository_id: 1 }] };
    expect(anchorsInDocument(JSON.stringify(rest), 'api.json').map((a) => a.checkpoint)).toEqual([four]);
    // A payload that is not an in-toto statement carries no anchor.
    expect(anchorsInDocument(JSON.stringify({ dsseEnvelope: { payload: Buffer.from('nope').toString('base64'), payloadType: 'application/vnd.in-toto+json' } }), 'x')).toEqual([]);
  });

  test('a branch rolled back behind an attested checkpoint is ROLLED_BACK; the attested head satisfies an expected anchor', async () => {
    const keys = { [signer.keyid]: signer.publicKey };
    const attested = anchorsInDocument([await checkpointAt(2), await checkpointAt(4)].map((s) => JSON.stringify(bundleOf(s).bundle)).join('\n'), 'attestations of living-bridge-ledger:acme/api');
    const cut = chain.slice(0, 2);
    const rolledBack = verifyLedgerEvidence({ repository: REPO, certificates: cut, checkpoint: await checkpointAt(2), anchors: attested }, { keys });
    expect(rolledBack.error).toMatchObject({ step: 'anchors', code: 'ROLLED_BACK', last_anchored_sequence: 4 });
    const whole = verifyLedgerEvidence({ repository: REPO, certificates: chain, checkpoint: await checkpointAt(4), anchors: attested, expectedAnchor: 'the attestations' }, { keys });
    expect(whole).toMatchObject({ ok: true, anchors: { given: 2, valid: 2, latest: { sequence: 4 } } });
  });
});
