/**
 * What happened to each drill failure, read from the sandbox's own records — never from the App's
 * word: the run's attempts, the certificates on the repository's ledger branch, check runs, issues,
 * and the effects log (every secret write, re-run, issue and deletion, value-free).
 */
import { decodeCertificate } from '../core/certificate/index.js';
import type { CertificatePredicate } from '../core/schemas/index.js';
import { DASHBOARD_TITLE } from '../pipeline/dashboard.js';
import type { SandboxEffect, SandboxState } from '../sandbox/index.js';
import { EXPECTED, type DrillKind, type DrillOptions, type FailureRecord, type Outcome } from './types.js';

const LEDGER_BRANCH = 'refs/heads/bridge-ledger';
const ledgerCache = new Map<string, { head: string; predicates: CertificatePredicate[] }>();

/** The certificates on a repository's ledger branch (cached by the branch head). */
export function ledgerPredicates(state: SandboxState, fullName: string): CertificatePredicate[] {
  const [owner, repo] = fullName.split('/') as [string, string];
  const r = state.findRepo(owner, repo);
  const head = r?.refs.get(LEDGER_BRANCH);
  if (!r || !head) return [];
  const cached = ledgerCache.get(fullName);
  if (cached?.head === head) return cached.predicates;
  const commit = r.git.commit(head);
  const predicates: CertificatePredicate[] = [];
  if (commit) {
    for (const [path, entry] of r.git.flatten(commit.tree)) {
      if (!/(^|\/)certificates\/[^/]+\.json$/.test(path)) continue;
      try {
        predicates.push(decodeCertificate(JSON.parse(r.git.blob(entry.sha)!.content.toString('utf8'))).predicate);
      } catch {
        // not a certificate
      }
    }
  }
  ledgerCache.set(fullName, { head, predicates });
  return predicates;
}

const escalates = (p: CertificatePredicate): boolean =>
  p.action === 'ESCALATE' || ((p.decision as { steps?: string[] }).steps ?? []).includes('ESCALATE') || p.reason.includes('escalat');

/** The settled outcome of a failure, or null while it is still being handled. */
export function settledOutcome(state: SandboxState, rec: FailureRecord): Outcome | null {
  const [owner, repo] = rec.repo.split('/') as [string, string];
  const run = state.run(owner, repo, rec.runId);
  const latest = state.latestAttempt(run);
  const actions = ledgerPredicates(state, rec.repo).filter((p) => p.certificate_type === 'action' && p.run_id === rec.runId);
  if (actions.some(escalates)) return 'escalated';
  if (latest.conclusion === 'success' && actions.length > 0) return 'healed';
  const r = state.repo(owner, repo);
  const checks = [...r.checkRuns.values()];
  if (checks.some((c) => (c.output.title ?? '').startsWith('could not heal') && (c.output.summary ?? '').includes(`run ${rec.runId} `))) return 'dead';
  // Observe level records the decision on the ledger (one repository per such failure) and acts on nothing.
  if (EXPECTED[rec.kind] === 'hold' && (checks.length > 0 || r.refs.has(LEDGER_BRANCH))) return 'held';
  return null;
}

export interface KindRow {
  kind: DrillKind;
  expected: 'heal' | 'escalate' | 'hold';
  failures: number;
  healed: number;
  escalated: number;
  held: number;
  dead: number;
  lost: number;
  silent: number;
  healed_without_human: number;
  correctly_escalated: number;
  mttr_seconds: number | null;
}

export interface Defects { lost_deliveries: number; duplicate_acts: number; silent_failures: number; false_escalations: number; unsafe_acts: number }

export interface DrillReport {
  options: DrillOptions;
  kills: number;
  wall_seconds: number;
  faults_injected: Record<string, number>;
  rest_requests: { total: number; not_modified: number; per_failure: number };
  kinds: KindRow[];
  defects: Defects;
  /** Every non-zero defect, with the failure it was found on. */
  findings: string[];
  dead_letters: number;
  ok: boolean;
}

const share = (n: number, of: number) => (of === 0 ? 0 : n / of);

