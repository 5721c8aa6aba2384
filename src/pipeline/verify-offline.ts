/**
 * Offline verification of a ledger checkout (`git worktree add /tmp/ledger origin/bridge-ledger`):
 * the same named steps as online, over files. Shared by `living-bridge verify --dir` and
 * scripts/verify-chain.ts, so both catch exactly the same things.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { anchorsInDocument, decodeCertificate, verifyLedgerEvidence, type Anchor } from '../core/certificate/index.js';
import type { PinnedKeys } from './trust.js';
import { jsonOrText, noLedgerReport, verifiedOf, type Verified, type VerifyReport } from './verify.js';

/** A path that cannot be read (exit 2, naming the path). */
export class LedgerReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerReadError';
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new LedgerReadError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Anchors from files an auditor saved (check-run JSON, a PR comment, an attestation, a checkpoint). */
export function readAnchorFiles(paths: readonly string[]): Anchor[] {
  return paths.flatMap((p) => anchorsInDocument(read(p), p));
}

/** `.bridge` of a checkout: the checkout itself, its `.bridge`, or the parent of a `certificates` directory. */
function ledgerRoot(dir: string): string | null {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    throw new LedgerReadError(`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'not found'}`);
  }
  if (!isDir) throw new LedgerReadError(`cannot read ${dir}: not a directory`);
  for (const candidate of [join(abs, '.bridge'), abs, basename(abs) === 'certificates' ? resolve(abs, '..') : null]) {
    if (candidate && existsSync(join(candidate, 'certificates')) && statSync(join(candidate, 'certificates')).isDirectory()) return candidate;
    if (candidate && existsSync(join(candidate, 'checkpoint.json'))) return candidate;
  }
  return null;
}

export interface OfflineVerifyOptions {
  /** The repository the ledger must be about (default: what its signed checkpoint or first certificate says). */
  repository?: string;
  anchorFiles?: readonly string[];
  /** Fail unless one of the anchors records the checkout's own checkpoint. */
  requireAnchor?: boolean;
}

export function verifyLedgerDirectory(dir: string, trust: PinnedKeys, opts: OfflineVerifyOptions = {}): VerifyReport {
  return verifyDirectoryChain(dir, trust, opts).report;
}

/** `verifyLedgerDirectory`, also returning the verified chain. */
export function verifyDirectoryChain(dir: string, trust: PinnedKeys, opts: OfflineVerifyOptions = {}): Verified {
  const anchors = readAnchorFiles(opts.anchorFiles ?? []);
  const root = ledgerRoot(dir);
  if (!root) return { report: noLedgerReport(opts.repository ?? dir, dir, null, trust.sources, `no .bridge/certificates or .bridge/checkpoint.json in ${dir}`), chain: [] };
  const certDir = join(root, 'certificates');
  let files: string[] = [];
  if (existsSync(certDir)) {
    try {
      files = readdirSync(certDir).filter((f) => f.endsWith('.json')).sort();
    } catch (err) {
      throw new LedgerReadError(`cannot read ${certDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const certificates = files.map((f) => jsonOrText(read(join(certDir, f))));
  const checkpointPath = join(root, 'checkpoint.json');
  const checkpoint = existsSync(checkpointPath) ? jsonOrText(read(checkpointPath)) : null;
  const statePath = join(root, 'state.json');
  const state = existsSync(statePath) ? jsonOrText(read(statePath)) : undefined;
  const stateHead = state && typeof state === 'object' ? ((state as { last_certificate_hash?: string | null }).last_certificate_hash ?? null) : undefined;
  const keysDir = join(root, 'keys');
  const publishedKeys: Record<string, string> = {};
  if (existsSync(keysDir)) for (const f of readdirSync(keysDir).filter((k) => k.endsWith('.pub'))) publishedKeys[f.slice(0, -4)] = read(join(keysDir, f));
  const repository = opts.repository ?? claimedRepository(checkpoint, certificates) ?? '(unknown repository)';
  const verified = verifyLedgerEvidence(
    {
      repository,
      certificates,
      files,
      checkpoint,
      publishedKeys,
      ...(stateHead !== undefined ? { stateHead } : {}),
      anchors,
      expectedAnchor: opts.requireAnchor ? `the anchor file(s) given (${(opts.anchorFiles ?? []).join(', ') || 'none'})` : null,
    },
    { keys: trust.keys },
  );
  return verifiedOf(verified, certificates, { source: root, branch: null, key_sources: trust.sources });
}

/** Which repository a checkout says it is about; verification then holds it to that. */
function claimedRepository(checkpoint: unknown, certificates: unknown[]): string | null {
  const fromCheckpoint = (checkpoint as { checkpoint?: { repository?: unknown } } | null)?.checkpoint?.repository;
  if (typeof fromCheckpoint === 'string') return fromCheckpoint;
  try {
    return certificates.length ? decodeCertificate(certificates[0]).predicate.repository : null;
  } catch {
    return null;
  }
}
