/**
 * GitHubPort over Octokit, composed from one module per port over the shared request layer
 * (src/github/request.ts: permission errors, pagination, conditional reads, caches):
 *
 * | port          | module            |
 * |---------------|-------------------|
 * | secrets       | secrets.ts        |
 * | variables     | variables.ts      |
 * | environments  | environments.ts   |
 * | runs          | runs.ts           |
 * | issues/checks | issues.ts         |
 * | contents      | contents.ts       |
 * | git data      | git-data.ts       |
 * | promotion     | promotion.ts      |
 *
 * `createGitHubPort` is the factory; `GitHubAdapter` is the same composition as a class, for callers
 * that construct it or extend it (DurableStateAdapter). Accepts any Octokit-compatible client: ours
 * from createOctokit() or Probot's `context.octokit`.
 */
import { proposeFileWith, type GitHubPort } from '../ports/index.js';
import type { GitHubPermission } from './errors.js';
import { contentsPort } from './contents.js';
import { environmentsPort } from './environments.js';
import { gitDataPort } from './git-data.js';
import { issuesPort } from './issues.js';
import { GitHubPromotion } from './promotion.js';
import { RequestLayer, baseUrlOf, type OctokitLike, type OctokitResponseLike, type Params, type RequestLayerOptions } from './request.js';
import { runsPort } from './runs.js';
import { secretsPort } from './secrets.js';
import { variablesPort } from './variables.js';

export { BRIDGE_LABEL, nextLink, type OctokitLike, type OctokitResponseLike } from './request.js';
export type GitHubAdapterOptions = RequestLayerOptions;

/** Every port over one request layer. */
export type ComposedGitHubPort = Required<Omit<GitHubPort, 'promotion' | 'cacheScope'>> & { readonly cacheScope: string; readonly promotion: GitHubPromotion };

/** The one composition of the port modules. */
export function composePorts(http: RequestLayer): ComposedGitHubPort {
  const git = gitDataPort(http);
  const contents = contentsPort(http, git);
  const ports = {
    ...secretsPort(http),
    ...variablesPort(http),
    ...environmentsPort(http),
    ...runsPort(http),
    ...issuesPort(http),
    ...contents,
    ...git,
  };
  return {
    ...ports,
    proposeFile: (repo, proposal) => proposeFileWith(ports, repo, proposal),
    cacheScope: http.cacheScope,
    promotion: new GitHubPromotion((route, params) => http.req(route, params), (route, params, key) => http.paginate(route, params, key)),
  };
}

/** The factory: a GitHubPort over `octokit`. */
export function createGitHubPort(octokit: OctokitLike, opts: GitHubAdapterOptions = {}): ComposedGitHubPort {
  const http = new RequestLayer((route, params) => octokit.request(route, params), { ...opts, cacheScope: opts.cacheScope ?? baseUrlOf(octokit) });
  return composePorts(http);
}

/** Probot's `context.octokit` already has throttling and retry; this only adapts its type. */
export function wrapProbotOctokit(octokit: unknown, opts: GitHubAdapterOptions = {}): GitHubAdapter {
  return new GitHubAdapter(octokit as OctokitLike, opts);
}

// The class carries the composed ports as own properties (Object.assign below); this declaration
// tells TypeScript so.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface GitHubAdapter extends ComposedGitHubPort {}

/** The composition as a class: `new GitHubAdapter(octokit, opts)`; subclasses may wrap `req`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class GitHubAdapter {
  protected readonly http: RequestLayer;

  constructor(
    private readonly octokit: OctokitLike,
    opts: GitHubAdapterOptions = {},
  ) {
    // Every port's request goes through this.req, so a subclass sees (and may count) each one.
    this.http = new RequestLayer((route, params) => this.req(route, params), { ...opts, cacheScope: opts.cacheScope ?? baseUrlOf(octokit) });
    Object.assign(this, composePorts(this.http));
  }

  protected get cache(): RequestLayer['cache'] {
    return this.http.cache;
  }

  protected get defaultBranches(): Map<string, string> {
    return this.http.defaultBranches;
  }

  protected req(route: string, params: Params = {}): Promise<OctokitResponseLike> {
    return this.octokit.request(route, params);
  }

  /** Runs one call, turning 403 "not accessible" into GitHubPermissionError. */
  protected call<T>(permission: GitHubPermission, operation: string, fn: () => Promise<T>): Promise<T> {
    return this.http.call(permission, operation, fn);
  }
}
