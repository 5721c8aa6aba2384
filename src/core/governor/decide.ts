import type { ActionKind, AutonomyLevel } from '../schemas/common.js';
import type { Decision, Guardrail, ScoredCandidate } from '../schemas/decision.js';
import type { GovernorState } from '../schemas/governor-state.js';
import type { Incident } from '../schemas/incident.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import { candidatesForIncident } from './candidates.js';
import { BALANCED_EXECUTES, SECRET_MIN_CONFIDENCE } from './constants.js';
import { cooldownKey, levelFor, targetKey } from './keys.js';
import type { OutageHold } from './outage.js';
import {
  cooldownInfo,
  cooldownMs,
  emaOf,
  predictionDetail,
  weightOf,
  type CooldownInfo,
  type PredictionDetail,
} from './scoring.js';
import { scanFromIndex } from './log-index.js';
import { scanLog } from './scan.js';
import { iso, toMs } from './time.js';

export interface DecideInput {
  incident: Incident;
  state: GovernorState;
  config: RepoConfig;
  now: Date;
  /** `owner/name`. */
  repository: string;
  /** Deployment environment of the failed run; falls back to `incident.environment`. */
  environment?: string;
  /** The door's global switch (e.g. an org-wide kill switch); false halts like `state.halted`. */
  autonomyEnabled?: boolean;
  /**
   * The level the run's resolved environment(s) allow (levelForResolution: the strictest of them, or
   * of every declared environment when unresolved). Absent: the level of `environment`.
   */
  level?: AutonomyLevel;
  /**
   * An outage hold on this incident's transient signature (outage.ts: several repositories of the
   * installation failing alike within minutes): re-runs are held. Absent: no hold.
   */
  outage?: OutageHold | null;
}

/** Actions the rate limit and cooldowns count and stop. ESCALATE and NOOP are exempt. */
const isLimited = (a: ActionKind): boolean => a !== 'ESCALATE' && a !== 'NOOP';

interface Scored {
  candidate: ScoredCandidate;
  steps: ActionKind[];
  index: number;
  key: string;
  cooldown: CooldownInfo;
  prediction: PredictionDetail;
}

const f2 = (n: number): string => n.toFixed(2);
/** Up to 4 decimals, no trailing zeros: for thresholds, where 0.2999 must not print as 0.30. */
const f4 = (n: number): string => String(Math.round(n * 10_000) / 10_000);
const minutes = (ms: number): string => f4(ms / 60_000);

function scoreOne(
  state: GovernorState,
  config: RepoConfig,
  incident: Incident,
  steps: ActionKind[],
  index: number,
  key: string,
  lastMs: number | null,
  nowMs: number,
): Scored {
  const action = steps[0] ?? 'NOOP';
  const adaptive = config.blueprint.mode === 'adaptive';
  const ema = emaOf(state, action);
  // ESCALATE is never cooled down: the half-open circuit is what keeps it from repeating.
  const cooldown = isLimited(action)
    ? cooldownInfo(lastMs, cooldownMs(config, action), nowMs)
    : cooldownInfo(null, 0, nowMs);
  const weight = adaptive ? weightOf(state, action) : 1;
  const prediction = predictionDetail(state, incident.kind, action);
  const score = weight * (ema - cooldown.penalty);
  return {
    candidate: {
      action,
      ema,
      cooldown_penalty: cooldown.penalty,
      weight,
      predicted_success: prediction.p,
      score,
      steps,
    },
    steps,
    index,
    key,
    cooldown,
    prediction,
  };
}

const byScore = (a: Scored, b: Scored): number =>
  b.candidate.score - a.candidate.score || a.index - b.index;
const byPrediction = (a: Scored, b: Scored): number =>
  b.candidate.predicted_success - a.candidate.predicted_success || byScore(a, b);

function explainScore(s: Scored, incident: Incident): string {
  const c = s.candidate;
  const head = [c.action + (incident.target ? ` ${incident.target.name}` : ''), ...s.steps.slice(1)].join(' → ');
  const formula =
    c.weight === 1
      ? `score ${f2(c.score)} = EMA ${f2(c.ema)} − cooldown ${f2(c.cooldown_penalty)}`
      : `score ${f2(c.score)} = weight ${f2(c.weight)} × (EMA ${f2(c.ema)} − cooldown ${f2(c.cooldown_penalty)})`;
  const p = s.prediction;
  return (
    `${head}: ${formula}; predicted success ${f2(p.p)} ` +
    `(${p.successes} successes, ${p.failures} failures, prior Beta(${p.alpha},${p.beta}))`
  );
}

/** The fields every decision of one call shares. */
type DecisionBase = Pick<
  Decision,
  | 'incident_kind'
  | 'target'
  | 'incident_fingerprint'
  | 'policy_version'
  | 'blueprint_mode'
  | 'decided_at'
  | 'target_key'
  | 'environment'
  | 'autonomy_level'
>;

