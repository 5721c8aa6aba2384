/**
 * Markdown for the Action's job summary. Pure functions over pipeline results: no I/O, so they can
 * be tested directly and reused (PR comments, CLI) without the Actions toolkit.
 */
import type { Certificate, Change, Decision, GovernorState } from '../core/schemas/index.js';

const fmt = (n: number, digits = 3): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

/** Escapes a value for a markdown table cell. */
export const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function markdownTable(header: string[], rows: string[][]): string {
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** The decision with every number that went into it (candidates' EMA, penalty, weight, prediction, score). */
export function renderDecision(d: Decision): string {
  const out: string[] = [];
  const steps = d.steps.length ? d.steps.join(' → ') : d.action;
  out.push(`**Verdict:** \`${d.verdict}\` · **action:** \`${d.action}\` · **steps:** ${steps}`);
  const target = d.target ? `${d.target.type} \`${d.target.name}\`` : 'none';
  out.push(`**Incident:** \`${d.incident_kind}\` · **target:** ${target}` + (d.guardrail ? ` · **guardrail:** \`${d.guardrail}\`` : ''));
  out.push(`**Why:** ${d.reason}`);
  out.push(`Policy v${d.policy_version} · blueprint \`${d.blueprint_mode}\` · decided ${d.decided_at}`);
  if (d.candidates.length) {
    out.push('');
    out.push(
      markdownTable(
        ['action', 'EMA', 'cooldown penalty', 'weight', 'predicted success', 'score'],
        d.candidates.map((c) => [
          c.action === d.action ? `**${c.action}**` : c.action,
          fmt(c.ema),
          fmt(c.cooldown_penalty),
          fmt(c.weight),
          fmt(c.predicted_success),
          fmt(c.score),
        ]),
      ),
    );
  }
  return out.join('\n\n').replace(/\n\n\n/g, '\n\n');
}

/** Certificate hash, signer key id, type and what it asserts; never a value. */
export function renderCertificate(cert: Certificate, opts: { ledgerBranch?: string; repository?: string; ephemeralKey?: boolean } = {}): string {
  const keyids = cert.envelope.signatures.map((s) => `\`${s.keyid}\``).join(', ');
  const rows: string[][] = [
    ['hash', `\`${cert.certificate_hash}\``],
    ['signed by key', keyids + (opts.ephemeralKey ? ' (ephemeral: no signing-key input was given)' : '')],
  ];
  const predicate = decodePredicate(cert);
  if (predicate) {
    rows.push(['type', predicate.certificate_type]);
    rows.push(['action', predicate.action]);
    rows.push(['certified (effect checked on GitHub)', predicate.certified ? 'yes' : 'no']);
    rows.push(['chained to', predicate.previous_certificate_hash ? `\`${predicate.previous_certificate_hash}\`` : '(first in chain)']);
  }
  if (opts.ledgerBranch) rows.push(['ledger branch', `\`${opts.ledgerBranch}\``]);
  const verify = opts.repository
    ? `Verify offline with \`living-bridge verify --repo ${opts.repository}\`, or run this Action with \`mode: verify\`.`
    : 'Verify with `living-bridge verify`, or run this Action with `mode: verify`.';
  return `${markdownTable(['', 'certificate'], rows)}\n\n${verify}`;
}

export interface PredicateView {
  certificate_type: string;
  action: string;
  certified: boolean;
  previous_certificate_hash: string | null;
  /** Outcome certificates: the conclusion of the run that judged an earlier action. */
  outcome?: 'success' | 'failure';
}

/** The signed statement's predicate, read back from the envelope (for summaries and outputs). */
export function decodePredicate(cert: Certificate): PredicateView | null {
  try {
    const statement = JSON.parse(Buffer.from(cert.envelope.payload, 'base64').toString('utf8')) as { predicate?: PredicateView };
    return statement.predicate ?? null;
  } catch {
    return null;
  }
}

/** Changes as a table of targets and fingerprints (fingerprints only: a value never appears). */
export function renderChanges(changes: Change[]): string {
  if (!changes.length) return '_No changes._';
  const short = (f: string | null): string => (f ? `\`${f.slice(0, 12)}\`` : '—');
  return markdownTable(
    ['op', 'kind', 'target', 'scope', 'before', 'after'],
    changes.map((c) => [c.op, c.kind, c.target, c.scope, short(c.before_fingerprint), short(c.after_fingerprint)]),
  );
}

const MAX_POINTS = 30;

/**
 * Mermaid `xychart-beta` line charts of the Governor's EMA per action over time, from the ledger's
 * `state.ema_history`: one chart per action (xychart has no legend for several lines), last 30 points.
 */
export function renderEmaChart(history: GovernorState['ema_history']): string {
  if (!history.length) return '_No EMA history yet: the Governor learns from the outcome of each action (the next run of the healed workflow)._';
  const byAction = new Map<string, { at: string; ema: number }[]>();
  for (const h of [...history].sort((a, b) => a.at.localeCompare(b.at))) {
    const list = byAction.get(h.action) ?? [];
    list.push({ at: h.at, ema: h.ema });
    byAction.set(h.action, list);
  }
  const charts: string[] = [];
  for (const [action, points] of [...byAction.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const last = points.slice(-MAX_POINTS);
    const labels = last.map((p) => JSON.stringify(shortTime(p.at)));
    const values = last.map((p) => fmt(Math.min(1, Math.max(0, p.ema))));
    charts.push(
      [
        '```mermaid',
        'xychart-beta',
        `    title "${action} EMA (success rate)"`,
        `    x-axis [${labels.join(', ')}]`,
        '    y-axis "EMA" 0 --> 1',
        `    line [${values.join(', ')}]`,
        '```',
      ].join('\n'),
    );
  }
  return charts.join('\n\n');
}

/** "2026-11-23T10:15:00.000Z" -> "11-23 10:15" (UTC). */
export function shortTime(iso: string): string {
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}-${m[2]} ${m[3]}:${m[4]}` : iso;
}

/** The message shown when the token lacks a permission an action needs (token honesty). */
export function missingPermissionMessage(permission: string, what?: string): string {
  const perm = /:\s*(read|write)$/.test(permission) ? permission : `${permission}: write`;
  const name = perm.split(':')[0]!.trim();
  const doing = what ? ` to ${what}` : '';
  return [
    `The token given to Living Bridge lacks the "${perm}" permission${doing}.`,
    name === 'secrets' || name === 'actions_variables' || name === 'variables' || name === 'environments' || name === 'administration'
      ? `GITHUB_TOKEN can never have it: workflows cannot grant GITHUB_TOKEN permission to write secrets, variables or environments.`
      : `Grant it in the workflow's \`permissions:\` block, or use a token that has it.`,
    `Use a GitHub App installation token (actions/create-github-app-token with the Living Bridge App, whose manifest app.yml requests "${name === 'variables' ? perm.replace('variables', 'actions_variables') : perm}"), or a fine-grained personal access token with "${perm}" on this repository, and pass it as the \`token\` input.`,
    'See docs/action.md, "Which token".',
  ].join(' ');
}
