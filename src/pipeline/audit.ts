import type { AuditEntry } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';

/** One line of the ledger's append-only audit trail, stamped with the context's clock and door. */
export const auditEntry = (
  ctx: PipelineContext,
  repository: string,
  event: string,
  detail: string,
  opts: { actor?: string; certificateHash?: string | null } = {},
): AuditEntry => ({
  at: ctx.now().toISOString(),
  door: ctx.door,
  actor: opts.actor ?? ctx.actor ?? 'living-bridge',
  event,
  repository,
  detail,
  certificate_hash: opts.certificateHash ?? null,
});
