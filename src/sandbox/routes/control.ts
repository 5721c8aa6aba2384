/**
 * Control endpoints under /_sandbox/ (for a demo or e2e test driving a sandbox in another process)
 * and the short-lived log downloads under /_logs/. None of them ever returns a secret's plaintext.
 */
import { FAULT_KINDS, isFaultKind, type FaultKind } from '../chaos.js';
import type { SandboxState } from '../state.js';
import type { RunTrigger, WorkflowRequirements } from '../model.js';
import type { RouteDef } from '../router.js';
import { created, noContent, ok } from '../router.js';
import { isScenario, seedScenario, SCENARIOS } from '../scenarios.js';
import { workflowRunShape } from '../shapes.js';
import { SandboxHttpError } from '../util.js';

const chaosShape = (state: SandboxState) => {
  const cfg = state.chaos.rate();
  return { rate: cfg?.rate ?? 0, seed: cfg?.seed ?? null, kinds: cfg?.kinds ?? [], latency_ms: cfg?.latencyMs ?? null, considered: state.chaos.considered, injected: { ...state.chaos.injected } };
};

export interface ControlHooks { counts(): Record<string, number>; reset(): void }

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function need(body: Record<string, unknown>, field: string): string {
  const v = str(body[field]);
  if (!v) throw new SandboxHttpError(422, `Invalid request.\n\n"${field}" wasn't supplied.`);
  return v;
}

