import { createOctokit } from '../../github/index.js';
import { whoAmI } from '../../github/preflight.js';
import { handleApprovalComment } from '../../pipeline/approve.js';
import { contextFrom, apiUrlOf, JSON_FLAG, print, repoOption, tokenFrom, UsageError, type CliRuntime, type CommandModule } from '../runtime.js';

/**
 * Who answers: --by, else the token's own user. An App installation token has no user, so it needs
 * --by with the operator's GitHub login; either way that login is checked like a comment's author.
 */
async function actorOf(rt: CliRuntime, by: string | undefined): Promise<string> {
  if (by) return by;
  const token = tokenFrom(rt.io.env);
  const login = token ? await whoAmI(createOctokit({ auth: token, baseUrl: apiUrlOf(rt), retry: { retries: 1 } })) : null;
  if (!login) throw new UsageError('the token has no user of its own (an App installation token): pass --by <your GitHub login>; it is checked like the author of a /bridge comment');
  return login;
}

/**
 * `approve <id>` / `reject <id>`: the CLI form of `/bridge approve|reject <id>`, through the same
 * pipeline path (src/pipeline/approve.ts): the same permission check (write access, or `approvers`
 * in .github/autonomy.yml), the same compare-and-swap claim, the same execution and certificate.
 */
export const approveCommands: CommandModule = (rt) => {
  for (const verb of ['approve', 'reject'] as const) {
    rt.program
      .command(verb)
      .description(verb === 'approve'
        ? 'approve a pending suggestion (like a /bridge approve comment): it is executed and certified now'
        : 'reject a pending suggestion (like a /bridge reject comment): nothing is done and the Governor learns it')
      .argument('<id>', 'the suggestion id (shown in the comment, the dashboard issue and `incidents list --repo`)')
      .requiredOption('--repo <owner/name>', 'repository', repoOption)
      .option('--by <login>', 'your GitHub login (default: the token\'s user; needed with an App installation token)')
      .option(...JSON_FLAG, false)
      .action(async (id: string, o: { repo: string; by?: string; json: boolean }) => {
        const actor = await actorOf(rt, o.by);
        const ctx = await contextFrom(rt, { repository: o.repo });
        // No comment thread to answer on: the answer is recorded in the ledger and its audit trail.
        const outcome = await handleApprovalComment(ctx, { repository: o.repo, issueNumber: null, actor, command: { verb, id } });
        const result = outcome.result;
        const json = {
          status: outcome.status, reason: outcome.reason, id, actor,
          ...(result ? { heal_status: result.status, summary: result.summary, certificate_hash: result.certificate?.certificate_hash ?? null, comment_url: result.commentUrl, issue_url: result.issueUrl } : {}),
        };
        const text = outcome.status === 'executed'
          ? `${id}: approved by ${actor} and executed: ${result?.summary ?? ''}${result?.certificate ? `\ncertificate ${result.certificate.certificate_hash}` : ''}`
          : outcome.status === 'rejected'
            ? `${id}: rejected by ${actor}; nothing was done`
            : `${id}: not ${verb === 'approve' ? 'approved' : 'rejected'}: ${outcome.reason}`;
        print(rt, o.json, json, text);
        if (outcome.status === 'refused' || (result && result.status === 'failed')) rt.exit.code = 1;
      });
  }
};
