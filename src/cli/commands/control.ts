import { setHalted } from '../../pipeline/control.js';
import { contextFrom, JSON_FLAG, print, repoOption, type CommandModule } from '../runtime.js';

/** `halt` and `resume`: the kill switch. */
export const controlCommands: CommandModule = (rt) => {
  for (const halt of [true, false]) {
    rt.program
      .command(halt ? 'halt' : 'resume')
      .description(halt ? 'kill switch: stop every action in a repository' : 'lift the kill switch')
      .requiredOption('--repo <owner/name>', 'repository', repoOption)
      .option('--reason <text>', 'why (goes to the audit trail)', halt ? 'halted from the CLI' : 'resumed from the CLI')
      .option(...JSON_FLAG, false)
      .action(async (o: { repo: string; reason: string; json: boolean }) => {
        const ctx = await contextFrom(rt);
        await setHalted(ctx, o.repo, halt, o.reason, rt.io.env.USER ?? 'cli');
        print(rt, o.json, { repository: o.repo, halted: halt, reason: o.reason }, `${o.repo}: ${halt ? 'halted' : 'resumed'}`);
      });
  }
};
