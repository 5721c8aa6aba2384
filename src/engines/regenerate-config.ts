/**
 * REGENERATE_CONFIG: renders a declared config template (`configs:` in `.github/autonomy.yml`) with
 * the declared variables, validates the result, and proposes it as a pull request from
 * `living-bridge/regenerate-<slug>`. It never pushes to the default branch.
 */
import { parse as parseYaml } from 'yaml';
import type { Change, RepoRef } from '../core/schemas/index.js';
import { ProposalPullRequestError, gitBlobSha, type ContentsPort, type FileContent, type GitDataPort, type ProposalsPort, type ProposedFile } from '../ports/index.js';
import { validateConfig, type JsonSchema } from './config-validation.js';
import { failed, fromPortError, type EngineResult } from './report.js';

export interface RegenerateConfigPlan {
  repo: RepoRef;
  /** The config file to regenerate. */
  path: string;
  /** Path of the template in the repository. */
  template: string;
  /** Values for `{{ vars.NAME }}` (environment.json's declared variables). */
  variables: Record<string, string>;
  /** The repository's default branch (the PR's base); read from GitHub when empty. */
  baseBranch: string;
  /** Path of a JSON Schema in the repository the result must satisfy (else the built-in one for its kind). */
  schema?: string;
}

export type RegenerateConfigReport = EngineResult<{
  branch?: string;
  commitSha?: string;
  pullRequest?: { number: number; html_url: string; created: boolean };
  /** The proposal, for the promotion loop: blobs before (null: absent) and after, on which base. */
  proposal?: { path: string; base: string; beforeBlob: string | null; afterBlob: string; schemas: string[] };
}>;

export const REGENERATE_BRANCH_PREFIX = 'living-bridge/regenerate-';

/** `config/app.json` -> `living-bridge/regenerate-config-app-json`. */
export function regenerateBranch(path: string): string {
  const slug = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'config';
  return `${REGENERATE_BRANCH_PREFIX}${slug}`;
}

export type RenderResult = { ok: true; content: string } | { ok: false; error: string; unknown: string[] };

/**
 * Fills `{{ vars.NAME }}` placeholders. Any other `{{ ... }}` (an undeclared variable, a typo, a
 * `{{ secrets.X }}`) makes the whole render fail: never a half-rendered file. `${{ ... }}` is a GitHub
 * Actions expression (workflow templates) and is left as it is.
 */
export function renderTemplate(template: string, variables: Record<string, string>): RenderResult {
  const unknown = new Set<string>();
  const content = template.replace(/(\$?)\{\{([\s\S]*?)\}\}/g, (whole, dollar: string, inner: string) => {
    if (dollar === '$') return whole;
    const m = /^\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(inner);
    const name = m?.[1];
    if (name !== undefined && Object.prototype.hasOwnProperty.call(variables, name)) {
      const value = variables[name];
      if (typeof value === 'string') return value;
    }
    unknown.add(`{{${inner}}}`.replace(/\s+/g, ' '));
    return whole;
  });
  if (unknown.size > 0) {
    const list = [...unknown];
    return { ok: false, unknown: list, error: `unknown placeholder${list.length > 1 ? 's' : ''} ${list.join(', ')}: declare the variable${list.length > 1 ? 's' : ''} in .github/environment.json or fix the template` };
  }
  return { ok: true, content };
}

