import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { duration } from '../pipeline/dashboard.js';
import type { RepositoryOverview } from '../pipeline/overview.js';
import { VERSION } from '../version.js';

/** The cookie a `?token=` visit leaves: an expiry and its HMAC, never the token itself. */
export const STATUS_COOKIE = 'lb_status';
const SESSION_HOURS = 12;
const sessionMac = (key: string, expires: number): string => createHmac('sha256', key).update(`living-bridge status ${expires}`).digest('hex');

export type StatusAccess = { ok: true; setCookie?: string } | { ok: false };

export interface StatusAuth {
  /** Whether an `Authorization` header carries an API token that covers every repository. */
  authorized(authorization: string | undefined): boolean;
  /** Signs the session cookie; the same on every replica (derived from a secret they share). */
  sessionKey: string;
  now?: () => number;
}

/**
 * The page is read-only and guarded by the API token (one that covers every repository), presented
 * as `Authorization: Bearer <token>`, as `?token=<token>` (answered with a session cookie and a
 * redirect to the bare URL, so the token does not stay in the address bar or the history), or as
 * that cookie (valid 12 hours, on every replica).
 */
export function statusAccess(req: IncomingMessage, url: URL, auth: StatusAuth): StatusAccess {
  const now = auth.now?.() ?? Date.now();
  if (auth.authorized(req.headers.authorization)) return { ok: true };
  const query = url.searchParams.get('token');
  if (query !== null) {
    if (!auth.authorized(`Bearer ${query}`)) return { ok: false };
    const expires = now + SESSION_HOURS * 3600_000;
    return { ok: true, setCookie: `${STATUS_COOKIE}=${expires}.${sessionMac(auth.sessionKey, expires)}; Path=/status; HttpOnly; SameSite=Strict; Max-Age=${SESSION_HOURS * 3600}` };
  }
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${STATUS_COOKIE}=`));
  const m = cookie ? /^(\d{10,16})\.([0-9a-f]{64})$/.exec(cookie.slice(STATUS_COOKIE.length + 1)) : null;
  if (!m || Number(m[1]) <= now) return { ok: false };
  const presented = Buffer.from(m[2]!, 'hex');
  const expected = Buffer.from(sessionMac(auth.sessionKey, Number(m[1])), 'hex');
  return timingSafeEqual(presented, expected) ? { ok: true } : { ok: false };
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(2));
const when = (iso: string): string => esc(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/** EMA per action over time as an inline SVG: one line (with its points) per action, y from 0 to 1. */
export function emaChart(history: RepositoryOverview['emaHistory']): string {
  if (history.length === 0) return '<p class="muted" data-chart="empty">No outcome learned yet: every action starts at the prior 0.50.</p>';
  const W = 640, H = 200, L = 40, R = 190, T = 12, B = 28;
  const times = history.map((h) => Date.parse(h.at));
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const x = (t: number) => L + (t1 === t0 ? (W - L - R) / 2 : ((t - t0) / (t1 - t0)) * (W - L - R));
  const y = (v: number) => T + (1 - v) * (H - T - B);
  const actions = [...new Set(history.map((h) => h.action))];
  const parts: string[] = [];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" class="axis">${v.toFixed(2)}</text>`);
  }
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(0.5)}" y2="${y(0.5)}" stroke="#9ca3af" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${L}" y="${H - 8}" class="axis">${when(new Date(t0).toISOString())}</text>`);
  if (t1 !== t0) parts.push(`<text x="${W - R}" y="${H - 8}" text-anchor="end" class="axis">${when(new Date(t1).toISOString())}</text>`);
  actions.forEach((action, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = history.filter((h) => h.action === action).map((h) => [x(Date.parse(h.at)), y(h.ema)] as const);
    parts.push(`<polyline class="series" data-action="${esc(action)}" fill="none" stroke="${color}" stroke-width="2" points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of points) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${color}"/>`);
    const last = history.filter((h) => h.action === action).at(-1)!;
    parts.push(`<rect x="${W - R + 12}" y="${T + i * 18}" width="10" height="10" fill="${color}"/><text x="${W - R + 28}" y="${T + i * 18 + 9}" class="legend">${esc(action)} ${last.ema.toFixed(2)}</text>`);
  });
  return `<svg class="chart" role="img" aria-label="EMA per action over time" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

export interface DeadLetter { id: string; repository: string | null; error: string | null; at: string | null; attempts: number }

export interface StatusPageData {
  generatedAt: string;
  repositories: (RepositoryOverview | { repository: string; error: string })[];
  deadLetters: DeadLetter[];
}

const table = (head: string[], rows: string[][], empty: string): string =>
  rows.length === 0
    ? `<p class="muted">${esc(empty)}</p>`
    : `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

/** Target keys are "owner/name#target": the section already names the repository. */
const targetName = (repository: string, key: string): string => key.replace(`${repository}#`, '');

