import { parseRepoFullName } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';
import { loadRepoConfig } from './repo-files.js';

/** The kill switch: a halted Governor decides NOOP(halted) for everything until resumed. */
export async function setHalted(ctx: PipelineContext, repository: string, halted: boolean, reason: string, actor: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  const config = await loadRepoConfig(ctx.github, repo);
  await ctx.ledgerFor(repo, config.ledger.branch).commit(`${halted ? 'halt' : 'resume'}: ${reason}`, (snap) => ({
    state: { ...snap.state, halted, halted_reason: halted ? reason : null },
    audit: [{ at: ctx.now().toISOString(), door: ctx.door, actor, event: halted ? 'kill_switch.halt' : 'kill_switch.resume', repository, detail: reason, certificate_hash: null }],
  }));
}
