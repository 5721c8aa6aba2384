import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { createSigner, generateSigningKey } from '../core/certificate/index.js';
import { parseRepoFullName } from '../core/schemas/index.js';
import type { Door } from '../core/schemas/index.js';
import { buildContext, ConfigurationError, createLogger, loadSigner, pipelineSettingsFrom } from '../pipeline/build-context.js';
import type { PipelineContext } from '../pipeline/context.js';
import { TrustedKeysError, pinnedKeys } from '../pipeline/trust.js';

/** A mistake in how the CLI was called (exit 2), found after commander parsed the arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where CLI output goes; injectable so tests can run the CLI in-process. */
export interface CliIo { out: (s: string) => void; err: (s: string) => void; env: Record<string, string | undefined>; stdin?: NodeJS.ReadableStream }

/** What every command module gets: the io, the exit code to set, and the way to a pipeline context. */
export interface CliRuntime {
  io: CliIo;
  exit: { code: number };
  program: Command;
}

/** One command group: adds its commands to the program. */
export type CommandModule = (rt: CliRuntime) => void;

export const repoOption = (value: string): string => {
  try {
    parseRepoFullName(value);
    return value;
  } catch {
    throw new InvalidArgumentError('expected "owner/name"');
  }
};

export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

export function tokenFrom(env: Record<string, string | undefined>): string | undefined {
  return env.LIVING_BRIDGE_TOKEN ?? env.GITHUB_TOKEN ?? env.GH_TOKEN;
}

export const NO_TOKEN = 'no GitHub token: set LIVING_BRIDGE_TOKEN (an App installation token or a PAT with secrets, variables, actions, contents, issues write)';

/**
 * A pipeline context for a command that talks to GitHub. Commands that sign nothing (`heal --dry-run`,
 * `verify`, `status`, `grant list`) pass `signing: 'optional'`: without a key they get a throwaway one,
 * since nothing they do is written or kept.
 */
export async function contextFrom(rt: CliRuntime, opts: { signing?: 'required' | 'optional'; door?: Door; repository?: string } = {}): Promise<PipelineContext> {
  const { io } = rt;
  const token = tokenFrom(io.env);
  if (!token) throw new ConfigurationError(NO_TOKEN);
  // The CLI's environment, parsed once into the typed settings the pipeline runs with.
  const settings = pipelineSettingsFrom(io.env);
  const noKey = !io.env.TRUTH_SIGNING_KEY?.trim() && !io.env.TRUTH_SIGNING_KEY_FILE;
  const signer = opts.signing === 'optional' && noKey
    ? await createSigner((await generateSigningKey(new Uint8Array(randomBytes(32)))).secretKey)
    : await loadSigner(io.env);
  // Logs go to stderr: stdout is the command's output (and must stay parseable with --json).
  const log = createLogger('living-bridge-cli', io.env.LOG_LEVEL ?? 'warn', { fd: 2 });
  const ctx = buildContext({ token, baseUrl: apiUrlOf(rt), signer, settings, door: opts.door ?? 'cli', repository: opts.repository, log, retry: { retries: 1 } });
  // `status` and `incidents` verify the chain with the keys this shell pins (rotated keys included). A
  // malformed LIVING_BRIDGE_TRUSTED_KEYS is reported by `verify` and `doctor`, which read it themselves;
  // here it only leaves the signer as the one trusted key rather than failing every command.
  try { return { ...ctx, trust: pinnedKeys({ env: io.env, signer }) }; } catch (err) { if (err instanceof TrustedKeysError) return ctx; throw err; }
}

/** The REST base URL the CLI talks to: --api-url, $GITHUB_API_URL, or GitHub. */
export function apiUrlOf(rt: CliRuntime): string | undefined {
  return rt.program.opts<{ apiUrl?: string }>().apiUrl ?? rt.io.env.GITHUB_API_URL;
}

/** Prints a command's result: pretty JSON with --json, the human text otherwise. */
export function print(rt: CliRuntime, json: boolean, value: unknown, text: string): void {
  rt.io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);
}

export const JSON_FLAG = ['--json', 'print the result as JSON'] as const;
