/**
 * The repository is the database: a ledger branch written through the git data API
 * (blobs -> tree on base_tree -> commit -> fast-forward the ref), with compare-and-swap on the
 * branch ref. A writer that lost the race re-reads, re-runs `mutate` on the fresh snapshot and
 * tries again, so nothing another writer committed is ever lost.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  AuditEntry,
  Certificate,
  ClassifierMemory,
  GovernorState,
  PendingApproval,
  SchemaError,
  SignedCheckpoint,
  Statement,
  SyncState,
  emptyGovernorState,
  parseWith,
  repoFullName,
  type RepoRef,
} from '../core/schemas/index.js';
import { signCheckpoint, type Signer } from '../core/certificate/index.js';
import { emptyClassifierMemory } from '../core/classify/index.js';
import { RefConflictError, type GitDataPort, type GitTreeEntry } from '../ports/index.js';
import {
  CERTIFICATE_FILE,
  DEFAULT_LEDGER_BRANCH,
  KEY_FILE,
  LEDGER_PATHS,
  LEDGER_README,
  LEDGER_ROOT,
  RESERVED_PREFIXES,
  auditPath,
  certificatePath,
  keyPath,
} from './layout.js';
import type { Ledger, LedgerSnapshot, LedgerWrite } from './types.js';

export interface GitLedgerOptions {
  /**
   * Snapshot cache shared by the ledgers of this process (default: the process-wide one). `false`
   * turns caching off: every read and every commit attempt reads the branch in full.
   */
  cache?: LedgerCache | false;
  /** Compare-and-swap attempts before giving up (default 8). */
  maxAttempts?: number;
  /** Clock for audit entries without a parsable month (default: system clock). */
  now?: () => Date;
  /** Waits between attempts; injected so tests run without sleeping. */
  delay?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  log?: Logger;
  /**
   * Signs the checkpoint (`.bridge/checkpoint.json`) written with every commit that adds certificates.
   * Without one the ledger is read-only as far as certificates go: it refuses to add them.
   */
  signer?: Signer;
}

/** A ledger file that cannot be parsed: names the file and the branch. */
export class LedgerCorruptError extends Error {
  constructor(
    readonly path: string,
    readonly branch: string,
    reason: string,
  ) {
    super(`ledger file ${path} on branch ${branch} is corrupt: ${reason}`);
    this.name = 'LedgerCorruptError';
  }
}

/** A write the ledger refuses (a certificate that does not chain, a reserved path...). */
export class LedgerWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerWriteError';
  }
}

/** Every compare-and-swap attempt lost the race. */
export class LedgerConflictError extends Error {
  constructor(
    readonly branch: string,
    readonly attempts: number,
  ) {
    super(`ledger branch ${branch} kept moving: gave up after ${attempts} attempts (another writer is committing continuously)`);
    this.name = 'LedgerConflictError';
  }
}

const StringList = z.array(z.string());
const UseCounts = z.record(z.string(), z.number().int().min(0));
const PendingList = z.array(PendingApproval);
const Base64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Git's blob id: sha1("blob <len>\0<bytes>"). Lets us skip writing blobs that did not change. */
export function gitBlobSha(content: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])).digest('hex');
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
/** Snapshots are plain JSON data; a JSON copy keeps them plain objects of this realm (structuredClone may not). */
const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function isRefConflict(e: unknown): boolean {
  if (e instanceof RefConflictError || (e instanceof Error && e.name === 'RefConflictError')) return true;
  const status = (e as { status?: unknown } | null)?.status;
  const message = e instanceof Error ? e.message : '';
  return status === 422 && /already exists|fast.forward/i.test(message);
}

