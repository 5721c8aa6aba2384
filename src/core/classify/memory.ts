/**
 * Learning from outcomes and people, per repository (pure; storage is the ledger's `.bridge/classifier/memory.json`).
 *
 * - A human label (`/bridge label <signature> <kind>`) decides: that signature is classified as the label from then
 *   on, with the label cited in the summary. Labels are the ONLY way a signature becomes a write-leading kind
 *   (secret.missing / variable.missing).
 * - Outcomes only move `transient.network`: a signature healed by a re-run twice raises it; one whose heal did not
 *   last lowers it; a job that failed then passed on a re-run of the same commit is flaky evidence.
 */
import type { ClassifierMemory, Incident, IncidentKind, IncidentTarget, RunSighting, SignatureRecord } from '../schemas/index.js';
import { fingerprint } from './engine.js';

const refingerprint = (i: Incident, kind: IncidentKind, target: IncidentTarget | null): string =>
  fingerprint(kind, target, { repo: i.repo, job_name: i.evidence[0]?.job_name });

const MAX_SIGNATURES = 500;
const MAX_RUNS = 200;
/** A heal "did not last" when the same signature fails again within this long. */
const REGRESSION_WINDOW_MS = 24 * 3600 * 1000;
const LABEL_CONFIDENCE = 0.95;
const WRITE_KINDS: readonly IncidentKind[] = ['secret.missing', 'variable.missing'];

export const emptyClassifierMemory = (): ClassifierMemory => ({ version: 1, signatures: {}, runs: [] });

/** Keep the memory bounded: oldest-seen unlabelled signatures go first, labels are kept. */
function prune(m: ClassifierMemory): ClassifierMemory {
  const entries = Object.entries(m.signatures);
  if (entries.length <= MAX_SIGNATURES) return { ...m, runs: m.runs.slice(-MAX_RUNS) };
  const keep = entries.sort(([, a], [, b]) => Number(b.label !== null) - Number(a.label !== null) || b.last_seen.localeCompare(a.last_seen)).slice(0, MAX_SIGNATURES);
  return { ...m, signatures: Object.fromEntries(keep), runs: m.runs.slice(-MAX_RUNS) };
}

function recordFor(m: ClassifierMemory, signature: string, at: string, classifiedAs: IncidentKind): SignatureRecord {
  return m.signatures[signature] ?? {
    classified_as: classifiedAs, seen: 0, first_seen: at, last_seen: at, rerun_healed: 0, heal_regressed: 0,
    last_healed_at: null, flaky: 0, label: null, excerpt: [],
  };
}

/**
 * A failing run attempt was classified. Records the sighting (for the next attempt's outcome) and, if the same
 * signature had just been healed by a re-run, counts a regression: the heal did not last.
 */
export function recordFailure(m: ClassifierMemory, f: { signature: string; classifiedAs: IncidentKind; runId: number; attempt: number; at: Date; excerpt: string[] }): ClassifierMemory {
  const at = f.at.toISOString();
  const rec = recordFor(m, f.signature, at, f.classifiedAs);
  const regressed = rec.last_healed_at !== null && f.at.getTime() - Date.parse(rec.last_healed_at) < REGRESSION_WINDOW_MS;
  const next: SignatureRecord = {
    ...rec,
    classified_as: rec.label ? rec.classified_as : f.classifiedAs,
    seen: rec.seen + 1,
    last_seen: at,
    heal_regressed: rec.heal_regressed + (regressed ? 1 : 0),
    last_healed_at: regressed ? null : rec.last_healed_at,
    excerpt: f.excerpt.slice(0, 3).map((l) => l.slice(0, 300)),
  };
  const runs: RunSighting[] = [...m.runs.filter((r) => !(r.run_id === f.runId && r.attempt === f.attempt)), { run_id: f.runId, attempt: f.attempt, signature: f.signature, at }];
  return prune({ ...m, signatures: { ...m.signatures, [f.signature]: next }, runs });
}

/**
 * A run attempt passed. If an earlier attempt of the same run (same commit, nothing changed) failed with a known
 * signature, that is flaky evidence; when Living Bridge's own re-run did it, it is also a heal by re-run.
 */
