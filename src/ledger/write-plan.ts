/**
 * The write plan: which files (full paths -> content) one LedgerWrite changes on a loaded snapshot,
 * and the snapshot after it. Every refusal (a certificate that does not chain, a reserved path, a
 * damaged checkpoint) happens here, before anything is written.
 */
import { createHash } from 'node:crypto';
import { AuditEntry, Certificate, ClassifierMemory, GovernorState, SignedCheckpoint, Statement, SyncState, parseWith } from '../core/schemas/index.js';
import { signCheckpoint, type Signer } from '../core/certificate/index.js';
import type { LoadedLedger } from './cache.js';
import { LedgerCorruptError, LedgerWriteError } from './errors.js';
import { CERTIFICATE_FILE, LEDGER_PATHS, LEDGER_README, LEDGER_ROOT, RESERVED_PREFIXES, auditPath, certificatePath, keyPath } from './layout.js';
import { Base64, PendingList, UseCounts, parseLedgerJson } from './snapshot.js';
import type { LedgerSnapshot, LedgerWrite } from './types.js';

/** Git's blob id: sha1("blob <len>\0<bytes>"). Lets us skip writing blobs that did not change. */
export function gitBlobSha(content: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])).digest('hex');
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** What the plan needs besides the snapshot: where it writes, the clock, the checkpoint signer, and a way to read files at the snapshot. */
export interface PlanContext {
  /** "owner/name", for the checkpoint. */
  repository: string;
  branch: string;
  now: () => Date;
  signer: Signer | undefined;
  readText: (at: LoadedLedger, path: string) => Promise<string | null>;
}

export interface WritePlan {
  /** Files whose bytes change (unchanged ones are left out). */
  files: Map<string, string>;
  next: LedgerSnapshot;
}

/** The hash a certificate's predicate says it follows, after checking the envelope and its hash. */
export function decodeLink(cert: Certificate): { previous: string | null; statement: Statement } {
  const body = Buffer.from(cert.envelope.payload, 'base64');
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== cert.certificate_hash) {
    throw new LedgerWriteError(`certificate ${cert.certificate_hash.slice(0, 12)}: certificate_hash is not sha256 of its payload (${actual.slice(0, 12)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new LedgerWriteError(`certificate ${cert.certificate_hash.slice(0, 12)}: payload is not JSON`);
  }
  const statement = Statement.safeParse(parsed);
  if (!statement.success) throw new LedgerWriteError(`certificate ${cert.certificate_hash.slice(0, 12)}: payload is not a Living Bridge statement`);
  return { previous: statement.data.predicate.previous_certificate_hash, statement: statement.data };
}

/** A path under the ledger root ("postmortems/x.md" or ".bridge/postmortems/x.md"), relative; escaping paths are refused. */
export function ledgerRelative(path: string): string {
  const p = path.replace(/^\.bridge\//, '');
  const segments = p.split('/');
  if (p === '' || p.startsWith('/') || p.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new LedgerWriteError(`invalid ledger path "${path}": expected a relative path like "postmortems/2026-01-01-x.md"`);
  }
  return p;
}

/** Certificates appended in order, each chaining to the one before it from the snapshot's last hash. */
function planCertificates(cur: LoadedLedger, write: LedgerWrite, files: Map<string, string>): { certs: Certificate[]; head: string | null } {
  const snap = cur.snapshot;
  const certs = (write.certificates ?? []).map((c) => {
    const parsed = Certificate.safeParse(c);
    if (!parsed.success) throw new LedgerWriteError(`not a certificate: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  });
  let previous = snap.lastCertificateHash;
  certs.forEach((cert, i) => {
    const link = decodeLink(cert);
    if (link.previous !== previous) {
      throw new LedgerWriteError(
        `certificate ${cert.certificate_hash.slice(0, 12)} does not chain: its previous_certificate_hash is ${link.previous ?? 'null'}, ` +
          `but the ledger's last certificate is ${previous ?? 'null'} (build certificates inside mutate from the snapshot it is given)`,
      );
    }
    const sequence = snap.certificateCount + i + 1;
    const declared = link.statement.predicate.sequence;
    if (declared !== undefined && declared !== sequence) {
      throw new LedgerWriteError(`certificate ${cert.certificate_hash.slice(0, 12)} carries sequence ${declared} but would be #${sequence} of the chain`);
    }
    const path = certificatePath(sequence, cert.certificate_hash);
    if (cur.blobs.has(path)) throw new LedgerWriteError(`${path} already exists`);
    files.set(path, json(cert));
    previous = cert.certificate_hash;
  });
  return { certs, head: previous };
}