export function controlRoutes(hooks: ControlHooks): RouteDef[] {
  const c = (def: Omit<RouteDef, 'root' | 'auth' | 'uncounted'>): RouteDef => ({ ...def, root: true, auth: 'none', uncounted: true });
  return [
    c({ method: 'GET', path: '/_sandbox/health', handler: ({ state }) => ok({ ok: true, url: state.url, api_url: state.apiUrl, repos: state.repos.size }) }),
    c({
      method: 'POST', path: '/_sandbox/repos',
      handler: ({ state, body }) => {
        const owner = str(body.owner) ?? 'acme';
        const scenario = str(body.scenario);
        if (scenario) {
          if (!isScenario(scenario)) throw new SandboxHttpError(422, `Unknown scenario ${scenario}; expected one of ${SCENARIOS.join(', ')}`);
          const seeded = seedScenario(state, scenario, owner, { ...(str(body.repo) ? { repo: str(body.repo)! } : {}), trigger: body.trigger !== false, config: body.config === true });
          return created({ full_name: `${seeded.owner}/${seeded.repo}`, workflow_id: seeded.workflowId, run_id: seeded.runId, conclusion: seeded.conclusion, description: seeded.description });
        }
        const repo = need(body, 'repo');
        state.createRepo({ owner, repo, ...(str(body.default_branch) ? { defaultBranch: str(body.default_branch)! } : {}), private: body.private === true });
        const wfIn = (body.workflow ?? {}) as { name?: string; path?: string; requirements?: WorkflowRequirements };
        const wf = state.addWorkflow(owner, repo, { name: wfIn.name ?? 'Build & Deploy', ...(wfIn.path ? { path: wfIn.path } : {}), requirements: wfIn.requirements ?? {} });
        for (const [k, v] of Object.entries((body.secrets ?? {}) as Record<string, string>)) state.setSecret(owner, repo, k, String(v));
        for (const [k, v] of Object.entries((body.variables ?? {}) as Record<string, string>)) state.setVariable(owner, repo, k, String(v));
        let run = null;
        if (body.trigger === true) {
          const r = state.triggerRun(owner, repo, wf.name);
          run = { id: r.id, conclusion: state.latestAttempt(r).conclusion };
        }
        return created({ full_name: `${owner}/${repo}`, workflow_id: wf.id, run_id: run?.id ?? null, conclusion: run?.conclusion ?? null });
      },
    }),
    c({
      // A person's comment (e.g. `/bridge approve <id>`): stored like POST …/issues/{n}/comments and sent
      // to the App as `issue_comment.created`, with `user` as its author (who must have write access).
      method: 'POST', path: '/_sandbox/comments',
      handler: ({ state, body }) => {
        const owner = need(body, 'owner');
        const repo = need(body, 'repo');
        const number = Number(body.issue_number);
        if (!Number.isInteger(number) || number <= 0) throw new SandboxHttpError(422, 'Invalid request.\n\n"issue_number" must be a positive integer.');
        const text = need(body, 'body');
        if (!state.findRepo(owner, repo)) throw new SandboxHttpError(404, 'Not Found');
        const comment = state.createComment(owner, repo, number, text, str(body.user) ?? 'octocat');
        return created({ id: comment.id, issue_number: number, user: comment.user, html_url: `${state.url}/${owner}/${repo}/issues/${number}#issuecomment-${comment.id}` });
      },
    }),
    c({
      method: 'POST', path: '/_sandbox/runs',
      handler: ({ state, body }) => {
        const owner = need(body, 'owner');
        const repo = need(body, 'repo');
        const r = state.repo(owner, repo);
        const trigger: RunTrigger = {};
        if (str(body.head_sha)) trigger.headSha = str(body.head_sha)!;
        if (str(body.head_branch)) trigger.headBranch = str(body.head_branch)!;
        if (str(body.event)) trigger.event = str(body.event)!;
        if (typeof body.pull_request === 'number') trigger.pullRequest = body.pull_request;
        if (typeof body.from_fork === 'boolean') trigger.fromFork = body.from_fork;
        if (str(body.actor)) trigger.actor = str(body.actor)!;
        const run = state.triggerRun(owner, repo, str(body.workflow) ?? r.workflows[0]!.name, trigger);
        return created(workflowRunShape(state, r, run));
      },
    }),
    c({
      method: 'POST', path: '/_sandbox/pulls',
      handler: ({ state, body }) => {
        const owner = need(body, 'owner');
        const repo = need(body, 'repo');
        const pr = state.createPullRequest(owner, repo, { headBranch: need(body, 'head_branch'), fromFork: body.from_fork === true, ...(str(body.title) ? { title: str(body.title)! } : {}) });
        return created({ number: pr.number, head_sha: pr.headSha, head_ref: pr.headRef, from_fork: pr.fromFork });
      },
    }),
    c({
      method: 'POST', path: '/_sandbox/collaborators',
      handler: ({ state, body }) => {
        const role = str(body.role) ?? null;
        const roles = ['admin', 'maintain', 'write', 'triage', 'read'];
        if (role !== null && !roles.includes(role)) throw new SandboxHttpError(422, `role must be one of ${roles.join(', ')} (or null to remove)`);
        state.setCollaborator(need(body, 'owner'), need(body, 'repo'), need(body, 'login'), role as Parameters<typeof state.setCollaborator>[3]);
        return ok({ login: body.login, role });
      },
    }),
    c({ method: 'GET', path: '/_sandbox/state/{owner}/{repo}', handler: ({ state, params }) => ok(state.summary(params.owner!, params.repo!)) }),
    c({
      method: 'GET', path: '/_sandbox/secret-check/{owner}/{repo}/{name}',
      handler: ({ state, params, query }) => {
        const expected = query.get('expected_sha256');
        if (!expected) throw new SandboxHttpError(422, 'Invalid request.\n\n"expected_sha256" wasn\'t supplied.');
        const fp = state.secretFingerprint(params.owner!, params.repo!, params.name!, query.get('environment') ?? undefined);
        return ok({ name: params.name!.toUpperCase(), exists: fp !== null, match: fp !== null && fp === expected.toLowerCase() });
      },
    }),
    c({
      method: 'GET', path: '/_sandbox/webhook-payload/{owner}/{repo}/{run_id}',
      handler: ({ state, params }) => ok(state.webhookPayloadFor(params.owner!, params.repo!, Number(params.run_id))),
    }),
    c({ method: 'GET', path: '/_sandbox/requests', handler: () => ok(hooks.counts()) }),
    c({
      method: 'POST', path: '/_sandbox/requests/reset',
      handler: () => {
        hooks.reset();
        return noContent();
      },
    }),
    c({
      method: 'POST', path: '/_sandbox/webhook',
      handler: ({ state, body }) => {
        if (body.url === null) state.webhook = null;
        else if (str(body.url)) state.webhook = { url: str(body.url)!, secret: need(body, 'secret') };
        if (typeof body.auto === 'boolean') state.autoWebhooks = body.auto;
        return ok({ url: state.webhook?.url ?? null, auto: state.autoWebhooks, deliveries: state.webhookDeliveries.slice(-20) });
      },
    }),
    c({ method: 'GET', path: '/_sandbox/chaos', handler: ({ state }) => ok(chaosShape(state)) }),
    c({
      method: 'POST', path: '/_sandbox/chaos',
      handler: ({ state, body }) => {
        if (body.rate !== undefined) {
          if (typeof body.rate !== 'number' || !(body.rate >= 0 && body.rate <= 1)) throw new SandboxHttpError(422, '"rate" must be a number between 0 and 1');
          if (body.seed !== undefined && !Number.isInteger(body.seed)) throw new SandboxHttpError(422, '"seed" must be an integer');
          if (body.latency_ms !== undefined && !(typeof body.latency_ms === 'number' && body.latency_ms >= 0 && body.latency_ms <= 30_000)) throw new SandboxHttpError(422, '"latency_ms" must be a number of milliseconds (0..30000)');
          const kinds = body.kinds === undefined ? undefined : Array.isArray(body.kinds) ? body.kinds.map(String) : null;
          const bad = kinds === null ? ['(not a list)'] : (kinds ?? []).filter((k) => !isFaultKind(k));
          if (bad.length) throw new SandboxHttpError(422, `"kinds" must be a list of ${FAULT_KINDS.join(', ')} (got ${bad.join(', ')})`);
          state.chaos.setRate({ rate: body.rate, ...(typeof body.seed === 'number' ? { seed: body.seed } : {}), ...(kinds ? { kinds: kinds as FaultKind[] } : {}), ...(typeof body.latency_ms === 'number' ? { latencyMs: body.latency_ms } : {}) });
          return ok(chaosShape(state));
        }
        const key = need(body, 'key');
        if (body.kind === 'secondary-rate-limit') state.chaos.secondaryRateLimitOnce(key);
        else state.chaos.failNext(key, typeof body.status === 'number' ? body.status : 500, typeof body.times === 'number' ? body.times : 1);
        return ok({ armed: key });
      },
    }),
    c({
      method: 'GET', path: '/_logs/{token}',
      handler: ({ state, params }) => {
        const job = state.resolveLogToken(params.token!);
        if (job === 'expired') throw new SandboxHttpError(410, 'This log URL has expired (valid for 60 seconds)');
        if (!job) throw new SandboxHttpError(404, 'Not Found');
        return { status: 200, text: job.log, contentType: 'text/plain; charset=utf-8' };
      },
    }),
  ].map((r) => (r.path.startsWith('/_logs') ? { ...r, uncounted: false } : r));
}

