/**
 * The idempotent verbs of the ports (Renovate's `ensureIssue`/`ensureComment`), written once over
 * the primitive calls so that every implementation (the GitHub adapter, the in-memory fakes) keeps
 * the same promises: one issue per marker, no write when the content hash is unchanged, a lost
 * create found again by its marker instead of opened twice, one pull request per proposal branch.
 */
import { createHash } from 'node:crypto';
import type { RepoRef } from '../core/schemas/index.js';
import { ProposalPullRequestError, RefConflictError } from './errors.js';
import type { ContentsPort, EnsuredIssue, EnsureIssueSpec, FileProposal, GitDataPort, IssueRef, IssuesPort, MarkedIssue, ProposedFile } from './github.js';

const HASH_RE = /\n?<!-- living-bridge:hash:([0-9a-f]{16}) -->\n?$/;
/** Tries of a create whose answer may have been lost (5xx, timeout), each preceded by a look-up. */
export const CREATE_TRIES = 4;

export const contentHash = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);

/** The content hash a body written by `markedBody` carries, or null. */
export const hashOf = (body: string): string | null => HASH_RE.exec(body)?.[1] ?? null;

/** `body` with `marker` (prepended when missing) and, last, the hash of title and body. */
export function markedBody(marker: string, title: string, body: string): string {
  const clean = body.replace(HASH_RE, '');
  const withMarker = clean.includes(marker) ? clean : `${marker}\n${clean}`;
  return `${withMarker}\n<!-- living-bridge:hash:${contentHash(title, withMarker)} -->`;
}

export interface EnsureIssueOps {
  /** The first issue carrying one of `markers` (in that order of preference). */
  find(repo: RepoRef, markers: string[]): Promise<MarkedIssue | null>;
  createIssue: IssuesPort['createIssue'];
  updateIssue: IssuesPort['updateIssue'];
}

/** A `find` over `findIssueByMarker`, one look-up per marker. */
export const findByMarkers = (port: Pick<IssuesPort, 'findIssueByMarker'>) => async (repo: RepoRef, markers: string[]): Promise<MarkedIssue | null> => {
  for (const m of markers) {
    const hit = await port.findIssueByMarker(repo, m);
    if (hit) return hit;
  }
  return null;
};

export async function ensureIssueWith(ops: EnsureIssueOps, repo: RepoRef, spec: EnsureIssueSpec, pause: (ms: number) => Promise<void> = sleep): Promise<EnsuredIssue> {
  const markers = [spec.marker, ...(spec.aliases ?? [])];
  const existing = await ops.find(repo, markers);
  const raw = typeof spec.body === 'function' ? spec.body(existing) : spec.body;
  const body = markedBody(spec.marker, spec.title, raw);
  if (existing) {
    const reopen = spec.reopen !== false && existing.state !== 'open';
    const state = reopen ? 'open' : existing.state === 'open' ? 'open' : 'closed';
    if (!reopen && hashOf(existing.body) === hashOf(body)) {
      return { number: existing.number, html_url: existing.html_url, status: 'unchanged', previous: existing, body: existing.body, state };
    }
    const issue = await ops.updateIssue(repo, existing.number, { title: spec.title, body, ...(reopen ? { state: 'open' as const } : {}) });
    return { ...issue, status: 'updated', previous: existing, body, state };
  }
  const issue = await createOnce(ops, repo, markers, spec.title, body, spec.labels ?? [], pause);
  return { ...issue, status: 'created', previous: null, body, state: 'open' };
}

/**
 * POSTs are not blindly retried (an issue whose answer was lost would be opened twice): after a
 * failure the issue is looked up by its marker, and only when it is not there and the answer may
 * have been lost (5xx, timeout) is the POST tried again.
 */
async function createOnce(ops: EnsureIssueOps, repo: RepoRef, markers: string[], title: string, body: string, labels: string[], pause: (ms: number) => Promise<void>): Promise<IssueRef> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ops.createIssue(repo, title, body, labels);
    } catch (err) {
      const found = await ops.find(repo, markers).catch(() => null);
      if (found) return { number: found.number, html_url: found.html_url };
      const status = (err as { status?: number }).status;
      if (attempt + 1 >= CREATE_TRIES || (status !== undefined && status < 500)) throw err;
      await pause(250 * (attempt + 1));
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Moves of the proposal branch tried when someone else moved it in between. */
export const PROPOSAL_REF_TRIES = 3;

type ProposePort = Pick<ContentsPort, 'readFile'> &
  Pick<GitDataPort, 'getBranchHead' | 'getCommitTree' | 'createTree' | 'createCommit' | 'createBranch' | 'updateBranch' | 'createPullRequest' | 'findOpenPullRequest'>;

/** Git's blob id of a text (what GitHub names the blob a tree call writes from `content`). */
export const gitBlobSha = (content: string): string => {
  const bytes = Buffer.from(content, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes])).digest('hex');
};

export async function proposeFileWith(port: ProposePort, repo: RepoRef, p: FileProposal): Promise<ProposedFile> {
  if (p.branch === p.base) throw new Error(`refusing to propose onto ${p.base}: the proposal branch would be the base branch`);
  const same = p.sameAs ?? ((text: string) => text === p.content);
  const branchBefore = await port.getBranchHead(repo, p.branch);
  const onBranch = branchBefore ? await port.readFile(repo, p.path, p.branch) : null;
  let blobSha = gitBlobSha(p.content);
  let commitSha: string | null = null;
  if (branchBefore && onBranch && same(onBranch.content)) {
    // An earlier proposal already holds this content: no commit, no branch move.
    commitSha = branchBefore;
    blobSha = onBranch.sha;
  }
  for (let attempt = 1; commitSha === null; attempt++) {
    const baseHead = await port.getBranchHead(repo, p.base);
    if (!baseHead) throw new Error(`base branch ${p.base} not found`);
    const head = attempt === 1 ? branchBefore : await port.getBranchHead(repo, p.branch);
    // The content goes inline: the tree call writes the blob (one request fewer than a blob first).
    const tree = await port.createTree(repo, await port.getCommitTree(repo, baseHead), [{ path: p.path, mode: '100644', type: 'blob', sha: null, content: p.content }]);
    // On an existing branch, merge the base in (second parent) so the move is a fast-forward and the
    // pull request's diff is exactly this file against the current base.
    const parents = head && head !== baseHead ? [head, baseHead] : [baseHead];
    const commit = await port.createCommit(repo, p.message, tree, parents);
    try {
      if (head) await port.updateBranch(repo, p.branch, commit);
      else await port.createBranch(repo, p.branch, commit);
      commitSha = commit;
    } catch (err) {
      if (!(err instanceof RefConflictError || (err as { name?: string }).name === 'RefConflictError') || attempt >= PROPOSAL_REF_TRIES) throw err;
    }
  }
  const partial = { blobSha, branchBefore, commitSha, committed: commitSha !== branchBefore };
  try {
    const open = await port.findOpenPullRequest(repo, p.branch, p.base);
    const pullRequest = open ? { ...open, created: false } : { ...(await port.createPullRequest(repo, { title: p.pr.title, body: p.pr.body, head: p.branch, base: p.base })), created: true };
    return { ...partial, pullRequest };
  } catch (err) {
    throw new ProposalPullRequestError(partial, err);
  }
}