/** Audit entries appended to their month's file: the month's existing bytes stay exactly as they were. */
async function planAudit(cur: LoadedLedger, entries: readonly AuditEntry[], ctx: PlanContext, files: Map<string, string>): Promise<void> {
  const byMonth = new Map<string, string[]>();
  for (const raw of entries) {
    const entry = parseWith(AuditEntry, raw, 'ledger write: audit entry');
    const month = /^(\d{4}-\d{2})/.exec(entry.at)?.[1] ?? ctx.now().toISOString().slice(0, 7);
    byMonth.set(month, [...(byMonth.get(month) ?? []), JSON.stringify(entry)]);
  }
  for (const [month, lines] of byMonth) {
    const path = auditPath(month);
    const existing = (await ctx.readText(cur, path)) ?? '';
    const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
    files.set(path, `${existing}${sep}${lines.join('\n')}\n`);
  }
}

/** Files (full paths -> content) a write changes, and the snapshot after it. */
export async function planWrite(cur: LoadedLedger, write: LedgerWrite, ctx: PlanContext): Promise<WritePlan> {
  const snap = cur.snapshot;
  const files = new Map<string, string>();
  const next: LedgerSnapshot = { ...snap };
  const first = snap.head === null;

  const { certs, head: previous } = planCertificates(cur, write, files);
  next.certificateCount = snap.certificateCount + certs.length;
  next.lastCertificateHash = previous;
  const checkpoint = await nextCheckpoint(cur, certs.length, previous, ctx);
  if (checkpoint) {
    files.set(LEDGER_PATHS.checkpoint, json(checkpoint));
    next.checkpoint = checkpoint;
  }

  if (write.state !== undefined || certs.length > 0 || first) {
    const state = parseWith(GovernorState, { ...(write.state ?? snap.state), last_certificate_hash: previous }, 'ledger write: state');
    files.set(LEDGER_PATHS.state, json(state));
    next.state = state;
  }
  if (write.sync !== undefined || first) {
    const sync = parseWith(SyncState, write.sync ?? snap.sync, 'ledger write: sync');
    files.set(LEDGER_PATHS.sync, json(sync));
    next.sync = sync;
  }
  if (first) files.set(LEDGER_PATHS.readme, LEDGER_README);

  if (write.audit?.length) await planAudit(cur, write.audit, ctx, files);

  for (const [path, content] of Object.entries(write.files ?? {})) {
    const rel = ledgerRelative(path);
    if (RESERVED_PREFIXES.some((r) => rel === r || rel.startsWith(r))) {
      throw new LedgerWriteError(`ledger path "${path}" is reserved; write it through its own LedgerWrite field`);
    }
    files.set(`${LEDGER_ROOT}/${rel}`, content);
  }

  if (write.publicKeys) {
    for (const [keyid, key] of Object.entries(write.publicKeys)) {
      if (!/^[A-Za-z0-9_-]+$/.test(keyid)) throw new LedgerWriteError(`invalid key id "${keyid}"`);
      if (!Base64.test(key.trim())) throw new LedgerWriteError(`public key ${keyid} is not base64`);
      files.set(keyPath(keyid), `${key.trim()}\n`);
    }
    next.publicKeys = { ...snap.publicKeys, ...write.publicKeys };
  }
  if (write.revokedGrantIds) {
    // A revocation is never undone: the list only grows.
    const revoked = [...new Set([...snap.revokedGrantIds, ...write.revokedGrantIds])];
    files.set(LEDGER_PATHS.revokedGrants, json(revoked));
    next.revokedGrantIds = revoked;
  }
  if (write.grantUses) {
    const uses = parseWith(UseCounts, { ...snap.grantUses, ...write.grantUses }, 'ledger write: grant uses');
    files.set(LEDGER_PATHS.grantUses, json(uses));
    next.grantUses = uses;
  }
  if (write.classifierMemory) {
    const memory = parseWith(ClassifierMemory, write.classifierMemory, 'ledger write: classifier memory');
    files.set(LEDGER_PATHS.classifierMemory, json(memory));
    next.classifierMemory = memory;
  }
  if (write.pendingApprovals) {
    const pending = parseWith(PendingList, write.pendingApprovals, 'ledger write: pending approvals');
    files.set(LEDGER_PATHS.pendingApprovals, json(pending));
    next.pendingApprovals = pending;
  }

  // Only files whose bytes changed become blobs.
  for (const [path, content] of files) {
    if (cur.blobs.get(path) === gitBlobSha(content)) files.delete(path);
  }
  return { files, next };
}

