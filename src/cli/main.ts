import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SchemaError } from '../core/schemas/index.js';
import { ConfigurationError } from '../pipeline/build-context.js';
import { safeMessage } from '../pipeline/heal.js';
import { VERSION } from '../version.js';
import { approveCommands } from './commands/approve.js';
import { auditCommands } from './commands/audit.js';
import { classifyCommands } from './commands/classify.js';
import { controlCommands } from './commands/control.js';
import { labelCommands } from './commands/label.js';
import { ledgerCommands } from './commands/ledger.js';
import { grantCommands } from './commands/grant.js';
import { healCommands } from './commands/heal.js';
import { incidentsCommands } from './commands/incidents.js';
import { doctorCommands } from './commands/doctor.js';
import { drillCommands } from './commands/drill.js';
import { keygenCommands } from './commands/keygen.js';
import { keyCommands } from './commands/key.js';
import { rollbackCommands } from './commands/rollback.js';
import { statusCommands } from './commands/status.js';
import { validateCommands } from './commands/validate.js';
import { verifyCommands } from './commands/verify.js';
import { explainGitHubError } from './errors.js';
import { apiUrlOf, UsageError, type CliIo, type CliRuntime, type CommandModule } from './runtime.js';

export { UsageError, type CliIo } from './runtime.js';

/**
 * Every command group, one module each (src/cli/commands/*). A new command is a new module added
 * here, so this file stays the wiring and the error policy.
 */
const COMMAND_MODULES: CommandModule[] = [healCommands, verifyCommands, auditCommands, controlCommands, keygenCommands, keyCommands, classifyCommands, grantCommands, incidentsCommands, labelCommands, drillCommands, rollbackCommands, approveCommands, statusCommands, validateCommands, doctorCommands, ledgerCommands];

const HELP_FOOTER = `
Environment:
  LIVING_BRIDGE_TOKEN (or GITHUB_TOKEN, GH_TOKEN)   GitHub token, for every command that talks to GitHub
  TRUTH_SIGNING_KEY (or TRUTH_SIGNING_KEY_FILE)     signing key, for commands that write the ledger
                                                    (not heal --dry-run, verify, grant list, classify)
  GITHUB_API_URL                                    REST base URL (--api-url wins)
  LIVING_BRIDGE_CLIENT_PACING=off                   no client-side pacing of writes (the sandbox)
  LOG_LEVEL                                         the CLI's own logs, JSON on stderr (default warn)

Exit codes:
  0  done (a heal that decided noop, suggested or escalated is still a success)
  1  the heal failed, the chain is broken, or GitHub answered with an error or could not be reached
  2  called wrongly or not configured: a missing or malformed option, an unknown command or grant,
     no token, no or a malformed signing key

Required options are marked in each command's --help; docs/cli.md has the details.`;

export function buildCli(io: CliIo, exit: { code: number } = { code: 0 }): Command {
  const program = new Command('living-bridge')
    .description('Heal failed GitHub Actions deploy runs, sync declared environments, verify certificates.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--api-url <url>', 'GitHub REST base URL (GitHub Enterprise or the sandbox); default $GITHUB_API_URL or api.github.com')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  program.addHelpText('after', HELP_FOOTER);
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
