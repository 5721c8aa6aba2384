/** EnvironmentsPort over REST: deployment environments and their protection rules. */
import type { Conditional, EnvironmentInfo, EnvironmentsPort } from '../ports/index.js';
import { PER_PAGE, type Params, type RequestLayer } from './request.js';

interface RawEnvironment {
  name: string;
  protection_rules?: { type: string; wait_timer?: number; prevent_self_review?: boolean; reviewers?: { type: string; reviewer?: { id?: number } | null }[] }[];
  deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
}

function mapEnvironment(e: RawEnvironment): EnvironmentInfo {
  const info: EnvironmentInfo = { name: e.name, deployment_branch_policy: e.deployment_branch_policy ?? null };
  for (const rule of e.protection_rules ?? []) {
    if (rule.type === 'wait_timer' && typeof rule.wait_timer === 'number') info.wait_timer = rule.wait_timer;
    if (rule.type === 'required_reviewers') {
      if (typeof rule.prevent_self_review === 'boolean') info.prevent_self_review = rule.prevent_self_review;
      info.reviewers = (rule.reviewers ?? [])
        .filter((r) => (r.type === 'User' || r.type === 'Team') && typeof r.reviewer?.id === 'number')
        .map((r) => ({ type: r.type as 'User' | 'Team', id: r.reviewer?.id as number }));
    }
  }
  return info;
}

export function environmentsPort(http: RequestLayer): EnvironmentsPort {
  return {
    listEnvironments(repo, etag): Promise<Conditional<EnvironmentInfo[]>> {
      return http.call('environments', 'list environments', () =>
        http.conditionalList<RawEnvironment, EnvironmentInfo>('GET /repos/{owner}/{repo}/environments', { ...repo, per_page: PER_PAGE }, 'environments', mapEnvironment, etag),
      );
    },

    putEnvironment(repo, env) {
      const body: Params = {};
      if (env.wait_timer !== undefined) body.wait_timer = env.wait_timer;
      if (env.prevent_self_review !== undefined) body.prevent_self_review = env.prevent_self_review;
      if (env.reviewers !== undefined) body.reviewers = env.reviewers.map((r) => ({ type: r.type, id: r.id }));
      if (env.deployment_branch_policy !== undefined) body.deployment_branch_policy = env.deployment_branch_policy;
      return http.call('administration', `create or update environment ${env.name}`, async () => {
        await http.req('PUT /repos/{owner}/{repo}/environments/{environment_name}', { ...repo, environment_name: env.name, ...body });
      });
    },
  };
}
