import type { AuditEntry, Certificate, ClassifierMemory, GovernorState, PendingApproval, SignedCheckpoint, SyncState } from '../core/schemas/index.js';

/** What one repository's ledger branch holds, as read at one commit. */
export interface LedgerSnapshot {
  /** Commit the snapshot was read at; null for a ledger that does not exist yet. */
  head: string | null;
  state: GovernorState;
  sync: SyncState;
  /** Hash of the last certificate in the chain (also state.last_certificate_hash). */
  lastCertificateHash: string | null;
  /** Number of certificates in the chain so far (the next one gets sequence count+1). */
  certificateCount: number;
  /**
   * The signed checkpoint (`.bridge/checkpoint.json`): sequence and head of the chain, written in the
   * same commit as the certificates. Null before the first checkpointed commit.
   */
  checkpoint: SignedCheckpoint | null;
  /** Public keys published in the ledger: keyid -> base64 Ed25519 public key. */
  publicKeys: Record<string, string>;
  revokedGrantIds: string[];
  /** Grant ids -> times used (for max_uses). */
  grantUses: Record<string, number>;
  pendingApprovals: PendingApproval[];
  /** What the classifier learned in this repository: labels and outcomes per failure signature (absent = nothing yet). */
  classifierMemory?: ClassifierMemory;
}

/** What a ledger commit writes. Everything in one commit: state and its certificates never diverge. */
export interface LedgerWrite {
  state?: GovernorState;
  sync?: SyncState;
  /** Appended to the chain in this order; each must already chain to the previous one. */
  certificates?: Certificate[];
  audit?: AuditEntry[];
  /** Extra files by path under the ledger root, e.g. "postmortems/2026-11-23-abc.md". */
  files?: Record<string, string>;
  publicKeys?: Record<string, string>;
  revokedGrantIds?: string[];
  grantUses?: Record<string, number>;
  pendingApprovals?: PendingApproval[];
  classifierMemory?: ClassifierMemory;
}

export interface Ledger {
  readonly branch: string;
  read(): Promise<LedgerSnapshot>;
  /**
   * Reads the latest snapshot, lets `mutate` compute the write, commits it with compare-and-swap on
   * the branch ref; when someone else moved the ref meanwhile, re-reads and calls `mutate` again.
   * `mutate` must therefore be a function of the snapshot it is given (it may sign certificates).
   */
  commit(message: string, mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>): Promise<{ commitSha: string; snapshot: LedgerSnapshot; attempts: number }>;
  /**
   * Keeps a write for the branch's next `commit` (in this process) instead of committing it on its
   * own: one commit instead of two when a flow is about to commit anyway. Best effort — lost if no
   * commit follows. Ledgers without it have every write committed by `commit`.
   */
  stage?(message: string, mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>): void;
  /** Commits what is still staged for the branch (nothing staged: no request at all). */
  flush?(): Promise<void>;
  /** The whole certificate chain in order. */
  readCertificates(): Promise<Certificate[]>;
  /** The certificate files as stored, in order, unparsed (verifiers report a damaged file instead of failing on it). */
  readCertificateFiles(): Promise<{ path: string; text: string }[]>;
  readFile(path: string): Promise<string | null>;
}
