/** Where each thing lives on the ledger branch. One place, so docs/ledger.md and the code agree. */
export const LEDGER_ROOT = '.bridge';
export { DEFAULT_LEDGER_BRANCH } from '../core/schemas/repo-config.js';

export const LEDGER_PATHS = {
  readme: 'README.md',
  state: `${LEDGER_ROOT}/state.json`,
  checkpoint: `${LEDGER_ROOT}/checkpoint.json`,
  sync: `${LEDGER_ROOT}/sync-state.json`,
  revokedGrants: `${LEDGER_ROOT}/grants/revoked.json`,
  grantUses: `${LEDGER_ROOT}/grants/uses.json`,
  pendingApprovals: `${LEDGER_ROOT}/approvals/pending.json`,
  classifierMemory: `${LEDGER_ROOT}/classifier/memory.json`,
} as const;

export const CERTIFICATES_DIR = `${LEDGER_ROOT}/certificates`;
export const KEYS_DIR = `${LEDGER_ROOT}/keys`;
export const AUDIT_DIR = `${LEDGER_ROOT}/audit`;

/** `certificates/000001-<first 12 hex of the hash>.json`: the sequence orders the chain. */
export const certificatePath = (sequence: number, hash: string): string =>
  `${CERTIFICATES_DIR}/${String(sequence).padStart(6, '0')}-${hash.slice(0, 12)}.json`;
export const CERTIFICATE_FILE = /^\.bridge\/certificates\/(\d{6})-([0-9a-f]{12})\.json$/;

export const keyPath = (keyid: string): string => `${KEYS_DIR}/${keyid}.pub`;
export const KEY_FILE = /^\.bridge\/keys\/([A-Za-z0-9_-]+)\.pub$/;

/** `audit/YYYY-MM.jsonl`: one JSON object per line, only ever appended to. */
export const auditPath = (month: string): string => `${AUDIT_DIR}/${month}.jsonl`;

/** Paths (relative to the ledger root) `LedgerWrite.files` may not touch: they have their own fields. */
export const RESERVED_PREFIXES = ['state.json', 'checkpoint.json', 'sync-state.json', 'certificates/', 'keys/', 'audit/', 'grants/', 'approvals/', 'classifier/'];

export const LEDGER_README = `# Living Bridge ledger

This branch is Living Bridge's database for this repository. It is written by the Living Bridge
GitHub App and Action through the git data API, one commit per change, with compare-and-swap on
the branch ref (a writer that lost a race re-reads and retries). It is never merged into another
branch; please do not push to it by hand.

| Path | What it holds |
| --- | --- |
| \`.bridge/state.json\` | Governor state: kill switch, EMA per action, policy versions, cooldowns, streaks, recent actions, last certificate hash |
| \`.bridge/sync-state.json\` | Environment sync memory: ETags, fingerprints of written values (never values) |
| \`.bridge/checkpoint.json\` | Signed checkpoint: sequence and hash of the last certificate, and when (also published outside this branch) |
| \`.bridge/certificates/NNNNNN-<hash12>.json\` | Signed certificates (DSSE envelopes over in-toto statements), hash-chained, one per file |
| \`.bridge/keys/<keyid>.pub\` | Public keys (base64 Ed25519) that verify the certificates offline |
| \`.bridge/audit/YYYY-MM.jsonl\` | Append-only audit trail, one JSON object per line |
| \`.bridge/postmortems/*.md\` | Postmortems of escalated incidents |
| \`.bridge/grants/revoked.json\` | Ids of revoked grants |
| \`.bridge/grants/uses.json\` | Times each grant was used |
| \`.bridge/approvals/pending.json\` | Decisions waiting for a \`/bridge approve <id>\` comment |
| \`.bridge/classifier/memory.json\` | What the classifier learned here: \`/bridge label\` labels and re-run/flaky outcomes per failure signature |

Anyone can verify the certificate chain offline with the public key(s) they pinned
(\`.bridge/keys/\` lists the signing keys, but a verifier trusts only keys it is given).
`;