function repositorySection(o: RepositoryOverview, deadLetters: DeadLetter[]): string {
  const v = o.verification;
  const badges = [
    v.ok ? `<span class="badge ok" data-verified="true">chain verifies · ${v.length} certificates</span>` : `<span class="badge bad" data-verified="false">chain does not verify: ${esc(v.reason ?? 'unknown')}</span>`,
    o.halted ? `<span class="badge bad">halted: ${esc(o.haltedReason ?? 'kill switch')}</span>` : '<span class="badge">running</span>',
  ];
  const incidents = [
    ...o.pending.map((p) => [`<span class="badge warn">awaiting approval</span>`, esc(p.incident), esc(p.steps.join(' → ')), `<code>/bridge approve ${esc(p.id)}</code>`, when(p.createdAt)]),
    ...o.escalations.map((e) => [`<span class="badge bad">escalated</span>`, esc(targetName(o.repository, e.target)), 'a human is needed', 'see the escalation issue', when(e.at)]),
    ...o.awaitingOutcome.map((a) => [`<span class="badge">awaiting outcome</span>`, esc(targetName(o.repository, a.target)), esc(a.action), a.runId ? `run ${a.runId}` : '—', when(a.at)]),
  ];
  const recent = o.recent.map((r) => [
    when(r.at),
    esc(r.kind === 'action' ? `${r.steps.join(' → ')}${r.escalated ? ' (escalated)' : ''}${r.approvedBy ? ` · approved by ${r.approvedBy}` : ''}` : `${r.kind}: ${r.detail}`),
    num(r.score), num(r.ema), num(r.predicted),
    esc(r.outcome ?? (r.kind === 'action' ? 'pending' : '—')),
    r.certificateHash ? `<code>${esc(r.certificateHash.slice(0, 12))}</code>` : '—',
  ]);
  const grants = o.grants.map((g) => [`<code>${esc(g.id)}</code>${g.breakGlass ? ' <span class="badge bad">break-glass</span>' : ''}`, esc(g.actions.join(', ')), esc(g.environments.join(', ')), `${g.uses}${g.maxUses !== null ? `/${g.maxUses}` : ''}`, when(g.expiresAt)]);
  const m = o.month;
  return `<section class="repo" data-repository="${esc(o.repository)}">
<h2>${esc(o.repository)} ${badges.join(' ')}</h2>
<div class="figures"><div><b>${m.failuresSeen}</b>failures seen (${esc(m.month)})</div><div><b>${m.healedWithoutHuman}</b>healed without a human</div><div><b>${m.escalated}</b>escalated</div><div><b>${esc(duration(m.medianRecoverySeconds))}</b>median time to recovery</div></div>
<div data-block="incidents"><h3>Open incidents</h3>${table(['State', 'Incident', 'Steps', 'Next', 'Since'], incidents, 'No open incidents.')}</div>
<div data-block="decisions"><h3>Recent decisions</h3>${table(['When', 'Decision', 'Score', 'EMA', 'Predicted', 'Outcome', 'Certificate'], recent, 'No decisions yet.')}</div>
<div data-block="ema"><h3>EMA per action</h3>${emaChart(o.emaHistory)}</div>
<div data-block="grants"><h3>Active grants</h3>${table(['Grant', 'Actions', 'Environments', 'Uses', 'Expires'], grants, 'No active grants.')}</div>
<div data-block="dead-letters"><h3>Dead letters</h3>${table(['Job', 'Error', 'Tries', 'At'], deadLetters.filter((d) => d.repository === o.repository).map((d) => [`<code>${esc(d.id)}</code>`, esc(d.error ?? '—'), String(d.attempts), d.at ? when(d.at) : '—']), 'No dead letters.')}</div>
</section>`;
}

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:14px 24px}header h1{margin:0;font-size:18px}header p{margin:2px 0 0;color:#cbd5e1;font-size:12px}
main{padding:16px 24px;max-width:1100px}section.repo{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:4px 18px 14px;margin-bottom:18px}
h2{font-size:16px}h3{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#475569;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f1f5f9}th{color:#64748b;font-weight:600}
code{font:12px ui-monospace,monospace;background:#f1f5f9;padding:1px 4px;border-radius:3px}.muted{color:#64748b}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:2px 8px;border-radius:10px;background:#e2e8f0;color:#334155;vertical-align:middle}
.badge.ok{background:#dcfce7;color:#166534}.badge.bad{background:#fee2e2;color:#991b1b}.badge.warn{background:#fef3c7;color:#92400e}
.figures{display:flex;gap:12px}.figures div{flex:1;background:#f8fafc;border:1px solid #e2e8f0;border-radius:6px;padding:8px 10px;color:#475569;font-size:12px}.figures b{display:block;font-size:20px;color:#0f172a}
.axis{font-size:10px;fill:#64748b}.legend{font-size:11px;fill:#0f172a}`;

export function renderStatusPage(d: StatusPageData): string {
  const global = table(['Job', 'Repository', 'Error', 'Tries', 'At'], d.deadLetters.map((x) => [`<code>${esc(x.id)}</code>`, esc(x.repository ?? '—'), esc(x.error ?? '—'), String(x.attempts), x.at ? when(x.at) : '—']), 'No dead letters.');
  const sections = d.repositories.map((r) => ('error' in r
    ? `<section class="repo" data-repository="${esc(r.repository)}"><h2>${esc(r.repository)} <span class="badge bad">unreadable</span></h2><p>${esc(r.error)}</p></section>`
    : repositorySection(r, d.deadLetters)));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>Living Bridge status</title><style>${STYLE}</style></head><body>
<header><h1>Living Bridge status</h1><p>version ${esc(VERSION)} · ${d.repositories.length} repositor${d.repositories.length === 1 ? 'y' : 'ies'} · generated ${when(d.generatedAt)} · read-only</p></header>
<main>${sections.join('\n') || '<p class="muted">No repository is installed yet.</p>'}
<section class="repo"><h3>Dead letters (all repositories)</h3>${global}</section></main></body></html>`;
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // Inline CSS only, no script: the page works with everything else forbidden.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(html);
}

export const UNAUTHORIZED_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Living Bridge status</title></head><body style="font:14px system-ui;margin:40px">
<h1>Living Bridge status</h1><p>This page needs the API token: open <code>/status?token=…</code> or send <code>Authorization: Bearer …</code>.</p></body></html>`;
