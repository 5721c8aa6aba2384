/**
 * Small HTML pages for the links the sandbox hands out (html_url of runs, jobs, issues, pull requests,
 * repositories), so a link in a Living Bridge comment opens something real. Read-only, except the
 * comment box on issue and PR pages: it posts to /_sandbox/comments, which stores the comment and
 * sends `issue_comment.created` to the App, so `/bridge approve <id>` can be typed in a browser.
 */
import type { CommentModel, IssueModel, JobModel, RepoModel, RunModel } from '../model.js';
import type { Reply, RouteContext, RouteDef } from '../router.js';
import type { SandboxState } from '../state.js';
import { notFound } from '../util.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:980px;margin:0 auto;padding:16px 24px}h1{font-size:24px;font-weight:400;margin:8px 0}h1 .n{color:#656d76}
.state{display:inline-block;border-radius:2em;padding:2px 12px;color:#fff;font-weight:600;font-size:13px}
.success,.open{background:#1f883d}.failure,.closed{background:#cf222e}.skipped,.cancelled,.neutral{background:#6e7781}.merged{background:#8250df}
.box{border:1px solid #d0d7de;border-radius:6px;margin:12px 0}.box>.head{background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:8px 16px;color:#656d76}
.box>.body{padding:8px 16px;white-space:pre-wrap;word-wrap:break-word}pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;max-height:420px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #d0d7de;padding:4px 12px 4px 0;text-align:left}
textarea{width:100%;min-height:70px;font:13px ui-monospace,monospace;box-sizing:border-box}input{font:inherit}
button{background:#1f883d;color:#fff;border:0;border-radius:6px;padding:6px 16px;font-weight:600;cursor:pointer}.muted{color:#656d76}`;

function page(state: SandboxState, title: string, r: RepoModel | null, body: string): Reply {
  const crumbs = r ? ` / <a href="${esc(`${state.url}/${r.fullName}`)}">${esc(r.fullName)}</a>` : '';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · GitHub sandbox</title><style>${CSS}</style></head>
<body><header><a href="${esc(state.url)}/">GitHub sandbox</a>${crumbs}</header><main>${body}</main></body></html>`;
  // Pages change with every comment and run: never served from a browser's cache.
  return { status: 200, text: html, contentType: 'text/html; charset=utf-8', headers: { 'cache-control': 'no-store' } };
}

const badge = (s: string): string => `<span class="state ${esc(s)}">${esc(s)}</span>`;
const link = (href: string, text: string): string => `<a href="${esc(href)}">${esc(text)}</a>`;

function runPage(ctx: RouteContext): Reply {
  const { state, repo: r } = ctx;
  const run = r.runs.find((x) => x.id === Number(ctx.params.run_id));
  if (!run) throw notFound();
  const attempts = [...run.attempts].reverse().map((a) => {
    const jobs = a.jobIds.map((id) => state.jobs.get(id)).filter((j): j is JobModel => Boolean(j));
    const rows = jobs.map((j) => `<tr><td>${link(`${state.url}/${r.fullName}/actions/runs/${run.id}/job/${j.id}`, j.name)}</td><td>${badge(j.conclusion ?? 'queued')}</td><td class="muted">attempt ${j.runAttempt}</td></tr>`).join('');
    return `<div class="box" data-attempt="${a.attempt}"><div class="head">Attempt #${a.attempt} ${badge(a.conclusion)} · ${esc(a.updated_at)} · by ${esc(a.triggeringActor)}</div><div class="body"><table>${rows}</table></div></div>`;
  }).join('');
  const latest = run.attempts.at(-1)!;
  const failed = latest.jobIds.map((id) => state.jobs.get(id)).filter((j): j is JobModel => j?.conclusion === 'failure');
  const logs = failed.map((j) => `<h3>${esc(j.name)} (failed)</h3><pre>${esc(j.log.split('\n').slice(-40).join('\n'))}</pre>`).join('');
  return page(state, `${run.name} #${run.runNumber}`, r, `<h1>${esc(run.name)} <span class="n">#${run.runNumber}</span> ${badge(latest.conclusion)}</h1>
<p class="muted">run ${run.id} · ${esc(run.event)} on ${esc(run.headBranch)} (${esc(run.headSha.slice(0, 7))}) · ${run.attempts.length} attempt${run.attempts.length === 1 ? '' : 's'}${run.pullRequests.length ? ` · ${run.pullRequests.map((n) => link(`${state.url}/${r.fullName}/pull/${n}`, `#${n}`)).join(', ')}` : ''}</p>${attempts}${logs}`);
}

function jobPage(ctx: RouteContext): Reply {
  const { state, repo: r } = ctx;
  const job = state.jobs.get(Number(ctx.params.job_id));
  if (!job || job.runId !== Number(ctx.params.run_id) || !r.runs.some((x) => x.id === job.runId)) throw notFound();
  return page(state, job.name, r, `<h1>${esc(job.name)} ${badge(job.conclusion ?? 'queued')}</h1>
<p>${link(`${state.url}/${r.fullName}/actions/runs/${job.runId}`, `run ${job.runId}`)} · attempt ${job.runAttempt}</p><pre>${esc(job.log)}</pre>`);
}

/** Escaped text with its http(s) links made clickable (the run and issue links in Living Bridge's comments). */
const linkify = (text: string): string => esc(text).replace(/https?:\/\/[^\s<>"')\]]+/g, (u) => `<a href="${u}">${u}</a>`);

function comment(c: CommentModel): string {
  return `<div class="box comment" data-comment-id="${c.id}" id="issuecomment-${c.id}"><div class="head"><b>${esc(c.user)}</b> commented ${esc(c.created_at)}</div><div class="body">${linkify(c.body)}</div></div>`;
}

function issuePage(ctx: RouteContext, pull: boolean): Reply {
  const { state, repo: r } = ctx;
  const issue: IssueModel | undefined = r.issues.get(Number(ctx.params.number));
  if (!issue || issue.isPull !== pull) throw notFound();
  const pr = pull ? r.pulls.get(issue.number) : undefined;
  const status = pr?.merged ? 'merged' : issue.state;
  const comments = [...r.comments.values()].filter((c) => c.issueNumber === issue.number).sort((a, b) => a.id - b.id);
  const runs = pull ? r.runs.filter((x: RunModel) => x.pullRequests.includes(issue.number)) : [];
  const form = `<form id="comment" class="box"><div class="head">Comment as <input name="user" value="octocat" size="14" aria-label="user"> (who must have write access to approve)</div>
<div class="body"><textarea name="body" placeholder="/bridge approve &lt;id&gt;" aria-label="comment"></textarea><p><button type="submit">Comment</button> <span class="muted" id="sent"></span></p></div></form>
<script>document.getElementById('comment').addEventListener('submit', async (e) => {
  e.preventDefault(); const f = e.target;
  const res = await fetch('/_sandbox/comments', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ owner: ${JSON.stringify(r.owner)}, repo: ${JSON.stringify(r.name)}, issue_number: ${issue.number}, user: f.user.value, body: f.body.value }) });
  document.getElementById('sent').textContent = res.ok ? 'sent to the App as issue_comment.created' : 'refused: ' + res.status;
  if (res.ok) setTimeout(() => location.reload(), 300);
});</script>`;
  return page(state, issue.title, r, `<h1>${esc(issue.title)} <span class="n">#${issue.number}</span></h1>
<p>${badge(status)} ${pr ? `${esc(pr.headRef)} → ${esc(pr.baseRef)} (${esc(pr.headSha.slice(0, 7))})` : ''} ${issue.labels.map((l) => `<code>${esc(l)}</code>`).join(' ')}</p>
${runs.length ? `<p class="muted">runs: ${runs.map((x) => link(`${state.url}/${r.fullName}/actions/runs/${x.id}`, `${x.name} #${x.runNumber}`)).join(', ')}</p>` : ''}
<div class="box"><div class="head"><b>${esc(issue.user)}</b> opened ${esc(issue.created_at)}</div><div class="body">${linkify(issue.body ?? '')}</div></div>
${comments.map((c) => comment(c)).join('')}${form}`);
}

function repoPage(ctx: RouteContext): Reply {
  const { state, repo: r } = ctx;
  const issues = [...r.issues.values()].sort((a, b) => b.number - a.number);
  const runs = [...r.runs].reverse().slice(0, 20);
  return page(state, r.fullName, r, `<h1>${esc(r.fullName)}</h1>
<h3>Runs</h3><table>${runs.map((x) => `<tr><td>${link(`${state.url}/${r.fullName}/actions/runs/${x.id}`, `${x.name} #${x.runNumber}`)}</td><td>${badge(x.attempts.at(-1)!.conclusion)}</td><td class="muted">${esc(x.event)} · ${x.attempts.length} attempt(s)</td></tr>`).join('') || '<tr><td class="muted">none</td></tr>'}</table>
<h3>Issues and pull requests</h3><table>${issues.map((i) => `<tr><td>${link(`${state.url}/${r.fullName}/${i.isPull ? 'pull' : 'issues'}/${i.number}`, `#${i.number} ${i.title}`)}</td><td>${badge(i.isPull && r.pulls.get(i.number)?.merged ? 'merged' : i.state)}</td></tr>`).join('') || '<tr><td class="muted">none</td></tr>'}</table>`);
}

function indexPage(ctx: RouteContext): Reply {
  const { state } = ctx;
  const repos = [...state.repos.values()];
  return page(state, 'repositories', null, `<h1>Repositories</h1><table>${repos.map((r) => `<tr><td>${link(`${state.url}/${r.fullName}`, r.fullName)}</td><td class="muted">${r.runs.length} runs · ${r.issues.size} issues and PRs</td></tr>`).join('') || '<tr><td class="muted">none yet</td></tr>'}</table>`);
}

/** Listed after the API routes: an API path always wins. Public, not counted as API requests. */
export const pageRoutes: RouteDef[] = [
  { method: 'GET', path: '/', handler: indexPage },
  { method: 'GET', path: '/{owner}/{repo}', handler: repoPage },
  { method: 'GET', path: '/{owner}/{repo}/actions/runs/{run_id}', handler: runPage },
  { method: 'GET', path: '/{owner}/{repo}/actions/runs/{run_id}/job/{job_id}', handler: jobPage },
  { method: 'GET', path: '/{owner}/{repo}/issues/{number}', handler: (ctx: RouteContext) => issuePage(ctx, false) },
  { method: 'GET', path: '/{owner}/{repo}/pull/{number}', handler: (ctx: RouteContext) => issuePage(ctx, true) },
].map((r) => ({ ...r, method: 'GET' as const, auth: 'none' as const, uncounted: true }));
