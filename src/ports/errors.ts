/**
 * Errors a port may throw that callers handle by type (not by message): the ledger retries on a
 * moved ref, the config loop escalates a refused merge. Adapters throw them; engines, flows and the
 * ledger catch them, so they live with the ports and not in any one implementation.
 */
export class RefConflictError extends Error {
  constructor(ref: string) { super(`ref ${ref} moved (not a fast-forward)`); this.name = 'RefConflictError'; }
}

/** GitHub refused a merge (405 not mergeable / method not allowed / protection, 409 head moved, 422). */
export class MergeRefusedError extends Error {
  constructor(readonly status: number, detail: string) { super(`GitHub refused the merge (HTTP ${status}): ${detail}`); this.name = 'MergeRefusedError'; }
}

/**
 * `proposeFile` committed the file to its branch but could not open the pull request: the partial
 * result travels with the error so the caller can report the commit it made.
 */
export class ProposalPullRequestError extends Error {
  constructor(
    readonly partial: { blobSha: string; branchBefore: string | null; commitSha: string; committed: boolean },
    cause: unknown,
  ) {
    super(`committed ${partial.commitSha} but could not open the pull request: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ProposalPullRequestError';
  }
}
