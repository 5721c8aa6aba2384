import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SchemaError } from '../core/schemas/index.js';
import { ConfigurationError } from '../pipeline/build-context.js';
import { safeMessage } from '../pipeline/heal.js';
import { VERSION } from '../version.js';
import { auditCommands } from './commands/audit.js';
import { classifyCommands } from './commands/classify.js';
import { controlCommands } from './commands/control.js';
import { labelCommands } from './commands/label.js';
import { grantCommands } from './commands/grant.js';
import { healCommands } from './commands/heal.js';
import { incidentsCommands } from './commands/incidents.js';
import { drillCommands } from './commands/drill.js';
import { keygenCommands } from './commands/keygen.js';
import { rollbackCommands } from './commands/rollback.js';
import { verifyCommands } from './commands/verify.js';
import { explainGitHubError } from './errors.js';
import { apiUrlOf, UsageError, type CliIo, type CliRuntime, type CommandModule } from './runtime.js';

export { UsageError, type CliIo } from './runtime.js';

/**
 * Every command group, one module each (src/cli/commands/*). A new command is a new module added
 * here, so this file stays the wiring and the error policy.
 */
const COMMAND_MODULES: CommandModule[] = [healCommands, verifyCommands, auditCommands, controlCommands, keygenCommands, classifyCommands, grantCommands, incidentsCommands, labelCommands, drillCommands, rollbackCommands];

export function buildCli(io: CliIo, exit: { code: number } = { code: 0 }): Command {
  const program = new Command('living-bridge')
    .description('Heal failed GitHub Actions deploy runs, sync declared environments, verify certificates.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--api-url <url>', 'GitHub REST base URL (GitHub Enterprise or the sandbox); default $GITHUB_API_URL or api.github.com')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const rt: CliRuntime = { io, exit, program };
  for (const register of COMMAND_MODULES) register(rt);
  return program;
}

/** Runs the CLI; returns the exit code. Errors are one clear line, never a stack or a secret. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const exit = { code: 0 };
  const program = buildCli(io, exit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (err) {
    // (InvalidArgumentError is a CommanderError, but one thrown from an action was never printed.)
    if (err instanceof UsageError || err instanceof SchemaError || err instanceof ConfigurationError || err instanceof InvalidArgumentError) {
      io.err(`living-bridge: ${err.message.replace(/\n+/g, '; ')}\n`);
      return 2;
    }
    // Commander has already printed its one-line "error: ..." (or the help/version text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`living-bridge: ${explainGitHubError(err, apiUrlOf({ io, exit, program })) ?? safeMessage(err)}\n`);
    return 1;
  }
}
