import { randomBytes } from 'node:crypto';
import { planToJson } from '../../core/env-plan/index.js';
import { HealRequest, parseWith } from '../../core/schemas/index.js';
import { heal } from '../../pipeline/heal.js';
import { sync } from '../../pipeline/sync.js';
import { contextFrom, JSON_FLAG, positiveInt, repoOption, type CommandModule } from '../runtime.js';

/** `heal` and `sync`: the two flows that change a repository. */
export const healCommands: CommandModule = (rt) => {
  const { program, io, exit } = rt;
  program
    .command('heal')
    .description('classify a failed run and let the Governor heal it')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .requiredOption('--run-id <id>', 'failed workflow run id', positiveInt)
    .option('--environment <name>', 'deployment environment of the run')
    .option('--dry-run', 'decide and print, change nothing (needs no signing key)', false)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; runId: number; environment?: string; dryRun: boolean; json: boolean }) => {
      const request = parseWith(HealRequest, { repository: o.repo, run_id: o.runId, environment: o.environment, dry_run: o.dryRun }, 'arguments');
      const ctx = await contextFrom(rt, { signing: o.dryRun ? 'optional' : 'required', repository: o.repo });
      const id = `cli-${randomBytes(6).toString('hex')}`;
      const result = await heal(ctx, { id, door: 'cli', delivery_id: id, received_at: ctx.now().toISOString(), request });
      io.out(o.json ? `${JSON.stringify({ status: result.status, summary: result.summary, decision: result.decision, certificate_hash: result.certificate?.certificate_hash ?? null, comment_url: result.commentUrl, issue_url: result.issueUrl }, null, 2)}\n` : `${result.summary}\n`);
      if (result.status === 'failed') exit.code = 1;
    });

  program
    .command('sync')
    .description('audit .github/environment.json against GitHub and apply the drift')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option('--environment <name>', 'only this deployment environment')
    .option('--dry-run', 'print the plan, write nothing', false)
    .option('--confirm-prune', 'allow the deletions planned by prune: true', false)
    .option('--json', 'print the plan and report as JSON', false)
    .action(async (o: { repo: string; environment?: string; dryRun: boolean; confirmPrune: boolean; json: boolean }) => {
      const ctx = await contextFrom(rt, { repository: o.repo });
      const result = await sync(ctx, { repository: o.repo, environment: o.environment, dryRun: o.dryRun, confirmPrune: o.confirmPrune });
      // The documented JSON shape of a plan (and what was applied), not the internal result object.
      io.out(o.json ? `${planToJson(result.plan, result.report ?? undefined)}\n` : `${result.driftTable}\n`);
    });
};