export function recordSuccess(m: ClassifierMemory, s: { runId: number; attempt: number; at: Date; rerunByLivingBridge: boolean }): ClassifierMemory {
  const before = [...m.runs].reverse().find((r) => r.run_id === s.runId && r.attempt < s.attempt);
  if (!before) return m;
  const rec = m.signatures[before.signature];
  if (!rec) return m;
  const next: SignatureRecord = {
    ...rec,
    flaky: rec.flaky + 1,
    rerun_healed: rec.rerun_healed + (s.rerunByLivingBridge ? 1 : 0),
    last_healed_at: s.rerunByLivingBridge ? s.at.toISOString() : rec.last_healed_at,
  };
  return { ...m, signatures: { ...m.signatures, [before.signature]: next }, runs: m.runs.filter((r) => r.run_id !== s.runId) };
}

/** A writer's label. */
export function recordLabel(m: ClassifierMemory, l: { signature: string; kind: IncidentKind; by: string; at: Date }): ClassifierMemory {
  const at = l.at.toISOString();
  const rec = recordFor(m, l.signature, at, 'unknown');
  return prune({ ...m, signatures: { ...m.signatures, [l.signature]: { ...rec, label: { kind: l.kind, by: l.by, at } } } });
}

/** How outcomes move transient.network for a record (never any other kind). */
export function transientAdjustment(rec: SignatureRecord): number {
  const up = (rec.rerun_healed >= 2 ? 0.15 + 0.05 * Math.min(rec.rerun_healed - 2, 2) : 0) + (rec.flaky > 0 ? 0.1 * Math.min(rec.flaky, 2) : 0);
  return up - 0.2 * rec.heal_regressed;
}

/**
 * Incidents as the repository's memory says: a label replaces the classification (cited in the summary);
 * otherwise outcomes adjust transient.network only. Incidents without a signature, or unknown signatures, pass.
 */
export function applyLearning(incidents: Incident[], memory: ClassifierMemory): Incident[] {
  const sig = incidents[0]?.signature;
  if (!sig) return incidents;
  const rec = memory.signatures[sig];
  if (!rec) return incidents;
  if (rec.label) {
    const kind = rec.label.kind;
    const same = incidents.find((i) => i.kind === kind);
    const base = same ?? incidents[0]!;
    const labelled: Incident = {
      ...base,
      kind,
      target: same ? same.target : null,
      fingerprint: same ? same.fingerprint : refingerprint(base, kind, null),
      confidence: LABEL_CONFIDENCE,
      summary: `Labelled \`${kind}\` by @${rec.label.by} on ${rec.label.at.slice(0, 10)} (failure signature ${sig}): this failure is classified that way in this repository from then on. ` +
        `The classifier alone said ${incidents[0]!.kind === kind ? 'the same' : `\`${incidents[0]!.kind}\``}.`,
    };
    return [labelled, ...incidents.filter((i) => i !== same).map((i) => ({ ...i, confidence: Math.min(i.confidence, 0.45) }))];
  }
  const delta = transientAdjustment(rec);
  if (delta === 0) return incidents;
  const top = incidents[0]!;
  const why = `Memory of signature ${sig}: healed by re-run ${rec.rerun_healed}x, passed on a re-run of the same commit ${rec.flaky}x, heal did not last ${rec.heal_regressed}x.`;
  const existing = incidents.find((i) => i.kind === 'transient.network');
  if (existing) {
    const moved = { ...existing, confidence: clamp(existing.confidence + delta), summary: `${existing.summary} ${why}` };
    return sortByConfidence([moved, ...incidents.filter((i) => i !== existing)]);
  }
  // Outcomes may suggest a transient failure where the rules saw none, but never over a write-leading answer, and
  // never as a confident fix: a first suggestion starts at 0.5 + the evidence.
  if (delta <= 0 || WRITE_KINDS.includes(top.kind)) return incidents;
  const suggested: Incident = { ...top, kind: 'transient.network', target: null, fingerprint: refingerprint(top, 'transient.network', null), confidence: clamp(0.45 + delta), summary: `A transient failure, by this repository's history. ${why}` };
  return sortByConfidence([suggested, ...incidents]);
}

const clamp = (x: number): number => Math.round(Math.min(0.95, Math.max(0.05, x)) * 100) / 100;
const sortByConfidence = (xs: Incident[]): Incident[] => [...xs].sort((a, b) => b.confidence - a.confidence);

/** `applyLearning` for incidents of several jobs: each job's incidents (one signature) are adjusted on their own. */
export function applyLearningAll(incidents: Incident[], memory: ClassifierMemory): Incident[] {
  const groups: Incident[][] = [];
  for (const i of incidents) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.signature === i.signature && last[0]!.evidence[0]?.job_id === i.evidence[0]?.job_id) last.push(i);
    else groups.push([i]);
  }
  return groups.flatMap((g) => applyLearning(g, memory));
}
