/**
 * The one builder of certificate predicates. Every flow that certifies (heal, its outcomes, env sync,
 * the config loop) names what it did; the builder adds what every link of the chain shares (time,
 * repository, policy version, the previous link and the sequence number) and the report hash.
 * Pure: the time is an argument.
 */
import type { z } from 'zod';
import type { ActionKind } from '../schemas/common.js';
import type { CertificatePredicate, Change } from '../schemas/certificate.js';
import { reportHash } from './certificate.js';

export type PredicateInput = z.input<typeof CertificatePredicate>;

/** Where the new link goes: the ledger's last certificate and how many there are (a LedgerSnapshot fits). */
export interface ChainHead {
  lastCertificateHash: string | null;
  certificateCount: number;
}

/** What every link shares. */
export interface Link {
  at: Date;
  repository: string;
  policyVersion: number;
  chain: ChainHead;
}

/** What one certificate asserts, apart from the link. `report` is hashed into `report_hash`. */
interface Assertion {
  action: ActionKind;
  reason: string;
  targets: string[];
  report: unknown;
  runId: number | null;
  runAttempt: number | null;
  decision: Record<string, unknown>;
}

function linkFields(link: Link): Pick<PredicateInput, 'timestamp' | 'repository' | 'policy_version' | 'previous_certificate_hash' | 'sequence'> {
  return {
    timestamp: link.at.toISOString(),
    repository: link.repository,
    policy_version: link.policyVersion,
    previous_certificate_hash: link.chain.lastCertificateHash,
    sequence: link.chain.certificateCount + 1,
  };
}

function assertionFields(a: Assertion): Pick<PredicateInput, 'action' | 'reason' | 'targets' | 'report_hash' | 'run_id' | 'run_attempt' | 'decision'> {
  return { action: a.action, reason: a.reason, targets: a.targets, report_hash: reportHash(a.report), run_id: a.runId, run_attempt: a.runAttempt, decision: a.decision };
}

/** What was done (a heal's steps, a config-loop stage). */
export function actionStatement(link: Link, a: Assertion & { certified: boolean; changes: Change[] }): PredicateInput {
  return { ...linkFields(link), ...assertionFields(a), certified: a.certified, changes: a.changes, certificate_type: 'action' };
}

/** A run's conclusion judging an earlier action certificate (always certified, changes nothing). */
export function outcomeStatement(link: Link, o: Assertion & { judges: string | null; outcome: 'success' | 'failure' }): PredicateInput {
  return {
    ...linkFields(link),
    ...assertionFields(o),
    certified: true,
    changes: [],
    certificate_type: 'outcome',
    judges_certificate_hash: o.judges,
    outcome: o.outcome,
  };
}

/** An env sync of the declared environment (no run). */
export function syncStatement(link: Link, s: Omit<Assertion, 'action' | 'runId' | 'runAttempt'> & { certified: boolean; changes: Change[] }): PredicateInput {
  return {
    ...linkFields(link),
    ...assertionFields({ ...s, action: 'SYNC_AND_CERTIFY', runId: null, runAttempt: null }),
    certified: s.certified,
    changes: s.changes,
    certificate_type: 'sync',
  };
}

/** A key rotation: the signing key of this link hands the chain to `next` (no run, changes nothing). */
export function rotationStatement(link: Link, r: { reason: string; previousKeyid: string; next: { keyid: string; public_key: string }; decision: Record<string, unknown> }): PredicateInput {
  return {
    ...linkFields(link),
    ...assertionFields({
      action: 'NOOP',
      reason: r.reason,
      targets: [`key:${r.next.keyid}`],
      report: { previous_keyid: r.previousKeyid, rotates_to: r.next },
      runId: null,
      runAttempt: null,
      decision: r.decision,
    }),
    certified: true,
    changes: [],
    certificate_type: 'key_rotation',
    rotates_to: r.next,
  };
}