/**
 * The checkpoint a write must carry: a new one whenever certificates are added, and once over the
 * existing chain of a ledger written before checkpoints existed. The writer never builds on a branch
 * whose checkpoint disagrees with its certificates (a cut tail, a deleted or edited checkpoint):
 * signing a new checkpoint there would launder the damage.
 */
export async function nextCheckpoint(cur: LoadedLedger, added: number, head: string | null, ctx: PlanContext): Promise<SignedCheckpoint | null> {
  const snap = cur.snapshot;
  const present = cur.blobs.has(LEDGER_PATHS.checkpoint);
  const cp = snap.checkpoint;
  if (present && !cp) throw new LedgerCorruptError(LEDGER_PATHS.checkpoint, ctx.branch, 'not a signed checkpoint; refusing to add to a ledger whose head cannot be checked');
  if (cp && (cp.checkpoint.sequence !== snap.certificateCount || cp.checkpoint.head !== snap.lastCertificateHash)) {
    throw new LedgerCorruptError(
      LEDGER_PATHS.checkpoint,
      ctx.branch,
      `the checkpoint says the chain has ${cp.checkpoint.sequence} certificate(s) ending at ${cp.checkpoint.head?.slice(0, 12) ?? 'null'}, the branch has ${snap.certificateCount} ending at ${snap.lastCertificateHash?.slice(0, 12) ?? 'null'}: the branch was cut or edited; run \`living-bridge verify\` and restore it before Living Bridge writes again`,
    );
  }
  if (added === 0 && cp) return null;
  if (!ctx.signer) {
    if (added > 0) throw new LedgerWriteError('this ledger has no signer for checkpoints: it cannot add certificates');
    return null;
  }
  if (!cp && snap.certificateCount > 0 && (await lastCertificateIsSequenced(cur, ctx))) {
    throw new LedgerCorruptError(LEDGER_PATHS.checkpoint, ctx.branch, 'the checkpoint was deleted (the certificates carry sequence numbers); refusing to add to the ledger until it is restored');
  }
  return signCheckpoint({ repository: ctx.repository, sequence: snap.certificateCount + added, head, time: ctx.now().toISOString() }, ctx.signer);
}

async function lastCertificateIsSequenced(cur: LoadedLedger, ctx: PlanContext): Promise<boolean> {
  const path = [...cur.blobs.keys()].filter((p) => CERTIFICATE_FILE.test(p)).sort().at(-1);
  const text = path ? await ctx.readText(cur, path) : null;
  if (text === null) return false;
  try {
    return decodeLink(parseLedgerJson(Certificate, text, path as string, ctx.branch)).statement.predicate.sequence !== undefined;
  } catch {
    return false;
  }
}