// Module-level helpers rather than closures inside decide(): no function objects per call
// (and no per-call `__name` bookkeeping when a bundler keeps function names).

function noopDecision(
  base: DecisionBase,
  guardrail: Guardrail | null,
  reason: string,
  proposed: ActionKind[],
  candidates: ScoredCandidate[],
  key: string,
): Decision {
  const d = actDecision(base, 'noop', [], guardrail, reason, key, candidates, null, false);
  d.proposed_steps = proposed;
  return d;
}

/**
 * A decision (noops too, through noopDecision). Spelled out field by field rather than spread from
 * `base`: spreading into a 20-field literal was most of decide()'s cost.
 */
function actDecision(
  base: DecisionBase,
  verdict: Decision['verdict'],
  steps: ActionKind[],
  guardrail: Guardrail | null,
  reason: string,
  key: string,
  candidates: ScoredCandidate[],
  because: 'level' | 'prediction' | 'confidence' | null,
  probe: boolean,
): Decision {
  return {
    verdict,
    action: steps[0] ?? 'NOOP',
    steps,
    guardrail,
    reason,
    incident_kind: base.incident_kind,
    target: base.target,
    incident_fingerprint: base.incident_fingerprint,
    cooldown_key: key,
    candidates,
    policy_version: base.policy_version,
    blueprint_mode: base.blueprint_mode,
    decided_at: base.decided_at,
    target_key: base.target_key,
    environment: base.environment,
    autonomy_level: base.autonomy_level,
    suggested_because: because,
    probe,
  };
}

function escalateDecision(
  base: DecisionBase,
  input: DecideInput,
  level: AutonomyLevel,
  escalateKey: string,
  guardrail: Guardrail,
  why: string,
): Decision {
  const scored = scoreOne(input.state, input.config, input.incident, ['ESCALATE'], 0, escalateKey, null, input.now.getTime());
  if (level === 'observe') {
    return noopDecision(base, guardrail, `observe level: recorded only; would escalate: ${why}`, ['ESCALATE'], [scored.candidate], escalateKey);
  }
  return actDecision(base, 'execute', ['ESCALATE'], guardrail, `${why}; level ${level} → execute ESCALATE`, escalateKey, [scored.candidate], null, false);
}

/**
 * The Governor: guardrails → candidates → score → verdict. Pure and deterministic:
 * the same input gives a deep-equal Decision, and the input is never mutated.
 */