/** Reads and parses the JSON Schema the repository points to (`configs.<path>.schema`). */
async function declaredSchema(port: ContentsPort, plan: RegenerateConfigPlan, base: string): Promise<{ source: string; schema: JsonSchema } | string> {
  const source = plan.schema!;
  const file = await port.readFile(plan.repo, source, base);
  if (!file) return `schema ${source} (configs.${plan.path}.schema in .github/autonomy.yml) not found on ${base}`;
  try {
    const schema: unknown = source.toLowerCase().match(/\.ya?ml$/) ? parseYaml(file.content) : JSON.parse(file.content);
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return `schema ${source} is not a JSON Schema object`;
    return { source, schema: schema as JsonSchema };
  } catch (err) {
    return `schema ${source} does not parse: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/** The file change (and the branch move, when a commit was made) of a proposal. */
function proposalChanges(path: string, branch: string, current: FileContent | null, p: Pick<ProposedFile, 'blobSha' | 'branchBefore' | 'commitSha'>): Change[] {
  const changes: Change[] = [
    {
      kind: 'file', target: path, scope: `branch:${branch}`, op: current ? 'update' : 'create',
      before_fingerprint: current ? `blob:${current.sha}` : null, after_fingerprint: `blob:${p.blobSha}`,
    },
  ];
  if (p.commitSha !== p.branchBefore) {
    changes.push({ kind: 'ref', target: `refs/heads/${branch}`, scope: 'repository', op: p.branchBefore ? 'update' : 'create', before_fingerprint: p.branchBefore ? `commit:${p.branchBefore}` : null, after_fingerprint: `commit:${p.commitSha}` });
  }
  return changes;
}

export async function executeRegenerateConfig(port: ContentsPort & GitDataPort & ProposalsPort, plan: RegenerateConfigPlan): Promise<RegenerateConfigReport> {
  const ACTION = 'REGENERATE_CONFIG' as const;
  const { repo, path } = plan;
  const branch = regenerateBranch(path);

  let base = plan.baseBranch;
  let template: FileContent | null;
  let current: FileContent | null;
  let schema: { source: string; schema: JsonSchema } | string | undefined;
  try {
    if (!base) base = await port.getDefaultBranch(repo);
    template = await port.readFile(repo, plan.template, base);
    current = await port.readFile(repo, path, base);
    if (plan.schema) schema = await declaredSchema(port, plan, base);
  } catch (err) {
    return fromPortError(ACTION, `reading ${plan.template} and ${path}`, err);
  }
  if (branch === base) return failed(ACTION, `refusing to write to ${base}: the proposal branch would be the base branch`);
  if (!template) return failed(ACTION, `template ${plan.template} not found on ${base}`, { notes: [`Declared in .github/autonomy.yml configs.${path}.template.`] });

  const rendered = renderTemplate(template.content, plan.variables);
  if (!rendered.ok) return failed(ACTION, rendered.error, { notes: [`${path} was not changed: rendering ${plan.template} failed.`] });
  if (typeof schema === 'string') return failed(ACTION, schema, { notes: [`${path} was not changed: its declared schema is unusable.`] });
  const validation = validateConfig(path, rendered.content, schema);
  if (!validation.ok) return failed(ACTION, validation.error, { notes: [`${path} was not changed and nothing was proposed: the rendered file failed validation.`] });
  const checked = validation.schemas.length ? `validated against ${validation.schemas.join(', ')}` : validation.format ? `parsed as ${validation.format.toUpperCase()} (no schema applies; declare one with configs.${path}.schema)` : 'not parsed (not JSON, YAML or TOML)';

  if (current && current.content === rendered.content) {
    return {
      action: ACTION, ok: true, certified: true,
      changes: [{ kind: 'file', target: path, scope: 'repository', op: 'noop', before_fingerprint: `blob:${current.sha}`, after_fingerprint: `blob:${current.sha}` }],
      notes: [`${path} on ${base} already matches ${plan.template} rendered with the declared variables; nothing to propose.`],
    };
  }

  let proposed: ProposedFile;
  try {
    proposed = await port.proposeFile(repo, {
      branch,
      base,
      path,
      content: rendered.content,
      message: `Regenerate ${path} from ${plan.template}\n\nRendered by Living Bridge with the declared variables; proposed for review, not pushed to ${base}.`,
      pr: {
        title: `Living Bridge: regenerate ${path}`,
        body: [
          `A run failed on \`${path}\` (config.invalid). This PR regenerates it from the declared template \`${plan.template}\` with the variables declared in \`.github/environment.json\`.`,
          '',
          `- Before: ${current ? `blob ${current.sha}` : '(file absent)'}`,
          `- After: blob ${gitBlobSha(rendered.content)}`,
          '',
          'Living Bridge never pushes to the default branch: review and merge this PR to apply it.',
        ].join('\n'),
      },
    });
  } catch (err) {
    if (err instanceof ProposalPullRequestError) {
      const { commitSha } = err.partial;
      return fromPortError(ACTION, `opening a pull request from ${branch} to ${base}`, err.cause, {
        changes: proposalChanges(path, branch, current, err.partial),
        notes: [`${path} was committed to ${branch} (${commitSha}) but no pull request could be opened.`],
        extra: { branch, commitSha },
      });
    }
    if (err instanceof Error && /^base branch .* not found$/.test(err.message)) return failed(ACTION, err.message);
    return fromPortError(ACTION, `committing ${path} to ${branch}`, err);
  }
  const { blobSha, commitSha, pullRequest: pr } = proposed;
  const changes = proposalChanges(path, branch, current, proposed);
  if (pr.created) changes.push({ kind: 'issue', target: `pull request #${pr.number}`, scope: 'repository', op: 'open', before_fingerprint: null, after_fingerprint: `commit:${commitSha}` });

  let certified = false;
  try {
    const check = await port.readFile(repo, path, branch);
    certified = check !== null && check.content === rendered.content && check.sha === blobSha;
  } catch {
    certified = false;
  }

  return {
    action: ACTION,
    ok: true,
    certified,
    changes,
    branch,
    commitSha,
    pullRequest: pr,
    proposal: { path, base, beforeBlob: current?.sha ?? null, afterBlob: blobSha, schemas: validation.schemas },
    notes: [
      `Regenerated ${path} from ${plan.template} on ${branch} (${checked}); ${pr.created ? 'opened' : 'updated'} pull request #${pr.number} into ${base}: ${pr.html_url}`,
      certified ? `Verified: ${path} on ${branch} is blob ${blobSha}.` : `Not certified: ${path} on ${branch} does not read back as the rendered file.`,
    ],
  };
}
