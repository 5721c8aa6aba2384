import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { classify } from '../core/classify/index.js';
import { planToJson } from '../core/env-plan/index.js';
import { Certificate, GrantBody, HealRequest, SchemaError, parseRepoFullName, parseWith, type Door } from '../core/schemas/index.js';
import { generateSigningKey, verifyChain } from '../core/certificate/index.js';
import { signGrant } from '../core/grants/index.js';
import { buildContext, ConfigurationError, createLogger, loadSigner } from '../pipeline/build-context.js';
import type { PipelineContext } from '../pipeline/context.js';
import { revokeGrant, setHalted, storeGrant } from '../pipeline/control.js';
import { heal, safeMessage } from '../pipeline/heal.js';
import { sync } from '../pipeline/sync.js';
import { verifyLedger } from '../pipeline/verify.js';

/** A mistake in how the CLI was called (exit 2), found after commander parsed the arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where CLI output goes; injectable so tests can run the CLI in-process. */
export interface CliIo { out: (s: string) => void; err: (s: string) => void; env: Record<string, string | undefined> }

const repoOption = (value: string): string => {
  try {
    parseRepoFullName(value);
    return value;
  } catch {
    throw new InvalidArgumentError('expected "owner/name"');
  }
};
const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

async function contextFrom(io: CliIo, opts: { apiUrl?: string }, door: Door = 'cli'): Promise<PipelineContext> {
  const token = io.env.LIVING_BRIDGE_TOKEN ?? io.env.GITHUB_TOKEN ?? io.env.GH_TOKEN;
  if (!token) throw new ConfigurationError('no GitHub token: set LIVING_BRIDGE_TOKEN (an App installation token or a PAT with secrets, variables, actions, contents, issues write)');
  const signer = await loadSigner(io.env);
  // Logs go to stderr: stdout is the command's output (and must stay parseable with --json).
  const log = createLogger('living-bridge-cli', io.env.LOG_LEVEL ?? 'warn', { fd: 2 });
  return buildContext({ token, baseUrl: opts.apiUrl ?? io.env.GITHUB_API_URL, signer, env: io.env, door, log });
}