export function decide(input: DecideInput): Decision {
  const { incident, state, config, now, repository } = input;
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const environment = input.environment ?? incident.environment ?? null;
  const level: AutonomyLevel = input.level ?? levelFor(config, environment);
  const tKey = targetKey(repository, incident);

  const base: DecisionBase = {
    incident_kind: incident.kind,
    target: incident.target,
    incident_fingerprint: incident.fingerprint,
    policy_version: state.policy.version,
    blueprint_mode: config.blueprint.mode,
    decided_at: nowIso,
    target_key: tKey,
    environment,
    autonomy_level: level,
  };

  // (1) Halted: the kill switch beats everything, escalation included.
  if (state.halted || !config.enabled || input.autonomyEnabled === false) {
    const why = state.halted
      ? `governor halted${state.halted_reason ? `: ${state.halted_reason}` : ''}`
      : !config.enabled
        ? 'autonomy disabled in .github/autonomy.yml (enabled: false)'
        : 'autonomy disabled for this installation';
    return noopDecision(base, 'halted', `halted: ${why}; nothing is done`, [], [], cooldownKey(repository, environment, incident.kind, 'NOOP'));
  }

  const menu = candidatesForIncident(incident, config);
  const leads = menu.lists.map((l) => l[0] ?? 'NOOP');
  const keys = leads.map((a) => cooldownKey(repository, environment, incident.kind, a));
  const escalateKey = cooldownKey(repository, environment, incident.kind, 'ESCALATE');
  const scan =
    scanFromIndex(state.actions, repository, incident.fingerprint, leads, keys, nowMs) ??
    scanLog(state, repository, incident, leads, keys, nowMs, nowIso);

  // (2) The circuit of this target. Open (escalated): wait out the cool-off, then one probe.
  // Closed: too many failed outcomes or a failure that keeps coming back → escalate.
  let probe = false;
  const esc = state.escalations[tKey];
  if (esc) {
    const escMs = toMs(esc.at);
    const coolMs = config.limits.half_open_after_minutes * 60_000;
    const openUntil = Number.isNaN(escMs) ? nowMs : escMs + coolMs;
    if (nowMs < openUntil) {
      return noopDecision(
        base,
        'half_open',
        `half-open: ${tKey} escalated at ${esc.at}; one probe allowed after ${config.limits.half_open_after_minutes} min ` +
          `(${minutes(openUntil - nowMs)} min left)`,
        [],
        [],
        escalateKey,
      );
    }
    if (esc.probe_used) {
      return noopDecision(
        base,
        'half_open',
        `half-open: the probe after the escalation of ${tKey} at ${esc.at} is still awaiting its run's conclusion`,
        [],
        [],
        escalateKey,
      );
    }
    probe = true;
  } else {
    const streak = state.fail_streaks[tKey] ?? 0;
    if (streak >= config.limits.max_fail_streak) {
      return escalateDecision(
        base,
        input,
        level,
        escalateKey,
        'fail_streak',
        `fail streak ${streak} ≥ max_fail_streak ${config.limits.max_fail_streak} on ${tKey}: escalating to a human`,
      );
    }
    const stored = state.recurrences[incident.fingerprint] ?? 0;
    const recurrences = stored + scan.unstickedSuccesses;
    if (recurrences >= config.limits.recurrence_limit) {
      return escalateDecision(
        base,
        input,
        level,
        escalateKey,
        'recurrence',
        `recurrence: failure ${incident.fingerprint} came back ${recurrences} time(s) after a "successful" heal ` +
          `(${stored} counted, ${scan.unstickedSuccesses} now) ≥ recurrence_limit ${config.limits.recurrence_limit}: escalating`,
      );
    }
  }

  // Candidates, scored: score = weight × (EMA − cooldown penalty).
  const scored = menu.lists.map((steps, i) =>
    scoreOne(state, config, incident, steps, i, keys[i] ?? escalateKey, scan.lastByCandidate[i] ?? null, nowMs),
  );
  const ranked = [...scored].sort(config.blueprint.mode === 'predictive' ? byPrediction : byScore);
  const candidates = ranked.map((s) => s.candidate);
  const best = ranked[0] as Scored; // the menu is never empty
  const lead = best.candidate.action;
  const notes = menu.notes.length ? `; ${menu.notes.join('; ')}` : '';
  const probeNote = probe ? `half-open probe (the one action allowed after the escalation at ${esc?.at}); ` : '';
  const modeNote = config.blueprint.mode === 'predictive' && ranked.length > 1 ? '; predictive: ranked by predicted success' : '';
  const explained = `${probeNote}${explainScore(best, incident)}${modeNote}${notes}`;

  // (2c) An outage: re-running only adds load until one of the failing repositories succeeds.
  if (lead === 'RERUN' && input.outage) {
    const o = input.outage;
    return noopDecision(
      base,
      'outage',
      `outage: ${o.repositories.length} repositories of this installation failed with signature ${o.signature} within minutes ` +
        `(held since ${o.since}: ${o.repositories.join(', ')}); re-runs wait until one of them succeeds; would do ${explained}`,
      best.steps,
      candidates,
      best.key,
    );
  }

  // (3) Rate limit and (4) cooldown, on the chosen action. Escalation is never silenced by them.
  if (isLimited(lead)) {
    if (scan.recentActions >= config.limits.max_actions_per_hour) {
      return noopDecision(
        base,
        'rate_limited',
        `rate limited: ${scan.recentActions} action(s) in the last hour ≥ max_actions_per_hour ` +
          `${config.limits.max_actions_per_hour}; would do ${explained}`,
        best.steps,
        candidates,
        best.key,
      );
    }
    if (best.cooldown.active) {
      return noopDecision(
        base,
        'cooldown',
        `cooldown: ${lead} for ${incident.kind} in ${environment ?? 'no environment'} until ` +
          `${iso(best.cooldown.untilMs ?? nowMs)} (${minutes(best.cooldown.remainingMs)} of ` +
          `${minutes(best.cooldown.totalMs)} min left); would do ${explained}`,
        best.steps,
        candidates,
        best.key,
      );
    }
  }

  // Verdict: autonomy level, then what wants a human's eyes regardless of level.
  if (level === 'observe') {
    return noopDecision(base, null, `observe level: recorded only; would do ${explained}`, best.steps, candidates, best.key);
  }
  let verdict: 'execute' | 'suggest' = 'execute';
  let because: 'level' | 'prediction' | 'confidence' | null = null;
  let tail = `; level ${level} → execute`;
  if (lead !== 'ESCALATE') {
    const min = config.prediction.min_success_probability;
    if (incident.kind === 'secret.missing' && incident.confidence < SECRET_MIN_CONFIDENCE) {
      verdict = 'suggest';
      because = 'confidence';
      tail = `; level ${level}; classification confidence ${f4(incident.confidence)} < ${SECRET_MIN_CONFIDENCE} → suggest`;
    } else if (best.prediction.p < min) {
      verdict = 'suggest';
      because = 'prediction';
      tail = `; level ${level}; predicted success ${f4(best.prediction.p)} < min_success_probability ${f4(min)} → suggest`;
    } else if (level === 'suggest' || (level === 'balanced' && !BALANCED_EXECUTES.has(lead))) {
      verdict = 'suggest';
      because = 'level';
      tail = `; level ${level} → suggest (${lead} needs a human's approval or a grant)`;
    }
  }
  return actDecision(base, verdict, best.steps, null, `${explained}${tail}`, best.key, candidates, because, probe);
}
