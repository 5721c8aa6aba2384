/**
 * The classifier's memory in the ledger (`.bridge/classifier/memory.json`): apply what a repository taught it to
 * fresh incidents, and record what happened next. Pure logic lives in core/classify/memory.ts.
 */
import { applyLearningAll, emptyClassifierMemory, recordFailure, recordSuccess } from '../core/classify/index.js';
import type { Incident } from '../core/schemas/index.js';
import type { WorkflowRun } from '../ports/index.js';
import type { Ledger, LedgerSnapshot, LedgerWrite } from '../ledger/index.js';
import type { PipelineContext } from './context.js';
import { safeMessage } from './heal.js';

/** Incidents as this repository's labels and outcomes say (see core/classify/memory.ts). */
export function learnedIncidents(incidents: Incident[], snapshot: LedgerSnapshot): Incident[] {
  return applyLearningAll(incidents, snapshot.classifierMemory ?? emptyClassifierMemory());
}

/**
 * Remember the signature of each failed job of this run attempt (so the next attempt's outcome can be attributed)
 * and count a regression when a signature healed by re-run comes straight back. Best effort: the heal goes on if
 * the ledger write fails.
 */
export async function rememberFailure(ctx: PipelineContext, ledger: Ledger, run: WorkflowRun, incidents: Incident[], snapshot: LedgerSnapshot): Promise<LedgerSnapshot> {
  const firsts = new Map<string, Incident>();
  for (const i of incidents) if (i.signature && !firsts.has(i.signature)) firsts.set(i.signature, i);
  if (firsts.size === 0) return snapshot;
  const at = ctx.now();
  const message = `classifier: run ${run.id} attempt ${run.run_attempt} failed (${[...firsts.keys()].join(', ')})`;
  const mutate = (snap: LedgerSnapshot) => {
    let memory = snap.classifierMemory ?? emptyClassifierMemory();
    for (const [signature, i] of firsts) {
      memory = recordFailure(memory, { signature, classifiedAs: i.kind, runId: run.id, attempt: run.run_attempt, at, excerpt: i.evidence.slice(0, 3).map((e) => e.text) });
    }
    return { classifierMemory: memory };
  };
  // Every heal that gets here commits to the ledger next (its decision or its certificate): the memory
  // travels in that commit instead of costing a tree, a commit and a ref update of its own.
  if (ledger.stage) {
    ledger.stage(message, mutate);
    return { ...snapshot, ...mutate(snapshot) };
  }
  const committed = await ledger.commit(message, mutate).catch((err: unknown) => {
    ctx.log.warn({ err: safeMessage(err) }, 'could not record the failure signature');
    return null;
  });
  return committed?.snapshot ?? snapshot;
}

/**
 * A run attempt passed: flaky evidence for the signature its earlier attempt failed with (and a heal, if ours).
 * The write to make, or null when this run's earlier attempt left no sighting (nothing to record).
 */
export function successMemory(ctx: PipelineContext, run: WorkflowRun, snapshot: LedgerSnapshot): { message: string; mutate: (snap: LedgerSnapshot) => LedgerWrite } | null {
  if (run.run_attempt < 2 || !(snapshot.classifierMemory?.runs ?? []).some((r) => r.run_id === run.id && r.attempt < run.run_attempt)) return null;
  const ours = snapshot.state.actions.some((a) => a.run_id === run.id && a.action === 'RERUN');
  const at = ctx.now();
  return {
    message: `classifier: run ${run.id} attempt ${run.run_attempt} passed`,
    mutate: (snap) => ({ classifierMemory: recordSuccess(snap.classifierMemory ?? emptyClassifierMemory(), { runId: run.id, attempt: run.run_attempt, at, rerunByLivingBridge: ours }) }),
  };
}

/** Commits what `successMemory` says, on its own (best effort: a failed write is logged). */
export async function rememberSuccess(ctx: PipelineContext, ledger: Ledger, run: WorkflowRun, snapshot: LedgerSnapshot): Promise<void> {
  const write = successMemory(ctx, run, snapshot);
  if (!write) return;
  await ledger.commit(write.message, write.mutate).catch((err: unknown) => ctx.log.warn({ err: safeMessage(err) }, 'could not record the passing re-run'));
}
