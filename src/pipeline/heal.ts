/**
 * The heal flow, as named stages over one typed state (src/pipeline/heal/state.ts):
 *
 *   loadConfig → collectEvidence → learnFromLastOutcome → decideHeal → authorizeHeal
 *     → act → certifyAndRecord → announce            (executeDecision, src/pipeline/heal/execute.ts)
 *
 * Policy is the core's (core/governor: `propose`, `authorize`, `planFor`); engines are found in
 * the registry (src/engines/registry.ts). Every door calls `heal()`.
 */
import type { HealJob } from '../core/schemas/index.js';
import type { HealResult, PipelineContext } from './context.js';
import { DECIDE_STEP, type DecidedIntent } from './resume.js';
import { authorizeHeal, decideHeal } from './heal/decide.js';
import { collectEvidence } from './heal/evidence.js';
import { executeDecision } from './heal/execute.js';
import { learnFromLastOutcome } from './heal/learn.js';
import { loadConfig } from './heal/load.js';
import { dryRun, recordNoop, recordSuggestion } from './heal/record.js';
import { isFinished } from './heal/state.js';
import { safeMessage } from './safe-message.js';

export { safeMessage, executeDecision };
export { GRANTS_FILE } from './heal/decide.js';
export { secretSourceFor } from '../core/governor/plan.js';

export async function heal(ctx: PipelineContext, job: HealJob): Promise<HealResult> {
  const loaded = await loadConfig(ctx, job);
  if (isFinished(loaded)) return loaded.finished;
  const evidenced = await collectEvidence(loaded);
  if (isFinished(evidenced)) return evidenced.finished;
  const learned = await learnFromLastOutcome(evidenced);
  const s = await authorizeHeal(decideHeal(learned));
  const { decision, journal } = s;

  if (s.request.dry_run) return dryRun(s);
  if (decision.verdict === 'noop') return recordNoop(s);
  if (decision.verdict === 'suggest') return recordSuggestion(s);
  // The intent of the whole act: a replay resumes this decision instead of deciding again.
  await journal.done(DECIDE_STEP, { incident: s.incident, incidents: s.incidents, decision, grantId: s.grantId } satisfies DecidedIntent);
  return executeDecision(ctx, {
    repo: s.repo, repository: s.repository, config: s.config, envFile: s.envFile, incident: s.incident, incidents: s.incidents,
    decision, run: s.run, environment: s.environment, grantId: s.grantId, journal,
  });
}
