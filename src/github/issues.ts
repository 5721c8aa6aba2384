/**
 * IssuesPort over REST: issues and marker comments (with the idempotent `ensureIssue` and
 * `ensureComment`), check runs, pull requests of a commit, and collaborators' permission levels.
 */
import type { RepoRef } from '../core/schemas/index.js';
import { contentHash, ensureIssueWith, type CheckRunOutput, type EnsuredComment, type IssueRef, type IssuesPort, type MarkedIssue } from '../ports/index.js';
import { PER_PAGE, type RequestLayer } from './request.js';

interface RawIssue { number: number; html_url: string; body?: string | null; state: string; pull_request?: unknown }
interface RawComment { id: number; html_url: string; body?: string | null }

type PermissionLevel = Awaited<ReturnType<IssuesPort['getPermissionLevel']>>;
const PERMISSION_LEVELS: PermissionLevel[] = ['admin', 'maintain', 'write', 'triage', 'read', 'none'];

/** What this process last wrote as a marked comment: its id and the hash of its body. */
interface CommentMemo { id: number; hash: string; html_url: string }

export function issuesPort(http: RequestLayer): IssuesPort {
  /** One listing of the adapter's labelled issues, looked through for each marker in turn. */
  const findByMarkers = (repo: RepoRef, markers: string[]): Promise<MarkedIssue | null> =>
    http.call('issues', 'search issues', async () => {
      const issues = (await http.paginate<RawIssue>('GET /repos/{owner}/{repo}/issues', { ...repo, state: 'all', labels: http.issueLabel, per_page: PER_PAGE }, null)).filter((i) => !i.pull_request);
      for (const marker of markers) {
        const hit = issues.find((i) => (i.body ?? '').includes(marker));
        if (hit) return { number: hit.number, html_url: hit.html_url, body: hit.body ?? '', state: hit.state };
      }
      return null;
    });

  const createIssue = (repo: RepoRef, title: string, body: string, labels: string[] = []): Promise<IssueRef> => {
    const allLabels = [...new Set([http.issueLabel, ...labels])];
    return http.call('issues', 'create issue', async () => {
      // Not retried blindly: ensureIssue looks the issue up by its marker after a lost answer.
      const res = await http.req('POST /repos/{owner}/{repo}/issues', { ...repo, title, body, labels: allLabels, request: { retries: 0 } });
      return { number: res.data.number as number, html_url: res.data.html_url as string };
    });
  };

  const updateIssue = (repo: RepoRef, number: number, patch: { title?: string; body?: string; state?: 'open' | 'closed' }): Promise<IssueRef> =>
    http.call('issues', `update issue #${number}`, async () => {
      const res = await http.req('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...repo, issue_number: number, ...patch });
      return { number: res.data.number as number, html_url: res.data.html_url as string };
    });

  return {
    findIssueByMarker: (repo, marker) => findByMarkers(repo, [marker]),
    listOpenIssuesByMarker: (repo, marker) =>
      http.call('issues', 'search open issues', async () => {
        const issues = await http.paginate<RawIssue>('GET /repos/{owner}/{repo}/issues', { ...repo, state: 'open', labels: http.issueLabel, per_page: PER_PAGE }, null);
        return issues
          .filter((i) => !i.pull_request && (i.body ?? '').includes(marker))
          .sort((a, b) => a.number - b.number)
          .map((i) => ({ number: i.number, html_url: i.html_url, body: i.body ?? '', state: i.state }));
      }),
    createIssue,
    updateIssue,
    ensureIssue: (repo, spec) => ensureIssueWith({ find: findByMarkers, createIssue, updateIssue }, repo, spec),

    /**
     * The comment id and body hash written last time (this process) are remembered: an unchanged body
     * costs no request at all, a changed one is one PATCH without listing the thread again; a 404
     * (deleted meanwhile) falls back to the search. Found by search, an unchanged body is not written.
     */
    ensureComment(repo, issueNumber, marker, body): Promise<EnsuredComment> {
      const text = body.includes(marker) ? body : `${marker}\n${body}`;
      const hash = contentHash(text);
      const memoKey = `${http.cacheScope}|comment|${repo.owner}/${repo.repo}#${issueNumber}|${marker}`.toLowerCase();
      const remember = (c: EnsuredComment): EnsuredComment => {
        http.cache.conditional.set(memoKey, { etag: '', value: { id: c.id, hash, html_url: c.html_url } satisfies CommentMemo });
        return c;
      };
      const patch = async (id: number): Promise<EnsuredComment> => {
        const res = await http.req('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...repo, comment_id: id, body: text });
        return { id: res.data.id as number, html_url: res.data.html_url as string, created: false, status: 'updated' };
      };
      return http.call('issues', `comment on #${issueNumber}`, async () => {
        const known = http.cache.conditional.get(memoKey)?.value as CommentMemo | undefined;
        if (known && typeof known.id === 'number') {
          if (known.hash === hash) return { id: known.id, html_url: known.html_url, created: false, status: 'unchanged' };
          const updated = await http.getOrNull(() => patch(known.id));
          if (updated) return remember(updated);
          http.cache.conditional.delete(memoKey);
        }
        const comments = await http.paginate<RawComment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: issueNumber, per_page: PER_PAGE }, null);
        const ours = comments.find((c) => (c.body ?? '').includes(marker));
        if (ours && ours.body === text) return remember({ id: ours.id, html_url: ours.html_url, created: false, status: 'unchanged' });
        if (ours) return remember(await patch(ours.id));
        const res = await http.req('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: issueNumber, body: text });
        return remember({ id: res.data.id as number, html_url: res.data.html_url as string, created: true, status: 'created' });
      });
    },

    pullRequestsForCommit(repo, sha): Promise<number[]> {
      return http.call('pull_requests', `list pull requests of ${sha.slice(0, 7)}`, async () => {
        const prs = await http.paginate<{ number: number; state: string }>('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { ...repo, commit_sha: sha, per_page: PER_PAGE }, null);
        return prs.filter((p) => p.state === 'open').map((p) => p.number);
      });
    },

    getPermissionLevel(repo, username): Promise<PermissionLevel> {
      return http.call('metadata', `read permission of ${username}`, async () => {
        const res = await http.getOrNull(() => http.req('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { ...repo, username }));
        if (!res) return 'none';
        // role_name is finer than permission (maintain/triage, custom roles fall back to permission).
        const role = String(res.data.role_name ?? '');
        if (PERMISSION_LEVELS.includes(role as PermissionLevel)) return role as PermissionLevel;
        const perm = String(res.data.permission ?? 'none');
        return PERMISSION_LEVELS.includes(perm as PermissionLevel) ? (perm as PermissionLevel) : 'none';
      });
    },

    listCheckRuns(repo, ref, name): Promise<CheckRunOutput[]> {
      return http.call('checks', `list check runs ${name} on ${ref.slice(0, 12)}`, async () => {
        // filter=all: every run of that name, not only the latest (each ledger commit anchors its own checkpoint).
        const res = await http.req('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...repo, ref, check_name: name, filter: 'all', per_page: PER_PAGE });
        const runs = (res.data?.check_runs as { id: number; html_url?: string | null; app?: { id?: number } | null; output?: { summary?: string | null; text?: string | null } }[] | undefined) ?? [];
        return runs.map((r) => ({ id: r.id, app_id: r.app?.id ?? null, html_url: r.html_url ?? null, summary: r.output?.summary ?? null, text: r.output?.text ?? null }));
      });
    },

    createCheckRun(repo, check): Promise<{ id: number }> {
      return http.call('checks', `create check run ${check.name}`, async () => {
        const res = await http.req('POST /repos/{owner}/{repo}/check-runs', {
          ...repo,
          name: check.name,
          head_sha: check.head_sha,
          status: 'completed',
          conclusion: check.conclusion,
          output: { title: check.title, summary: check.summary, ...(check.text !== undefined ? { text: check.text } : {}) },
          ...(check.details_url !== undefined ? { details_url: check.details_url } : {}),
        });
        return { id: res.data.id as number };
      });
    },
  };
}
