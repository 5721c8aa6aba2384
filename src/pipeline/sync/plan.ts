/** Stage 4 of sync: the plan (what to add, update, delete or escalate), and the result of a dry run. */
import { planSync, renderDriftTable, resolveFromEnv } from '../../core/env-plan/index.js';
import { fingerprintValue } from '../../engines/fingerprint.js';
import type { PipelineContext } from '../context.js';
import { fingerprintKeyOf } from '../fingerprint-key.js';
import type { Audited, Planned, SyncResult } from './types.js';

export async function planChanges(ctx: Pick<PipelineContext, 'signer' | 'env' | 'fromEnvRefusal'>, s: Audited): Promise<Planned> {
  const fpKey = await fingerprintKeyOf(ctx.signer);
  const fingerprintOf = (v: string): string => fingerprintValue(v, fpKey);
  const plan = planSync({
    declared: s.declared,
    actual: s.audit.actual,
    sync: s.syncState,
    fingerprintOf,
    resolveVariable: resolveFromEnv(ctx.env, ctx.fromEnvRefusal),
    ...(s.scopeFilter ? { scopeFilter: s.scopeFilter } : {}),
    ...(s.opts.names ? { names: s.opts.names } : {}),
  });
  return { ...s, plan, fingerprintOf };
}

export const driftTitle = (repository: string): string => `Environment drift: ${repository}`;

/** A dry run ends after planning: nothing is written anywhere. */
export function dryRunResult(s: Planned): SyncResult {
  s.notes.push(`dry run: ${s.plan.writes} write(s) planned, nothing written`);
  return {
    repository: s.repository,
    dryRun: true,
    plan: s.plan,
    report: null,
    certificate: null,
    driftTable: renderDriftTable(s.plan, undefined, { title: `${driftTitle(s.repository)} (dry run)` }),
    prUrl: null,
    requests: s.requests,
    certified: false,
    notes: s.notes,
  };
}