/** The hash a certificate's predicate says it follows, after checking the envelope and its hash. */
function decodeLink(cert: Certificate): { previous: string | null; statement: Statement } {
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

function ledgerRelative(path: string): string {
  const p = path.replace(/^\.bridge\//, '');
  const segments = p.split('/');
  if (p === '' || p.startsWith('/') || p.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new LedgerWriteError(`invalid ledger path "${path}": expected a relative path like "postmortems/2026-01-01-x.md"`);
  }
  return p;
}

interface Loaded {
  snapshot: LedgerSnapshot;
  tree: string | null;
  /** path -> blob sha of every file at the snapshot's commit. */
  blobs: Map<string, string>;
  /** blob sha -> text, for the files this process read or wrote at that commit. */
  texts: Map<string, string>;
}

/**
 * The last snapshot seen per ledger branch (after a read and after each of our own commits), so that
 * a read whose branch head did not move costs one ref request (a 304 with the GitHub adapter) and a
 * commit can build on it without reading at all (the compare-and-swap on the ref catches a stale one,
 * and the retry re-reads bypassing the cache). Entries are keyed by the port's `cacheScope` (the API
 * base URL for the GitHub adapter) or, for ports without one, by the port instance.
 */
export class LedgerCache {
  private readonly entries = new Map<string, Loaded>();
  private readonly instanceScopes = new WeakMap<object, string>();
  private nextScope = 0;

  constructor(private readonly maxEntries = 2000) {}

  key(git: GitDataPort, repo: RepoRef, branch: string): string {
    let scope = git.cacheScope;
    if (scope === undefined) {
      scope = this.instanceScopes.get(git);
      if (scope === undefined) {
        scope = `port#${++this.nextScope}`;
        this.instanceScopes.set(git, scope);
      }
    }
    return `${scope}|${repo.owner}/${repo.repo}|${branch}`.toLowerCase();
  }

  get(key: string): Loaded | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, loaded: Loaded): void {
    this.entries.delete(key);
    this.entries.set(key, loaded);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * One entry as plain JSON for a durable store (src/schedule keeps it across restarts), texts over
   * `maxTextBytes` left out (re-read by sha when a commit needs them); null when not cached.
   */
  exportEntry(key: string, maxTextBytes = 32 * 1024): PersistedLedgerEntry | null {
    const hit = this.entries.get(key);
    if (!hit) return null;
    return {
      snapshot: cloneJson(hit.snapshot),
      tree: hit.tree,
      blobs: [...hit.blobs],
      texts: [...hit.texts].filter(([, text]) => text.length <= maxTextBytes),
    };
  }

  /** Restores an exported entry. A stale one is harmless: reads check the head, commits compare-and-swap. */
  importEntry(key: string, e: PersistedLedgerEntry): void {
    if (!e || typeof e !== 'object' || !e.snapshot || !Array.isArray(e.blobs) || !Array.isArray(e.texts)) return;
    this.set(key, { snapshot: cloneJson(e.snapshot), tree: e.tree ?? null, blobs: new Map(e.blobs), texts: new Map(e.texts) });
  }
}

/** A LedgerCache entry as JSON (see LedgerCache.exportEntry). */
export interface PersistedLedgerEntry {
  snapshot: LedgerSnapshot;
  tree: string | null;
  blobs: [string, string][];
  texts: [string, string][];
}

/** The cache every ledger of this process shares unless given its own. */
export const sharedLedgerCache = new LedgerCache();

/** Forgets every cached snapshot (tests that replay fixed shas with different content). */
export function resetLedgerCache(): void {
  sharedLedgerCache.clear();
}

/** Files up to this size are written by the tree call itself (no separate blob request). */
const INLINE_MAX = 256 * 1024;

function emptySnapshot(): LedgerSnapshot {
  return {
    head: null,
    state: emptyGovernorState(),
    sync: SyncState.parse({}),
    lastCertificateHash: null,
    certificateCount: 0,
    checkpoint: null,
    publicKeys: {},
    revokedGrantIds: [],
    grantUses: {},
    pendingApprovals: [],
    classifierMemory: emptyClassifierMemory(),
  };
}

export class GitLedger implements Ledger {
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: Logger | undefined;
  private readonly signer: Signer | undefined;
  private readonly cache: LedgerCache | null;
  private readonly cacheKey: string;

  constructor(
    private readonly git: GitDataPort,
    private readonly repo: RepoRef,
    readonly branch: string = DEFAULT_LEDGER_BRANCH,
    opts: GitLedgerOptions = {},
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 8);
    this.now = opts.now ?? (() => new Date());
    this.delay = opts.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    this.log = opts.log;
    this.signer = opts.signer;
    this.cache = opts.cache === false ? null : (opts.cache ?? sharedLedgerCache);
    this.cacheKey = (this.cache ?? sharedLedgerCache).key(git, repo, branch);
  }

  // ------------------------------------------------------------------ reading

  private async readText(at: Pick<Loaded, 'blobs' | 'texts'>, path: string): Promise<string | null> {
    const sha = at.blobs.get(path);
    if (sha === undefined) return null;
    const known = at.texts.get(sha);
    if (known !== undefined) return known;
    const text = await this.git.readBlob(this.repo, sha);
    at.texts.set(sha, text);
    return text;
  }

  private parseJson<S extends z.ZodType>(schema: S, text: string, path: string): z.infer<S> {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new LedgerCorruptError(path, this.branch, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    try {
      return parseWith(schema, data, path);
    } catch (e) {
      if (e instanceof SchemaError) throw new LedgerCorruptError(path, this.branch, e.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
      throw e;
    }
  }

  private async readJson<S extends z.ZodType>(at: Pick<Loaded, 'blobs' | 'texts'>, path: string, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const text = await this.readText(at, path);
    return text === null ? fallback : this.parseJson(schema, text, path);
  }

  /** The commit's tree and its listing: one request when the port can, two otherwise. */
  private async treeOf(head: string): Promise<{ tree: string; blobs: Map<string, string> }> {
    if (this.git.readCommitTree) {
      const r = await this.git.readCommitTree(this.repo, head);
      return { tree: r.tree, blobs: new Map(r.entries.map((e) => [e.path, e.sha] as const)) };
    }
    const tree = await this.git.getCommitTree(this.repo, head);
    return { tree, blobs: new Map((await this.git.listTree(this.repo, tree)).map((e) => [e.path, e.sha] as const)) };
  }

  /** A cached snapshot, copied so callers can never change the cache. */
  private static copy(l: Loaded): Loaded {
    return { snapshot: cloneJson(l.snapshot), tree: l.tree, blobs: new Map(l.blobs), texts: l.texts };
  }

  /**
   * The branch as it is now: reads the head (one conditional request) and reuses the cached snapshot
   * when the head did not move; otherwise reads the tree listing and the blobs of what changed.
   */
  private async load(): Promise<Loaded> {
    const head = await this.git.getBranchHead(this.repo, this.branch);
    const cached = this.cache?.get(this.cacheKey);
    if (cached && cached.snapshot.head === head) return GitLedger.copy(cached);
    const loaded = await this.loadAt(head, cached);
    this.cache?.set(this.cacheKey, loaded);
    return GitLedger.copy(loaded);
  }

  private async loadAt(head: string | null, previous: Loaded | undefined): Promise<Loaded> {
    if (head === null) return { snapshot: emptySnapshot(), tree: null, blobs: new Map(), texts: new Map() };
    const { tree, blobs } = await this.treeOf(head);
    // Texts of blobs that are still in the tree carry over (a blob id names its content).
    const live = new Set(blobs.values());
    const texts = new Map([...(previous?.texts ?? [])].filter(([sha, text]) => live.has(sha) && text.length <= INLINE_MAX));
    const at = { blobs, texts };
    const keyPaths = [...blobs.keys()].filter((p) => KEY_FILE.test(p));
    const [state, sync, revokedGrantIds, grantUses, pendingApprovals, classifierMemory, keys, checkpointText] = await Promise.all([
      this.readJson(at, LEDGER_PATHS.state, GovernorState, emptyGovernorState()),
      this.readJson(at, LEDGER_PATHS.sync, SyncState, SyncState.parse({})),
      this.readJson(at, LEDGER_PATHS.revokedGrants, StringList, []),
      this.readJson(at, LEDGER_PATHS.grantUses, UseCounts, {}),
      this.readJson(at, LEDGER_PATHS.pendingApprovals, PendingList, []),
      this.readJson(at, LEDGER_PATHS.classifierMemory, ClassifierMemory, emptyClassifierMemory()),
      Promise.all(keyPaths.map(async (p) => [KEY_FILE.exec(p)?.[1] ?? '', ((await this.readText(at, p)) ?? '').trim()] as const)),
      this.readText(at, LEDGER_PATHS.checkpoint),
    ]);
    // A damaged checkpoint is not an error to read (verifiers report it); the writer refuses to build on it.
    let checkpoint: SignedCheckpoint | null = null;
    if (checkpointText !== null) {
      try {
        const parsed = SignedCheckpoint.safeParse(JSON.parse(checkpointText));
        checkpoint = parsed.success ? parsed.data : null;
      } catch {
        checkpoint = null;
      }
    }
    const publicKeys: Record<string, string> = {};
    for (const [keyid, key] of keys) {
      if (!Base64.test(key)) throw new LedgerCorruptError(`${LEDGER_ROOT}/keys/${keyid}.pub`, this.branch, 'not a base64 public key');
      publicKeys[keyid] = key;
    }
    const certificateCount = [...blobs.keys()].filter((p) => CERTIFICATE_FILE.test(p)).length;
    return {
      snapshot: {
        head,
        state,
        sync,
        lastCertificateHash: state.last_certificate_hash,
        certificateCount,
        checkpoint,
        publicKeys,
        revokedGrantIds,
        grantUses,
        pendingApprovals,
        classifierMemory,
      },
      tree,
      blobs,
      texts,
    };
  }

  async read(): Promise<LedgerSnapshot> {
    return (await this.load()).snapshot;
  }

  async readCertificates(): Promise<Certificate[]> {
    const cur = await this.load();
    const files = [...cur.blobs].filter(([p]) => CERTIFICATE_FILE.test(p)).sort(([a], [b]) => a.localeCompare(b));
    return mapLimit(files, 8, async ([path, sha]) => this.parseJson(Certificate, await this.git.readBlob(this.repo, sha), path));
  }

  async readCertificateFiles(): Promise<{ path: string; text: string }[]> {
    const cur = await this.load();
    const files = [...cur.blobs].filter(([p]) => CERTIFICATE_FILE.test(p)).sort(([a], [b]) => a.localeCompare(b));
    return mapLimit(files, 8, async ([path, sha]) => ({ path, text: await this.git.readBlob(this.repo, sha) }));
  }

  async readFile(path: string): Promise<string | null> {
    const rel = ledgerRelative(path);
    const cur = await this.load();
    return this.readText(cur, `${LEDGER_ROOT}/${rel}`);
  }

  // ------------------------------------------------------------------ writing

  /** Files (full paths -> content) a write changes, and the snapshot after it. */
  private async plan(cur: Loaded, write: LedgerWrite): Promise<{ files: Map<string, string>; next: LedgerSnapshot }> {
    const snap = cur.snapshot;
    const files = new Map<string, string>();
    const next: LedgerSnapshot = { ...snap };
    const first = snap.head === null;

    // Certificates: each must chain to the one before it, starting at the snapshot's last hash.
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
    next.certificateCount = snap.certificateCount + certs.length;
    next.lastCertificateHash = previous;
    const checkpoint = await this.nextCheckpoint(cur, certs.length, previous);
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

    if (write.audit?.length) {
      const byMonth = new Map<string, string[]>();
      for (const raw of write.audit) {
        const entry = parseWith(AuditEntry, raw, 'ledger write: audit entry');
        const month = /^(\d{4}-\d{2})/.exec(entry.at)?.[1] ?? this.now().toISOString().slice(0, 7);
        byMonth.set(month, [...(byMonth.get(month) ?? []), JSON.stringify(entry)]);
      }
      for (const [month, lines] of byMonth) {
        const path = auditPath(month);
        // Append: the month's existing bytes stay exactly as they were.
        const existing = (await this.readText(cur, path)) ?? '';
        const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
        files.set(path, `${existing}${sep}${lines.join('\n')}\n`);
      }
    }

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
  private async nextCheckpoint(cur: Loaded, added: number, head: string | null): Promise<SignedCheckpoint | null> {
    const snap = cur.snapshot;
    const present = cur.blobs.has(LEDGER_PATHS.checkpoint);
    const cp = snap.checkpoint;
    if (present && !cp) throw new LedgerCorruptError(LEDGER_PATHS.checkpoint, this.branch, 'not a signed checkpoint; refusing to add to a ledger whose head cannot be checked');
    if (cp && (cp.checkpoint.sequence !== snap.certificateCount || cp.checkpoint.head !== snap.lastCertificateHash)) {
      throw new LedgerCorruptError(
        LEDGER_PATHS.checkpoint,
        this.branch,
        `the checkpoint says the chain has ${cp.checkpoint.sequence} certificate(s) ending at ${cp.checkpoint.head?.slice(0, 12) ?? 'null'}, the branch has ${snap.certificateCount} ending at ${snap.lastCertificateHash?.slice(0, 12) ?? 'null'}: the branch was cut or edited; run \`living-bridge verify\` and restore it before Living Bridge writes again`,
      );
    }
    if (added === 0 && cp) return null;
    if (!this.signer) {
      if (added > 0) throw new LedgerWriteError('this ledger has no signer for checkpoints: it cannot add certificates');
      return null;
    }
    if (!cp && snap.certificateCount > 0 && (await this.lastCertificateIsSequenced(cur))) {
      throw new LedgerCorruptError(LEDGER_PATHS.checkpoint, this.branch, 'the checkpoint was deleted (the certificates carry sequence numbers); refusing to add to the ledger until it is restored');
    }
    return signCheckpoint({ repository: repoFullName(this.repo), sequence: snap.certificateCount + added, head, time: this.now().toISOString() }, this.signer);
  }

  private async lastCertificateIsSequenced(cur: Loaded): Promise<boolean> {
    const path = [...cur.blobs.keys()].filter((p) => CERTIFICATE_FILE.test(p)).sort().at(-1);
    const text = path ? await this.readText(cur, path) : null;
    if (text === null) return false;
    try {
      return decodeLink(this.parseJson(Certificate, text, path as string)).statement.predicate.sequence !== undefined;
    } catch {
      return false;
    }
  }

  async commit(
    message: string,
    mutate: (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>,
  ): Promise<{ commitSha: string; snapshot: LedgerSnapshot; attempts: number }> {
    // The first attempt may build on the cached snapshot without reading the branch: when the branch
    // moved meanwhile, the compare-and-swap on the ref refuses it exactly like a lost race, and every
    // retry re-reads the branch. (Not with maxAttempts 1, where a stale cache would leave no retry.)
    let speculative = this.maxAttempts > 1 ? this.cache?.get(this.cacheKey) : undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const fromCache = speculative !== undefined;
      const cur = speculative ? GitLedger.copy(speculative) : await this.load();
      speculative = undefined;
      let files: Map<string, string>;
      let next: LedgerSnapshot;
      try {
        const write = await mutate(structuredClone(cur.snapshot));
        ({ files, next } = await this.plan(cur, write));
      } catch (e) {
        // A refusal computed from a cached snapshot stands only if that snapshot is still the branch.
        if (fromCache && (await this.git.getBranchHead(this.repo, this.branch)) !== cur.snapshot.head) {
          this.cache?.delete(this.cacheKey);
          attempt--;
          continue;
        }
        throw e;
      }
      const head = cur.snapshot.head;
      if (files.size === 0 && head !== null) {
        // Nothing to write: confirm a cached snapshot is current before calling it the ledger's state.
        if (fromCache && (await this.git.getBranchHead(this.repo, this.branch)) !== head) {
          this.cache?.delete(this.cacheKey);
          attempt--;
          continue;
        }
        return { commitSha: head, snapshot: cur.snapshot, attempts: attempt };
      }

      let commitSha: string;
      let tree: string;
      try {
        const entries: GitTreeEntry[] = await mapLimit([...files], 4, async ([path, content]) =>
          Buffer.byteLength(content, 'utf8') <= INLINE_MAX
            ? { path, mode: '100644' as const, type: 'blob' as const, sha: null, content }
            : { path, mode: '100644' as const, type: 'blob' as const, sha: await this.git.createBlob(this.repo, content) },
        );
        tree = await this.git.createTree(this.repo, cur.tree, entries);
        commitSha = await this.git.createCommit(this.repo, message, tree, head === null ? [] : [head]);
        if (head === null) await this.git.createBranch(this.repo, this.branch, commitSha);
        else await this.git.updateBranch(this.repo, this.branch, commitSha);
      } catch (e) {
        if (!isRefConflict(e)) {
          // A cached snapshot may name a tree or branch that is gone: read the branch and try again.
          if (fromCache) {
            this.cache?.delete(this.cacheKey);
            attempt--;
            continue;
          }
          throw e;
        }
        this.cache?.delete(this.cacheKey);
        this.log?.info({ repository: repoFullName(this.repo), branch: this.branch, attempt }, 'ledger ref moved; re-reading and retrying');
        if (attempt < this.maxAttempts) await this.delay(this.backoff(attempt));
        continue;
      }
      const snapshot: LedgerSnapshot = { ...next, head: commitSha };
      const blobs = new Map(cur.blobs);
      const texts = new Map(cur.texts);
      for (const [path, content] of files) {
        const sha = gitBlobSha(content);
        blobs.set(path, sha);
        texts.set(sha, content);
      }
      const live = new Set(blobs.values());
      // Large texts (a busy month's audit file) are not kept per ledger: the adapter's bounded blob cache may still hold them.
      const kept = new Map([...texts].filter(([sha, text]) => live.has(sha) && text.length <= INLINE_MAX));
      this.cache?.set(this.cacheKey, { snapshot: cloneJson(snapshot), tree, blobs, texts: kept });
      return { commitSha, snapshot, attempts: attempt };
    }
    throw new LedgerConflictError(this.branch, this.maxAttempts);
  }

  /** Exponential backoff with jitter: 50ms, 100ms, 200ms ... capped at 2s, times [0.5, 1). */
  private backoff(attempt: number): number {
    const base = Math.min(2000, 50 * 2 ** (attempt - 1));
    return Math.round(base * (0.5 + this.random() * 0.5));
  }
}

/** A ledger on `branch` of `repo`, written through `git` (the GitHub adapter or an in-memory port). */
export function createGitLedger(git: GitDataPort, repo: RepoRef, branch: string = DEFAULT_LEDGER_BRANCH, opts: GitLedgerOptions = {}): Ledger {
  return new GitLedger(git, repo, branch, opts);
}
