/** Stage 5 of sync: apply the plan on GitHub (paced; deletions only with confirmation; values never logged). */
import { executeSync, syncValueResolver } from '../../engines/env-sync.js';
import type { PipelineContext } from '../context.js';
import { DEFAULT_PACE, type Applied, type Planned } from './types.js';

export async function applyPlan(ctx: Pick<PipelineContext, 'github' | 'now' | 'env' | 'randomBytes' | 'fromEnvRefusal'>, s: Planned): Promise<Applied> {
  const report = await executeSync(ctx.github, s.plan, {
    repo: s.repo,
    confirmPrune: s.opts.confirmPrune,
    dryRun: false,
    pace: s.opts.pace ?? DEFAULT_PACE,
    sleep: s.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    now: () => ctx.now().getTime(),
    values: syncValueResolver(ctx.env, ctx.randomBytes, ctx.fromEnvRefusal),
    fingerprintOf: s.fingerprintOf,
  });
  return { ...s, report, applied: report.results.filter((r) => r.status === 'applied'), requests: { ...s.requests, writes: report.writeAttempts } };
}
