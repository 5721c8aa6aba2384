/**
 * ESCALATE: one GitHub issue per incident fingerprint, found again by a hidden marker and updated in
 * place (reopened when closed, occurrences counted), telling a human what failed, what was tried,
 * what the Governor decided and what to do. Also renders the postmortem kept in the ledger.
 */
import type { Decision, Incident, RepoRef } from '../core/schemas/index.js';
import { repoFullName } from '../core/schemas/index.js';
import { targetKey } from '../core/governor/keys.js';
import type { EngineReport } from '../ports/index.js';
import type { EnsuredIssue, IssueRef, IssuesPort } from '../ports/index.js';
import { contentDigest } from './fingerprint.js';
import { fromPortError, type EngineResult } from './report.js';

export const ESCALATION_LABELS: readonly string[] = ['living-bridge', 'needs-human'];
/** GitHub rejects issue bodies above 65536 characters; stay well below. */
const MAX_BODY = 60_000;
const MAX_EVIDENCE_LINES = 20;
const MAX_EVIDENCE_LINE = 500;
const MAX_OCCURRENCE_LINES = 20;

export interface EscalatePlan {
  repo: RepoRef;
  incident: Incident;
  decision: Decision;
  /** What was tried before escalating, one line each (e.g. "CREATE_SECRET: set DEPLOY_TOKEN ..."). */
  tried: string[];
  /** What a human should do, e.g. missingSourceMessage(name) or "set X in the Living Bridge environment". */
  instruction: string;
  runUrl?: string;
  ledgerLink?: string;
}

export type EscalateReport = EngineResult<{
  issue?: IssueRef & { created: boolean; reopened: boolean; occurrences: number };
  /** Markdown for the ledger's postmortems/ directory. */
  postmortem: string;
  /** Suggested path of the postmortem under the ledger root. */
  postmortemPath: string;
}>;

/** The hidden marker identifying the issue of an incident fingerprint. */
export function incidentMarker(fingerprint: string): string {
  return `<!-- living-bridge:incident:${safeToken(fingerprint)} -->`;
}

/**
 * The hidden marker of a root cause, which has one issue: the Governor's target (`targetKey`: the
 * repository and the secret/variable/config named, else the incident fingerprint). A secret first
 * missing and then rejected, or failing in two jobs, is one root cause.
 */
export function rootCauseMarker(repository: string, incident: Pick<Incident, 'target' | 'fingerprint'>): string {
  return `<!-- living-bridge:root-cause:${contentDigest(targetKey(repository, incident)).slice(7, 23)} -->`;
}

/** What `healsWithMarker` is found by: the workflow and branch whose next green run heals the issue. */
export function healsWithNeedle(workflowName: string, branch: string | null | undefined): string {
  return `living-bridge:heals-with:${contentDigest(`${workflowName}\n${branch ?? '-'}`).slice(7, 23)} `;
}

/** `<!-- living-bridge:heals-with:<workflow+branch> after-run:<id>.<attempt> -->`, or null without a run. */
export function healsWithMarker(incident: Pick<Incident, 'run'>): string | null {
  const run = incident.run;
  if (!run?.workflow_name) return null;
  return `<!-- ${healsWithNeedle(run.workflow_name, run.head_branch)}after-run:${run.id}.${run.attempt} -->`;
}

/** Keeps a token usable inside an HTML comment and a path (no "-->", no spaces). */
function safeToken(s: string): string {
  return s.replace(/[^A-Za-z0-9:._-]/g, '_').replace(/--+/g, '-');
}

/** "@someone" in log-derived text must not ping anyone. */
function noMentions(s: string): string {
  return s.replace(/@(?=[A-Za-z0-9])/g, '@\u200b');
}

const inlineCode = (s: string): string => {
  const clean = s.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = '`'.repeat(longest + 1);
  return longest > 0 ? `${ticks} ${clean} ${ticks}` : `\`${clean}\``;
};

