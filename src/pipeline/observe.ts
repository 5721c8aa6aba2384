import type { ActionKind, ActionRecord, Decision, GovernorState } from '../core/schemas/index.js';
import type { HealResult } from './context.js';

/**
 * What the pipeline tells the outside world about its work (the Genesis Bus's event names).
 * Metrics, webhook subscribers and the dashboard issue all listen to these; the pipeline knows none
 * of them. Events carry names, numbers and links only: never a secret's value, never evidence text.
 */
export type BridgeEventType =
  | 'autonomy.decision'
  | 'autonomy.heal.applied'
  | 'autonomy.heal.error'
  | 'autonomy.escalated'
  | 'autonomy.sync.applied'
  | 'autonomy.outcome';

export const BRIDGE_EVENT_TYPES: readonly BridgeEventType[] = [
  'autonomy.decision', 'autonomy.heal.applied', 'autonomy.heal.error', 'autonomy.escalated', 'autonomy.sync.applied', 'autonomy.outcome',
];

interface EventBase { repository: string; at: string; door: string }

export interface DecisionEvent extends EventBase {
  type: 'autonomy.decision';
  run_id: number | null;
  verdict: Decision['verdict'];
  action: ActionKind;
  steps: ActionKind[];
  /** The guardrail a noop stopped at ('none' when no guardrail applied). */
  guardrail: string;
  reason: string;
  incident_kind: string;
  target: string | null;
  /** The chosen candidate's numbers, as the Governor scored them. */
  score: number | null;
  predicted_success: number | null;
}

export interface HealEvent extends EventBase {
  type: 'autonomy.heal.applied' | 'autonomy.heal.error' | 'autonomy.escalated';
  run_id: number | null;
  status: HealResult['status'];
  steps: ActionKind[];
  /** One entry per engine step that ran, in order. */
  acts: { action: ActionKind; ok: boolean }[];
  certificate_hash: string | null;
  comment_url: string | null;
  issue_url: string | null;
  /** Who approved it when a human did (`/bridge approve`); null for a heal without a human. */
  approved_by: string | null;
  summary: string;
}

export interface SyncEvent extends EventBase {
  type: 'autonomy.sync.applied';
  applied: number;
  failed: number;
  skipped: number;
  certificate_hash: string | null;
}

export interface OutcomeEvent extends EventBase {
  type: 'autonomy.outcome';
  run_id: number;
  run_attempt: number;
  action: ActionKind;
  outcome: 'success' | 'failure';
  /** The EMA of every action after learning from this outcome. */
  ema: Partial<Record<ActionKind, number>>;
  /** Seconds from the action on the failed run (its certificate) to the green run's outcome certificate. */
  recovery_seconds: number | null;
  certificate_hash: string;
}

export type BridgeEvent = DecisionEvent | HealEvent | SyncEvent | OutcomeEvent;

/** The observe port. `emit` must not throw and must not block the flow. */
export interface Observer {
  emit(event: BridgeEvent): void;
}

export const NO_OBSERVER: Observer = { emit: () => undefined };

/** Several listeners behind one port; one listener's failure does not reach the others or the flow. */
export function fanOut(...observers: Observer[]): Observer {
  return {
    emit(event) {
      for (const o of observers) {
        try {
          o.emit(event);
        } catch {
          // An observer's bug must never change what the pipeline did.
        }
      }
    },
  };
}

/** The events one heal result stands for: its decision, then what became of it. */
export function eventsOfHeal(result: HealResult, base: EventBase & { run_id: number | null; approved_by?: string | null }): BridgeEvent[] {
  const d = result.decision;
  if (!d) return [];
  const chosen = d.candidates.find((c) => c.action === d.action);
  const out: BridgeEvent[] = [];
  // An approval executes a decision already announced as a suggestion: it is not a new decision.
  if (!base.approved_by) {
    out.push({
      type: 'autonomy.decision',
      repository: base.repository,
      at: base.at,
      door: base.door,
      run_id: base.run_id,
      verdict: d.verdict,
      action: d.action,
      steps: d.steps,
      guardrail: d.guardrail ?? 'none',
      reason: d.reason,
      incident_kind: d.incident_kind,
      target: d.target?.name ?? null,
      score: chosen?.score ?? null,
      predicted_success: chosen?.predicted_success ?? null,
    });
  }
  const type = result.status === 'healed' ? 'autonomy.heal.applied' : result.status === 'escalated' ? 'autonomy.escalated' : result.status === 'failed' ? 'autonomy.heal.error' : null;
  if (type) {
    out.push({
      type,
      repository: base.repository,
      at: base.at,
      door: base.door,
      run_id: base.run_id,
      status: result.status,
      steps: d.steps,
      acts: result.reports.map((r) => ({ action: r.action, ok: r.ok })),
      certificate_hash: result.certificate?.certificate_hash ?? null,
      comment_url: result.commentUrl,
      issue_url: result.issueUrl,
      approved_by: base.approved_by ?? null,
      summary: result.summary,
    });
  }
  return out;
}

/** The outcome a run's conclusion stood for, once the Governor has learned from it. */
export function outcomeEventOf(
  ctx: { now(): Date; door: string },
  repository: string,
  run: { id: number; run_attempt: number; conclusion: string | null },
  judged: { action: ActionRecord; certificateHash: string },
  state: GovernorState,
): OutcomeEvent {
  const outcome = run.conclusion === 'success' ? 'success' : 'failure';
  const learnedAt = ctx.now();
  const actedAt = Date.parse(judged.action.at);
  return {
    type: 'autonomy.outcome',
    repository,
    at: learnedAt.toISOString(),
    door: ctx.door,
    run_id: run.id,
    run_attempt: run.run_attempt,
    action: judged.action.action,
    outcome,
    ema: { ...state.ema },
    recovery_seconds: outcome === 'success' && Number.isFinite(actedAt) ? Math.max(0, (learnedAt.getTime() - actedAt) / 1000) : null,
    certificate_hash: judged.certificateHash,
  };
}