export function summarize(
  state: SandboxState,
  failures: FailureRecord[],
  run: { options: DrillOptions; kills: number; wallSeconds: number; requests: Record<string, number>; injected: Record<string, number>; effectsFrom: number; ownEffects: Set<number>; dead: { repository: string; run_id: number | null }[] },
): DrillReport {
  const findings: string[] = [];
  const defects: Defects = { lost_deliveries: 0, duplicate_acts: 0, silent_failures: 0, false_escalations: 0, unsafe_acts: 0 };
  for (const f of failures) {
    if (f.outcome === 'pending') {
      const certified = ledgerPredicates(state, f.repo).some((p) => p.run_id === f.runId);
      const dead = run.dead.some((d) => d.repository === f.repo && d.run_id === f.runId);
      f.outcome = dead ? 'dead' : certified ? 'silent' : 'lost';
    }
    if (f.outcome === 'lost') { defects.lost_deliveries++; findings.push(`lost: ${f.repo} run ${f.runId} (${f.kind}) left no record`); }
    if (f.outcome === 'silent') { defects.silent_failures++; findings.push(`silent: ${f.repo} run ${f.runId} (${f.kind}) is not green and nobody was asked (${whatHappened(state, f)})`); }
    if (f.outcome === 'escalated' && EXPECTED[f.kind] === 'heal') { defects.false_escalations++; findings.push(`false escalation: ${f.repo} run ${f.runId} (${f.kind})`); }
  }
  // Effects, failure by failure (in one repository failures come one after another: windows do not overlap).
  const effects = state.effects.filter((e) => e.seq > run.effectsFrom && !run.ownEffects.has(e.seq));
  const byRepo = new Map<string, FailureRecord[]>();
  for (const f of failures) byRepo.set(f.repo.toLowerCase(), [...(byRepo.get(f.repo.toLowerCase()) ?? []), f]);
  for (const [repo, list] of byRepo) {
    list.sort((a, b) => a.effectsFrom - b.effectsFrom);
    for (const [i, f] of list.entries()) {
      const until = list[i + 1]?.effectsFrom ?? Infinity;
      const mine = effects.filter((e) => e.repo === repo && e.seq > f.effectsFrom && e.seq <= until);
      const secretValues = new Set(mine.filter((e) => e.kind === 'secret').map((e) => e.sha256));
      const reruns = mine.filter((e) => e.kind === 'rerun').length;
      // The repository's one dashboard issue is not an act on this failure (it is counted per repository below).
      const issues = mine.filter((e) => e.kind === 'issue' && e.name !== DASHBOARD_TITLE).length;
      const certs = ledgerPredicates(state, f.repo).filter((p) => p.certificate_type === 'action' && p.run_id === f.runId && p.run_attempt === 1).length;
      const dup = Math.max(0, secretValues.size - 1) + Math.max(0, reruns - 1) + Math.max(0, issues - 1) + Math.max(0, certs - 1);
      if (dup) { defects.duplicate_acts += dup; findings.push(`duplicate: ${f.repo} run ${f.runId}: ${secretValues.size} secret values, ${reruns} re-runs, ${issues} issues, ${certs} action certificates`); }
      const unsafe = unsafeEffects(f.kind, mine);
      if (unsafe.length) { defects.unsafe_acts += unsafe.length; findings.push(`unsafe: ${f.repo} run ${f.runId} (${f.kind}): ${unsafe.map((e) => `${e.kind} ${e.name}`).join(', ')}`); }
    }
    const dashboards = effects.filter((e) => e.repo === repo && e.kind === 'issue' && e.name === DASHBOARD_TITLE).length;
    if (dashboards > 1) { defects.duplicate_acts += dashboards - 1; findings.push(`duplicate: ${repo}: ${dashboards} dashboard issues created`); }
  }
  const kinds: KindRow[] = run.options.kinds.map((kind) => {
    const mine = failures.filter((f) => f.kind === kind);
    const count = (o: Outcome) => mine.filter((f) => f.outcome === o).length;
    const healedTimes = mine.filter((f) => f.outcome === 'healed' && f.settledAt !== null).map((f) => (f.settledAt! - f.triggeredAt) / 1000);
    return {
      kind, expected: EXPECTED[kind], failures: mine.length,
      healed: count('healed'), escalated: count('escalated'), held: count('held'), dead: count('dead'), lost: count('lost'), silent: count('silent'),
      healed_without_human: share(count('healed'), mine.length),
      correctly_escalated: share(EXPECTED[kind] === 'escalate' ? count('escalated') : EXPECTED[kind] === 'hold' ? count('held') : 0, mine.length),
      mttr_seconds: healedTimes.length ? healedTimes.reduce((a, b) => a + b, 0) / healedTimes.length : null,
    };
  });
  let total = 0;
  let notModified = 0;
  for (const [k, n] of Object.entries(run.requests)) {
    if (k === 'total' || k === 'writes' || k.startsWith('chaos ')) continue;
    total += n;
    if (k.endsWith(' 304')) notModified += n;
  }
  return {
    options: run.options,
    kills: run.kills,
    wall_seconds: Math.round(run.wallSeconds * 10) / 10,
    faults_injected: run.injected,
    rest_requests: { total, not_modified: notModified, per_failure: failures.length ? Math.round(((total - notModified) / failures.length) * 10) / 10 : 0 },
    kinds,
    defects,
    findings,
    dead_letters: run.dead.length,
    ok: Object.values(defects).every((n) => n === 0),
  };
}

/** What the sandbox shows of one failure, for a finding: the run's attempts and its certificates. */
function whatHappened(state: SandboxState, f: FailureRecord): string {
  const [owner, repo] = f.repo.split('/') as [string, string];
  const run = state.run(owner, repo, f.runId);
  const attempts = run.attempts.map((a) => `${a.attempt} ${a.conclusion}`).join(', ');
  const certs = ledgerPredicates(state, f.repo)
    .filter((p) => p.run_id === f.runId)
    .map((p) => `${p.certificate_type} ${p.action}@${p.run_attempt ?? '-'}${p.certified ? '' : ' uncertified'}`)
    .join(', ');
  return `attempts: ${attempts}; certificates: ${certs || 'none'}`;
}

/** Acts that must never happen: a secret written for a wrong-credential (or code) failure, anything written at observe level, a deletion without prune. */
function unsafeEffects(kind: DrillKind, effects: SandboxEffect[]): SandboxEffect[] {
  return effects.filter((e) =>
    e.kind === 'secret-delete' || e.kind === 'variable-delete' ||
    (e.kind === 'secret' && (kind === 'wrong-credential' || kind === 'broken-code' || kind === 'observe-level')) ||
    (e.kind === 'rerun' && kind === 'observe-level'));
}