export function buildCli(io: CliIo, exit: { code: number } = { code: 0 }): Command {
  const program = new Command('living-bridge')
    .description('Heal failed GitHub Actions deploy runs, sync declared environments, verify certificates.')
    .option('--api-url <url>', 'GitHub REST base URL (GitHub Enterprise or the sandbox); default $GITHUB_API_URL or api.github.com')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('heal')
    .description('classify a failed run and let the Governor heal it')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .requiredOption('--run-id <id>', 'failed workflow run id', positiveInt)
    .option('--environment <name>', 'deployment environment of the run')
    .option('--dry-run', 'decide and print, change nothing', false)
    .option('--json', 'print the result as JSON', false)
    .action(async (o: { repo: string; runId: number; environment?: string; dryRun: boolean; json: boolean }) => {
      const request = parseWith(HealRequest, { repository: o.repo, run_id: o.runId, environment: o.environment, dry_run: o.dryRun }, 'arguments');
      const ctx = await contextFrom(io, program.opts());
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
      const ctx = await contextFrom(io, program.opts());
      const result = await sync(ctx, { repository: o.repo, environment: o.environment, dryRun: o.dryRun, confirmPrune: o.confirmPrune });
      // The documented JSON shape of a plan (and what was applied), not the internal result object.
      io.out(o.json ? `${planToJson(result.plan, result.report ?? undefined)}\n` : `${result.driftTable}\n`);
    });

  program
    .command('verify')
    .description('verify a certificate chain: on GitHub (--repo) or offline in a ledger checkout (--dir)')
    .option('--repo <owner/name>', 'repository whose ledger branch to verify', repoOption)
    .option('--dir <path>', 'a checkout of the ledger branch (offline)')
    .action(async (o: { repo?: string; dir?: string }) => {
      if (!o.repo && !o.dir) throw new UsageError('verify: give --repo <owner/name> or --dir <path>');
      if (o.dir) {
        const result = verifyDirectory(o.dir);
        io.out(`${result.ok ? 'chain ok' : 'chain BROKEN'}: ${result.message}\n`);
        if (!result.ok) exit.code = 1;
        return;
      }
      const ctx = await contextFrom(io, program.opts());
      const result = await verifyLedger(ctx, o.repo!);
      io.out(result.ok ? `chain ok: ${result.length} certificates, head ${result.head ?? '(empty)'}\n` : `chain BROKEN at certificate #${(result.brokenAt ?? 0) + 1}: ${result.reason}\n`);
      if (!result.ok) exit.code = 1;
    });

  for (const halt of [true, false]) {
    program
      .command(halt ? 'halt' : 'resume')
      .description(halt ? 'kill switch: stop every action in a repository' : 'lift the kill switch')
      .requiredOption('--repo <owner/name>', 'repository', repoOption)
      .option('--reason <text>', 'why (goes to the audit trail)', halt ? 'halted from the CLI' : 'resumed from the CLI')
      .action(async (o: { repo: string; reason: string }) => {
        const ctx = await contextFrom(io, program.opts());
        await setHalted(ctx, o.repo, halt, o.reason, io.env.USER ?? 'cli');
        io.out(`${o.repo}: ${halt ? 'halted' : 'resumed'}\n`);
      });
  }

  program
    .command('keygen')
    .description('create an Ed25519 signing key for certificates and grants')
    .option('--out <file>', 'write the secret key to this file (mode 600) instead of printing it')
    .action(async (o: { out?: string }) => {
      const key = await generateSigningKey(new Uint8Array(randomBytes(32)));
      if (o.out) {
        writeFileSync(o.out, `${key.secretKey}\n`, { mode: 0o600 });
        io.out(`secret key written to ${o.out}\nkeyid ${key.keyid}\npublic key ${key.publicKey}\n`);
      } else {
        io.out(`TRUTH_SIGNING_KEY=${key.secretKey}\n# keyid ${key.keyid}\n# public key ${key.publicKey}\n`);
      }
    });

  program
    .command('classify')
    .description('classify a GitHub Actions job log file and print the incidents')
    .argument('<logfile>', 'a job log (as downloaded from GitHub)')
    .action(async (file: string) => {
      if (!existsSync(file)) throw new UsageError(`classify: ${file} does not exist`);
      const incidents = await classify(createReadStream(file), { repo: { owner: 'local', repo: 'file' } });
      io.out(`${JSON.stringify(incidents.map(({ repo: _r, ...i }) => i), null, 2)}\n`);
    });

  const grant = program.command('grant').description('signed pre-authorization grants');
  grant
    .command('issue')
    .description('sign a grant with TRUTH_SIGNING_KEY and store it in the repository ledger')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .requiredOption('--actions <list>', 'comma-separated actions, e.g. CREATE_SECRET,RERUN')
    .option('--environments <list>', 'comma-separated environments ("*" = all)', '*')
    .option('--targets <list>', 'comma-separated target names, "*" suffix wildcard', '*')
    .option('--hours <n>', 'validity in hours', positiveInt, 24)
    .option('--break-glass', 'may override a halted Governor (at most 4 hours)', false)
    .option('--max-uses <n>', 'how often it may be used', positiveInt)
    .requiredOption('--reason <text>', 'why the grant exists')
    .action(async (o: { repo: string; actions: string; environments: string; targets: string; hours: number; breakGlass: boolean; maxUses?: number; reason: string }) => {
      const ctx = await contextFrom(io, program.opts());
      const now = ctx.now();
      const body = parseWith(GrantBody, {
        id: `g-${randomBytes(6).toString('hex')}`,
        repository: o.repo,
        actions: o.actions.split(',').map((s) => s.trim()),
        environments: o.environments.split(',').map((s) => s.trim()),
        targets: o.targets.split(',').map((s) => s.trim()),
        not_before: now.toISOString(),
        expires_at: new Date(now.getTime() + o.hours * 3600_000).toISOString(),
        issued_by: io.env.USER ?? 'cli',
        reason: o.reason,
        break_glass: o.breakGlass,
        max_uses: o.maxUses,
      }, 'arguments');
      const signed = await signGrant(body, ctx.signer);
      await storeGrant(ctx, o.repo, signed, body.issued_by);
      io.out(`grant ${body.id} issued until ${body.expires_at}\n`);
    });
  grant
    .command('revoke')
    .description('revoke a grant (recorded in the ledger)')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .argument('<id>', 'grant id')
    .action(async (id: string, o: { repo: string }) => {
      const ctx = await contextFrom(io, program.opts());
      await revokeGrant(ctx, o.repo, id, io.env.USER ?? 'cli');
      io.out(`grant ${id} revoked\n`);
    });

  return program;
}

/** Offline verification of a ledger checkout: `.bridge/certificates/*.json` against `.bridge/keys/*.pub`. */
export function verifyDirectory(dir: string): { ok: boolean; message: string } {
  const root = existsSync(join(dir, '.bridge')) ? join(dir, '.bridge') : dir;
  const certDir = join(root, 'certificates');
  if (!existsSync(certDir)) return { ok: false, message: `${certDir} does not exist` };
  const files = readdirSync(certDir).filter((f) => f.endsWith('.json')).sort();
  const certificates = files.map((f) => parseWith(Certificate, JSON.parse(readFileSync(join(certDir, f), 'utf8')), f));
  const keys: Record<string, string> = {};
  const keyDir = join(root, 'keys');
  if (existsSync(keyDir)) for (const f of readdirSync(keyDir).filter((k) => k.endsWith('.pub'))) keys[f.slice(0, -4)] = readFileSync(join(keyDir, f), 'utf8').trim();
  let expectedHead: string | undefined;
  const statePath = join(root, 'state.json');
  if (existsSync(statePath)) expectedHead = (JSON.parse(readFileSync(statePath, 'utf8')) as { last_certificate_hash?: string }).last_certificate_hash ?? undefined;
  const result = verifyChain(certificates, keys, { expectedHead });
  return result.ok
    ? { ok: true, message: `${result.length} certificates, head ${result.head ?? '(empty)'}` }
    : { ok: false, message: `certificate #${result.index + 1} (${files[result.index] ?? 'missing'}): ${result.reason}` };
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
    io.err(`living-bridge: ${safeMessage(err)}\n`);
    return 1;
  }
}
