import { IncidentKind, parseRepoFullName } from '../../core/schemas/index.js';
import { parseLabelCommand, storeLabel } from '../../pipeline/label.js';
import { loadRepoConfig } from '../../pipeline/repo-files.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CommandModule } from '../runtime.js';

/** `label <signature> <kind>`: the CLI form of `/bridge label` (runs with the operator's own credentials). */
export const labelCommands: CommandModule = (rt) => {
  rt.program
    .command('label <signature> <kind>')
    .description(`tell the classifier what a failure signature is in a repository (kinds: ${IncidentKind.options.join(', ')})`)
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option('--by <name>', 'who labels (goes to the ledger and audit trail)')
    .option(...JSON_FLAG, false)
    .action(async (signature: string, kind: string, o: { repo: string; by?: string; json: boolean }) => {
      const command = parseLabelCommand(`/bridge label ${signature} ${kind}`);
      if (!command || 'error' in command) throw new UsageError(command ? command.error : 'usage: label <signature> <kind>');
      const ctx = await contextFrom(rt);
      const config = await loadRepoConfig(ctx.github, parseRepoFullName(o.repo));
      const by = o.by ?? rt.io.env.USER ?? 'cli';
      await storeLabel(ctx, o.repo, config, command, by);
      print(rt, o.json, { repository: o.repo, signature: command.signature, kind: command.kind, by }, `${o.repo}: ${command.signature} labelled ${command.kind}`);
    });
};
