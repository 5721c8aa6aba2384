/**
 * Stage 8 of sync: propose the `discovered` inventory (what GitHub holds that the declaration does
 * not name) as one pull request, for full syncs only (a filtered audit saw only part of GitHub).
 */
import { discoveredInventory, sameDiscovered, type ActualInventory } from '../../core/env-plan/index.js';
import type { EnvironmentFile, RepoRef } from '../../core/schemas/index.js';
import { errorMessage } from '../../engines/report.js';
import { ProposalPullRequestError } from '../../ports/index.js';
import type { PipelineContext } from '../context.js';
import { parseEnvironmentFile } from '../repo-files.js';
import { DISCOVERED_BRANCH, type Proposed, type Recorded } from './types.js';

export async function proposeInventory(ctx: PipelineContext, s: Recorded): Promise<Proposed> {
  let prUrl: string | null = null;
  if ((s.opts.writeBack ?? true) && s.auditScopes === null && !s.opts.names) {
    try {
      prUrl = await proposeDiscovered(ctx, s.repo, s.defaultBranch, s.envFilePath, s.rawText, s.declared, s.after.actual);
    } catch (err) {
      s.notes.push(`could not propose the discovered inventory: ${errorMessage(err).split('\n')[0]}`);
    }
  }
  return { ...s, prUrl };
}

/**
 * Writes `discovered` into environment.json on DISCOVERED_BRANCH and opens (or keeps) one PR to the
 * default branch. Never pushes to the default branch; does nothing when the inventory is unchanged.
 */
export async function proposeDiscovered(
  ctx: PipelineContext,
  repo: RepoRef,
  defaultBranch: string,
  path: string,
  rawText: string,
  declared: EnvironmentFile,
  actual: ActualInventory,
): Promise<string | null> {
  const gh = ctx.github;
  const discovered = discoveredInventory(actual, declared, ctx.now());
  if (sameDiscovered(declared.discovered, discovered)) return null;

  const raw = JSON.parse(rawText) as Record<string, unknown>;
  raw.discovered = discovered;
  const names = [
    ...discovered.repository.variables.map((n) => `variable \`${n}\` (repository)`),
    ...discovered.repository.secrets.map((n) => `secret \`${n}\` (repository)`),
    ...Object.entries(discovered.environments).flatMap(([e, d]) => [
      ...(d.variables.length + d.secrets.length === 0 ? [`environment \`${e}\``] : []),
      ...d.variables.map((n) => `variable \`${n}\` (environment ${e})`),
      ...d.secrets.map((n) => `secret \`${n}\` (environment ${e})`),
    ]),
  ];
  // One branch, one pull request (the port's proposeFile): a proposal branch that already records
  // this inventory gets no new commit.
  const proposed = await gh.proposeFile(repo, {
    branch: DISCOVERED_BRANCH,
    base: defaultBranch,
    path,
    content: `${JSON.stringify(raw, null, 2)}\n`,
    message: `env sync: update discovered inventory in ${path}`,
    sameAs: (onBranch) => {
      try {
        return sameDiscovered(parseEnvironmentFile(onBranch, path).discovered, discovered);
      } catch {
        return false;
      }
    },
    pr: {
      title: 'Living Bridge: record items found on GitHub but not declared',
      body: [
        `Env sync found these on GitHub that \`${path}\` does not declare. This PR records them in the generated \`discovered\` section (names only, never values).`,
        '',
        ...names.map((n) => `- ${n}`),
        '',
        'Merging changes nothing on GitHub. To manage one of them, move it into `repository` or `environments` with its source; to remove them, set `prune: true` on the scope and run sync with confirmation.',
        '',
        '<!-- living-bridge:environment-discovered -->',
      ].join('\n'),
    },
  }).catch((err: unknown) => {
    throw err instanceof ProposalPullRequestError ? err.cause : err;
  });
  return proposed.pullRequest.html_url;
}
