/**
 * Reading a ledger branch at one commit into a snapshot: the tree listing, then the blobs of the
 * state files (texts already known by blob id are not read again).
 */
import { z } from 'zod';
import {
  ClassifierMemory,
  GovernorState,
  PendingApproval,
  SchemaError,
  SignedCheckpoint,
  SyncState,
  emptyGovernorState,
  parseWith,
  type RepoRef,
} from '../core/schemas/index.js';
import { emptyClassifierMemory } from '../core/classify/index.js';
import type { GitDataPort } from '../ports/index.js';
import { liveTexts, type LoadedLedger } from './cache.js';
import { LedgerCorruptError } from './errors.js';
import { CERTIFICATE_FILE, KEY_FILE, LEDGER_PATHS, LEDGER_ROOT } from './layout.js';
import type { LedgerSnapshot } from './types.js';

export const StringList = z.array(z.string());
export const UseCounts = z.record(z.string(), z.number().int().min(0));
export const PendingList = z.array(PendingApproval);
export const Base64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The snapshot of a ledger that does not exist yet. */
export function emptySnapshot(): LedgerSnapshot {
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

/** JSON of a ledger file checked against its schema; anything else is a LedgerCorruptError naming the file. */
export function parseLedgerJson<S extends z.ZodType>(schema: S, text: string, path: string, branch: string): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LedgerCorruptError(path, branch, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return parseWith(schema, data, path);
  } catch (e) {
    if (e instanceof SchemaError) throw new LedgerCorruptError(path, branch, e.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    throw e;
  }
}

/** Reads files of one repository's ledger branch through the git data port. */
export class SnapshotReader {
  constructor(
    private readonly git: GitDataPort,
    private readonly repo: RepoRef,
    readonly branch: string,
  ) {}

  /** A file's text at a loaded commit (null when absent); remembers what it read. */
  async readText(at: Pick<LoadedLedger, 'blobs' | 'texts'>, path: string): Promise<string | null> {
    const sha = at.blobs.get(path);
    if (sha === undefined) return null;
    const known = at.texts.get(sha);
    if (known !== undefined) return known;
    const text = await this.git.readBlob(this.repo, sha);
    at.texts.set(sha, text);
    return text;
  }

  /** A blob's text by sha, without remembering it (certificates: read once, never needed again by a commit). */
  readBlob(sha: string): Promise<string> {
    return this.git.readBlob(this.repo, sha);
  }

  parseJson<S extends z.ZodType>(schema: S, text: string, path: string): z.infer<S> {
    return parseLedgerJson(schema, text, path, this.branch);
  }

  private async readJson<S extends z.ZodType>(at: Pick<LoadedLedger, 'blobs' | 'texts'>, path: string, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const text = await this.readText(at, path);
    return text === null ? fallback : this.parseJson(schema, text, path);
  }

  head(): Promise<string | null> {
    return this.git.getBranchHead(this.repo, this.branch);
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

  /** The snapshot at `head` (null: the empty ledger). Texts of `previous` whose blobs are still in the tree are reused. */
  async loadAt(head: string | null, previous: LoadedLedger | undefined): Promise<LoadedLedger> {
    if (head === null) return { snapshot: emptySnapshot(), tree: null, blobs: new Map(), texts: new Map() };
    const { tree, blobs } = await this.treeOf(head);
    // Texts of blobs that are still in the tree carry over (a blob id names its content).
    const texts = liveTexts(blobs, previous?.texts ?? []);
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
        checkpoint: parseCheckpoint(checkpointText),
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
}

/** A damaged checkpoint is not an error to read (verifiers report it): null. The writer refuses to build on it. */
function parseCheckpoint(text: string | null): SignedCheckpoint | null {
  if (text === null) return null;
  try {
    const parsed = SignedCheckpoint.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
