import { auditEntry } from './audit.js';
import { parseGrantFile } from '../core/grants/index.js';
import { parseRepoFullName, type Grant } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';
import { GRANTS_FILE } from './heal.js';
import { loadRepoConfig } from './repo-files.js';

/** The kill switch: a halted Governor decides NOOP(halted) for everything until resumed. */
export async function setHalted(ctx: PipelineContext, repository: string, halted: boolean, reason: string, actor: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  await ctx.ledgerFor(repo, config.ledger.branch).commit(`${halted ? 'halt' : 'resume'}: ${reason}`, (snap) => ({
    state: { ...snap.state, halted, halted_reason: halted ? reason : null },
    audit: [auditEntry(ctx, repository, halted ? 'kill_switch.halt' : 'kill_switch.resume', reason, { actor })],
  }));
}

/**
 * Stores a signed grant in the repository's ledger (GRANTS_FILE, a JSON array; a grant with the same
 * id is replaced) and publishes the signer's public key next to it.
 */
export async function storeGrant(ctx: PipelineContext, repository: string, grant: Grant, actor: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const body = grant.grant;
  await ledger.commit(`grant: issue ${body.id}`, async () => {
    // Read inside mutate: on a compare-and-swap retry the list is read again.
    const current = await ledger.readFile(GRANTS_FILE);
    const grants = current ? parseGrantFile(current, GRANTS_FILE).filter((g) => g.grant.id !== body.id) : [];
    return {
      files: { [GRANTS_FILE]: `${JSON.stringify([...grants, grant], null, 2)}\n` },
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      audit: [auditEntry(ctx, repository, 'grant.issue', `${body.id}: ${body.actions.join(',')} until ${body.expires_at}${body.break_glass ? ' (break-glass)' : ''}`, { actor })],
    };
  });
}

/** Revokes a grant by id (recorded in the ledger; a revocation is never undone). */
export async function revokeGrant(ctx: PipelineContext, repository: string, id: string, actor: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  await ctx.ledgerFor(repo, config.ledger.branch).commit(`grant: revoke ${id}`, (snap) => ({
    revokedGrantIds: [...new Set([...snap.revokedGrantIds, id])],
    audit: [auditEntry(ctx, repository, 'grant.revoke', id, { actor })],
  }));
}

export type GrantStatus = 'active' | 'not yet valid' | 'expired' | 'revoked' | 'used up';
export interface ListedGrant { grant: Grant['grant']; status: GrantStatus; uses: number }

/** The grants stored in a repository's ledger, each with its status now (signatures are checked when one is used). */
export async function listGrants(ctx: PipelineContext, repository: string): Promise<ListedGrant[]> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);
  const [snapshot, text] = [await ledger.read(), await ledger.readFile(GRANTS_FILE)];
  const now = ctx.now().getTime();
  return (text ? parseGrantFile(text, GRANTS_FILE) : []).map(({ grant }) => {
    const uses = snapshot.grantUses[grant.id] ?? 0;
    const status: GrantStatus = snapshot.revokedGrantIds.includes(grant.id) ? 'revoked'
      : Date.parse(grant.expires_at) <= now ? 'expired'
        : Date.parse(grant.not_before) > now ? 'not yet valid'
          : grant.max_uses !== undefined && grant.max_uses !== null && uses >= grant.max_uses ? 'used up'
            : 'active';
    return { grant, status, uses };
  });
}
