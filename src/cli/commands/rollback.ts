import { parseRepoFullName } from '../../core/schemas/index.js';
import { rollBackByHand } from '../../pipeline/config-loop.js';
import { loadRepoConfig } from '../../pipeline/repo-files.js';
import { contextFrom, JSON_FLAG, repoOption, type CommandModule } from '../runtime.js';

/** `rollback <certificate>`: revert a config promotion by hand, redeploy, and record it as a failure. */
export const rollbackCommands: CommandModule = (rt) => {
  const { program, io, exit } = rt;
  program
    .command('rollback')
    .description('revert the config promotion a certificate belongs to (generate, promote or dispatch), redeploy, and record the failure for the EMA')
    .argument('<certificate>', 'certificate hash (at least 12 hex digits) of a config-loop step')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option(...JSON_FLAG, false)
    .action(async (certificate: string, o: { repo: string; json: boolean }) => {
      const ctx = await contextFrom(rt, { repository: o.repo });
      const repo = parseRepoFullName(o.repo);
      const config = await loadRepoConfig(ctx.github, repo);
      const result = await rollBackByHand(ctx, { repo, repository: o.repo, config, certificate });
      io.out(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.status}\n${result.notes.map((n) => `  ${n}`).join('\n')}\n`);
      if (result.status !== 'rolled_back') exit.code = 1;
    });
};