function fenced(lines: string[], lang = 'text'): string {
  const body = lines.join('\n');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

function targetText(incident: Incident): string {
  return incident.target ? `${incident.target.type} ${inlineCode(incident.target.name)}` : 'no specific target';
}

function evidenceLines(incident: Incident, max = MAX_EVIDENCE_LINES): string[] {
  const lines = incident.evidence.slice(0, max).map((e) => {
    const where = [e.job_name, e.step].filter(Boolean).join(' / ');
    const text = e.text.length > MAX_EVIDENCE_LINE ? `${e.text.slice(0, MAX_EVIDENCE_LINE)}…` : e.text;
    return `${where ? `[${where}] ` : ''}L${e.line}: ${text.replace(/[\r\n]+/g, ' ')}`;
  });
  if (incident.evidence.length > max) lines.push(`… ${incident.evidence.length - max} more line(s) in the run log`);
  return lines;
}

function decisionLines(decision: Decision): string[] {
  const head = `**${decision.action}** (verdict ${decision.verdict}${decision.guardrail ? `, guardrail ${decision.guardrail}` : ''}): ${noMentions(decision.reason)}`;
  const out = [head];
  if (decision.steps.length > 1) out.push(`Planned steps: ${decision.steps.join(' → ')}`);
  if (decision.candidates.length > 0) {
    out.push('', '| candidate | score | EMA | cooldown penalty | weight | predicted success |', '|---|---:|---:|---:|---:|---:|');
    for (const c of decision.candidates) {
      out.push(`| ${c.action} | ${c.score.toFixed(3)} | ${c.ema.toFixed(3)} | ${c.cooldown_penalty.toFixed(3)} | ${c.weight.toFixed(3)} | ${c.predicted_success.toFixed(3)} |`);
    }
  }
  out.push('', `Policy v${decision.policy_version}, blueprint ${decision.blueprint_mode}, decided at ${decision.decided_at}, cooldown key ${inlineCode(decision.cooldown_key)}.`);
  return out;
}

function runText(incident: Incident, runUrl?: string): string | null {
  const run = incident.run;
  if (!run) return runUrl ? `[workflow run](${runUrl})` : null;
  const label = `run ${run.id}, attempt ${run.attempt}`;
  const url = runUrl ?? run.html_url;
  return url ? `[${label}](${url})` : label;
}

const OCC_START = '<!-- living-bridge:occurrences:start -->';
const OCC_END = '<!-- living-bridge:occurrences:end -->';
const COUNT_RE = /<!-- living-bridge:occurrences:(\d+) -->/;

function occurrenceLine(plan: EscalatePlan): string {
  const run = plan.incident.run;
  return `- ${plan.decision.decided_at}: ${run ? `run ${run.id} attempt ${run.attempt}` : 'no run'}, decision ${plan.decision.action}${plan.decision.guardrail ? ` (${plan.decision.guardrail})` : ''}`;
}

/** Occurrence count and lines recorded in an earlier body of the issue. */
export function parseOccurrences(body: string): { count: number; lines: string[] } {
  const count = Number(COUNT_RE.exec(body)?.[1] ?? 0);
  const start = body.indexOf(OCC_START);
  const end = body.indexOf(OCC_END);
  const lines = start >= 0 && end > start
    ? body.slice(start + OCC_START.length, end).split('\n').filter((l) => l.startsWith('- '))
    : [];
  return { count: Number.isFinite(count) ? count : 0, lines };
}

export function escalationTitle(incident: Incident): string {
  const target = incident.target ? ` on ${incident.target.type} ${incident.target.name}` : '';
  const title = `Living Bridge needs a human: ${incident.kind}${target}`;
  return title.length > 250 ? `${title.slice(0, 249)}…` : title;
}

/** The issue body. `occurrences` lines are oldest first; the last one is this occurrence. */
export function renderEscalationBody(plan: EscalatePlan, occurrences: { count: number; lines: string[] }): string {
  const { incident } = plan;
  const render = (evidenceMax: number): string => {
    const facts = [
      `**What failed:** ${inlineCode(incident.kind)} on ${targetText(incident)} (confidence ${incident.confidence.toFixed(2)})`,
      `**Repository:** ${repoFullName(plan.repo)}${incident.environment ? ` · **Environment:** ${inlineCode(incident.environment)}` : ''}`,
    ];
    const run = runText(incident, plan.runUrl);
    if (run) facts.push(`**Run:** ${run}${incident.run?.head_sha ? ` · commit ${incident.run.head_sha.slice(0, 7)}` : ''}${incident.run?.head_branch ? ` on ${inlineCode(incident.run.head_branch)}` : ''}`);

    const sections = [
      incidentMarker(incident.fingerprint),
      ...(healsWithMarker(incident) ? [healsWithMarker(incident) as string] : []),
      '## Living Bridge needs a human',
      '',
      facts.join('  \n'),
      '',
      incident.summary ? `> ${noMentions(incident.summary).replace(/\n/g, '\n> ')}` : '',
      '',
      '### Evidence (masked)',
      incident.evidence.length > 0 ? fenced(evidenceLines(incident, evidenceMax)) : '_No log lines were captured._',
      '',
      '### What was tried',
      plan.tried.length > 0 ? plan.tried.map((t) => `- ${noMentions(t)}`).join('\n') : '- Nothing: the Governor escalated without acting.',
      '',
      '### Decision',
      ...decisionLines(plan.decision),
      '',
      '### What a human should do',
      plan.instruction,
      '',
      '### Links',
      ...[
        run ? `- Run: ${run}` : null,
        plan.ledgerLink ? `- Ledger (certificates, state, postmortem): ${plan.ledgerLink}` : null,
        `- Incident fingerprint: ${inlineCode(incident.fingerprint)}`,
        incident.signature ? `- Failure signature: ${inlineCode(incident.signature)} — to correct the classification, comment \`/bridge label ${incident.signature} <kind>\`` : null,
      ].filter((l): l is string => l !== null),
      '',
      '### Occurrences',
      `<!-- living-bridge:occurrences:${occurrences.count} -->`,
      `Seen ${occurrences.count} time${occurrences.count === 1 ? '' : 's'}.`,
      OCC_START,
      ...occurrences.lines.slice(-MAX_OCCURRENCE_LINES),
      OCC_END,
      '',
      incident.run
        ? '<sub>Opened by Living Bridge. It updates this issue when the same root cause fails again, and closes it with a comment when this workflow\'s next run on this branch succeeds.</sub>'
        : '<sub>Opened by Living Bridge. It updates this issue when the same root cause fails again; close it once fixed.</sub>',
    ];
    return sections.join('\n');
  };
  let max = MAX_EVIDENCE_LINES;
  let body = render(max);
  while (body.length > MAX_BODY && max > 0) body = render((max = Math.floor(max / 2)));
  return body.length > MAX_BODY ? `${body.slice(0, MAX_BODY)}\n…` : body;
}

export interface PostmortemInput {
  repo: RepoRef;
  incident: Incident;
  decision: Decision;
  tried: string[];
  instruction: string;
  runUrl?: string;
  ledgerLink?: string;
  issueUrl?: string;
  /** Reports of the actions taken for this incident (changes are listed with their fingerprints). */
  reports?: EngineReport[];
  occurrences?: number;
}

const FOLLOW_UPS: Record<Incident['kind'], string> = {
  'secret.missing': 'Declare the secret\'s source in .github/autonomy.yml or .github/environment.json so it can be recreated.',
  'variable.missing': 'Declare the variable in .github/environment.json and run env sync.',
  'credential.invalid': 'Rotate the credential at its issuer and store the new value; check its expiry and scopes.',
  'config.invalid': 'Fix the configuration (or its declared template) and add a validation step before deploy.',
  'transient.network': 'If this recurs, check the remote service\'s status and add retries with backoff to the step.',
  'timeout.cancelled': 'Review the job timeout and what made the step slow.',
  'resource.exhausted': 'Check runner disk/memory usage; clean caches or use a larger runner.',
  'dependency.resolution': 'Pin or fix the dependency; check the registry and lockfile.',
  'code.failure': 'Fix the code: the failure is in the build or tests, not the environment.',
  unknown: 'Classify the failure by hand and consider teaching the classifier this log pattern.',
};

/** Where the postmortem of an incident goes in the ledger. */
export function postmortemPath(incident: Incident, decidedAt: string): string {
  const day = /^\d{4}-\d{2}-\d{2}/.exec(decidedAt)?.[0] ?? 'undated';
  return `postmortems/${day}-${safeToken(incident.fingerprint).replace(/[:.]/g, '-').slice(0, 80)}.md`;
}

/** A postmortem in markdown: timeline, impact, root cause as classified, actions, follow-ups. */
export function renderPostmortem(input: PostmortemInput): string {
  const { incident, decision } = input;
  const run = incident.run;
  const target = incident.target ? `${incident.target.type} \`${incident.target.name}\`` : 'no specific target';
  const timeline: string[] = [];
  if (run) timeline.push(`- Run ${run.id} attempt ${run.attempt}${run.workflow_name ? ` of "${run.workflow_name}"` : ''} failed${run.head_sha ? ` on commit ${run.head_sha.slice(0, 7)}` : ''}.`);
  timeline.push(`- ${decision.decided_at}: classified as \`${incident.kind}\` on ${target} (confidence ${incident.confidence.toFixed(2)}).`);
  for (const t of input.tried) timeline.push(`- Tried: ${noMentions(t)}`);
  timeline.push(`- ${decision.decided_at}: decided ${decision.action} (${decision.verdict}${decision.guardrail ? `, guardrail ${decision.guardrail}` : ''}): ${noMentions(decision.reason)}`);
  if (input.issueUrl) timeline.push(`- Escalated to a human: ${input.issueUrl}`);

  const actions: string[] = [];
  for (const r of input.reports ?? []) {
    actions.push(`- ${r.action}: ${r.ok ? 'done' : `failed (${r.error ?? 'no detail'})`}`);
    for (const c of r.changes) {
      actions.push(`  - ${c.op} ${c.kind} \`${c.target}\` (${c.scope}): ${c.before_fingerprint ?? '∅'} → ${c.after_fingerprint ?? '∅'}`);
    }
  }
  if (actions.length === 0) actions.push(...(input.tried.length > 0 ? input.tried.map((t) => `- ${noMentions(t)}`) : ['- None: escalated without acting.']));

  const impact = [
    `- Repository: ${repoFullName(input.repo)}`,
    incident.environment ? `- Environment: ${incident.environment}` : null,
    run?.head_branch ? `- Branch: ${run.head_branch}` : null,
    run ? `- Run: ${input.runUrl ?? run.html_url ?? `run ${run.id}`} (attempt ${run.attempt})` : input.runUrl ? `- Run: ${input.runUrl}` : null,
    input.occurrences !== undefined ? `- Occurrences of this failure: ${input.occurrences}` : null,
    '- The deploy stays failed until a human acts.',
  ].filter((l): l is string => l !== null);

  return [
    `# Postmortem: ${incident.kind} on ${incident.target ? `${incident.target.type} ${incident.target.name}` : 'no specific target'}`,
    '',
    `Incident fingerprint \`${incident.fingerprint}\`, ${repoFullName(input.repo)}, ${decision.decided_at}.`,
    '',
    '## Timeline',
    ...timeline,
    '',
    '## Impact',
    ...impact,
    '',
    '## Root cause (as classified)',
    `\`${incident.kind}\` on ${target}, confidence ${incident.confidence.toFixed(2)}.`,
    incident.summary ? `\n${noMentions(incident.summary)}` : '',
    '',
    incident.evidence.length > 0 ? fenced(evidenceLines(incident, 10)) : '_No log lines were captured._',
    '',
    '## Actions',
    ...actions,
    '',
    '## Follow-ups',
    `- [ ] ${input.instruction.split('\n')[0] ?? input.instruction}`,
    `- [ ] ${FOLLOW_UPS[incident.kind]}`,
    input.issueUrl ? `- [ ] Close ${input.issueUrl} once fixed.` : null,
    input.ledgerLink ? `\nLedger: ${input.ledgerLink}` : null,
    '',
  ].filter((l): l is string => l !== null).join('\n');
}

export async function executeEscalate(port: IssuesPort, plan: EscalatePlan): Promise<EscalateReport> {
  const ACTION = 'ESCALATE' as const;
  const { repo, incident } = plan;
  const marker = rootCauseMarker(repoFullName(repo), incident);
  const path = postmortemPath(incident, plan.decision.decided_at);
  const postmortemOf = (issueUrl?: string, occurrences?: number): string =>
    renderPostmortem({ ...plan, ...(issueUrl ? { issueUrl } : {}), ...(occurrences !== undefined ? { occurrences } : {}) });

  const line = occurrenceLine(plan);
  let occ: { count: number; lines: string[] } = { count: 1, lines: [line] };
  let replay = false;
  let issue: EnsuredIssue;
  try {
    // One root cause, one issue: found by the root-cause marker (or, for issues opened before it
    // existed, by the incident's marker), rewritten in place and reopened; an unchanged body (the same
    // occurrence delivered twice) is not written again.
    issue = await port.ensureIssue(repo, {
      marker,
      aliases: [incidentMarker(incident.fingerprint)],
      title: escalationTitle(incident),
      labels: [...ESCALATION_LABELS],
      body: (existing) => {
        if (existing) {
          const prev = parseOccurrences(existing.body);
          // The same decision delivered twice (a redelivered webhook) is one occurrence, not two.
          replay = prev.lines.at(-1) === line;
          occ = replay ? prev : { count: Math.max(prev.count, 1) + 1, lines: [...prev.lines, line] };
        }
        return renderEscalationBody(plan, occ);
      },
    });
  } catch (err) {
    return fromPortError(ACTION, 'opening or updating the incident\'s issue', err, { extra: { postmortem: postmortemOf(), postmortemPath: path } });
  }
  const existing = issue.previous;
  const reopened = existing !== null && existing.state !== 'open';

  let certified = false;
  try {
    const check = await port.findIssueByMarker(repo, marker);
    certified = check !== null && check.number === issue.number && check.state === 'open' && check.body.includes(marker);
  } catch {
    certified = false;
  }

  const created = issue.status === 'created';
  return {
    action: ACTION,
    ok: true,
    certified,
    changes: [{
      kind: 'issue',
      target: `issue #${issue.number}`,
      scope: 'repository',
      op: created ? 'open' : issue.status === 'unchanged' ? 'noop' : 'update',
      before_fingerprint: existing ? contentDigest(existing.body) : null,
      after_fingerprint: contentDigest(issue.body),
    }],
    notes: [
      created
        ? `Opened issue #${issue.number} for a human: ${issue.html_url}`
        : `${reopened ? 'Reopened and updated' : issue.status === 'unchanged' ? 'Left unchanged' : 'Updated'} issue #${issue.number} (seen ${occ.count} times${replay ? ', same occurrence replayed' : ''}): ${issue.html_url}`,
      ...(certified ? [] : ['Not certified: the issue could not be found open with its marker afterwards.']),
    ],
    issue: { number: issue.number, html_url: issue.html_url, created, reopened, occurrences: occ.count },
    postmortem: postmortemOf(issue.html_url, occ.count),
    postmortemPath: path,
  };
}
