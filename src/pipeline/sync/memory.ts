/** Stage 2 of sync: what the ledger remembers (ETags, cached inventory, fingerprints of what we wrote). */
import { SyncState } from '../../core/schemas/index.js';
import type { PipelineContext } from '../context.js';
import type { Declared, Remembered } from './types.js';

export async function loadMemory(ctx: Pick<PipelineContext, 'ledgerFor'>, s: Declared): Promise<Remembered> {
  const ledger = ctx.ledgerFor(s.repo, s.config.ledger.branch);
  const snapshot = await ledger.read();
  return { ...s, ledger, syncState: SyncState.parse(snapshot.sync ?? {}) };
}
