/**
 * Settings: the process environment turned, once, by a door into the typed settings the pipeline
 * runs with. Pure: the door passes the environment in; nothing below the doors reads `process.env`.
 *
 * - {@link NEVER_A_SOURCE}: the one list of environment variables that are never a `from_env`
 *   source (the App, the Action and the CLI all use it).
 * - {@link PipelineSettings}: what every door's pipeline context needs (autonomy switch, pacing,
 *   request timeout, grant keys, the `from_env` allowlist and the values it admits, public API base).
 *   Each door adds its own (src/app/config.ts, src/action/inputs.ts, src/cli/runtime.ts).
 */
import { z } from 'zod';
import { FROM_ENV_ALLOW_VARIABLE, SettingError, booleanSetting, fromEnvRefusal, parseFromEnvAllow, type FromEnvRule } from './settings.js';

/**
 * Never a `from_env` source, even if an operator's allowlist pattern covers them: the credentials and
 * settings of Living Bridge, Probot, octokit, BullMQ/Redis and the Actions runner. Without this,
 * anyone who can edit a repository's autonomy.yml could declare `source: from_env, env: PRIVATE_KEY`
 * and have the App copy its own key into that repository. (The Action's runner variables — INPUT_*,
 * ACTIONS_*, GITHUB_TOKEN — are in this list too: it is the only one.)
 */
export const NEVER_A_SOURCE: readonly string[] = [
  // Living Bridge
  'TRUTH_SIGNING_KEY*', 'AUTONOMY_*', 'LIVING_BRIDGE_*',
  // Probot / the GitHub App
  'APP_ID', 'PRIVATE_KEY*', 'WEBHOOK_SECRET', 'WEBHOOK_PROXY_URL', 'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'CLIENT_SECRET', 'SENTRY_DSN', 'GHE_HOST',
  // octokit, gh and the runner's GITHUB_* (GITHUB_TOKEN among them)
  'GITHUB_*', 'GH_*',
  // BullMQ / ioredis
  'REDIS*', 'REDISCLI_AUTH',
  // the Actions runner (inputs, runtime, OIDC, cache and results tokens)
  'ACTIONS_*', 'INPUT_*', 'RUNNER_*', 'NODE_AUTH_TOKEN',
];

const NEVER_A_SOURCE_RE = new RegExp(`^(${NEVER_A_SOURCE.map((p) => (p.endsWith('*') ? `${p.slice(0, -1)}\\w*` : p)).join('|')})$`);

/** Why `name` is never a source (an own credential), or null. */
export function ownCredentialRefusal(name: string): string | null {
  return NEVER_A_SOURCE_RE.test(name)
    ? `from_env ${name} is refused: it is one of the credentials or settings of Living Bridge, Probot, octokit, Redis or the Actions runner, which are never a source`
    : null;
}

/** The `from_env` allowlist and the only environment values it can ever admit (own credentials never). */
export interface FromEnvSettings {
  rules: FromEnvRule[];
  /** Variables some rule names (for some repository), minus {@link NEVER_A_SOURCE}: nothing else leaves the door. */
  values: Record<string, string>;
}

/** The one rule for `from_env` of `repository`: the operator's allowlist, then the never-a-source list. */
export function fromEnvPolicyOf(fromEnv: FromEnvSettings, repository: string | null): (name: string) => string | null {
  return (name) => ownCredentialRefusal(name) ?? fromEnvRefusal(fromEnv.rules, name, repository);
}

/** The values `from_env` sources of `repository` may read (what the allowlist admits for it). */
export function sourceEnvOf(fromEnv: FromEnvSettings, repository: string | null): Record<string, string | undefined> {
  const refusal = fromEnvPolicyOf(fromEnv, repository);
  return Object.fromEntries(Object.entries(fromEnv.values).filter(([name]) => refusal(name) === null));
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

type Env = Record<string, string | undefined>;

/** A variable read with one of the core's parsers; its SettingError becomes a zod issue with the same message. */
const setting = <T>(read: (raw: string | undefined) => T) =>
  z.string().optional().transform((raw, ctx): T => {
    try {
      return read(raw);
    } catch (err) {
      if (!(err instanceof SettingError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
      return z.NEVER;
    }
  });
const flag = (name: string, fallback: boolean) => setting((raw) => booleanSetting({ [name]: raw }, name, fallback));

/** LIVING_BRIDGE_GRANT_KEYS="keyid=base64,keyid2=base64": operators' keys trusted to sign grants. */
export function parseGrantKeys(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** The environment variables of {@link PipelineSettings}, each with its parser. */
const PipelineEnv = z.object({
  AUTONOMY_ENABLED: flag('AUTONOMY_ENABLED', true),
  LIVING_BRIDGE_CLIENT_PACING: flag('LIVING_BRIDGE_CLIENT_PACING', true),
  LIVING_BRIDGE_REQUEST_TIMEOUT_MS: setting((raw) => {
    const ms = Number(raw ?? DEFAULT_REQUEST_TIMEOUT_MS);
    if (!Number.isFinite(ms) || ms < 100) throw new SettingError('LIVING_BRIDGE_REQUEST_TIMEOUT_MS', 'LIVING_BRIDGE_REQUEST_TIMEOUT_MS must be a number of milliseconds >= 100');
    return ms;
  }),
  LIVING_BRIDGE_GRANT_KEYS: setting(parseGrantKeys),
  [FROM_ENV_ALLOW_VARIABLE]: setting(parseFromEnvAllow),
  PUBLIC_API_BASE: z.string().optional(),
});

export interface PipelineSettings {
  /** AUTONOMY_ENABLED: the global kill switch (false: every decision is NOOP(halted)). */
  autonomyEnabled: boolean;
  /** LIVING_BRIDGE_CLIENT_PACING: client-side spacing of writes (off for the sandbox); retries stay on either way. */
  clientPacing: boolean;
  /** LIVING_BRIDGE_REQUEST_TIMEOUT_MS: deadline of each GitHub request (default 30 000, at least 100). */
  requestTimeoutMs: number;
  /** LIVING_BRIDGE_GRANT_KEYS: keyid → base64 public key of the operators trusted to sign grants. */
  grantKeys: Record<string, string>;
  /** LIVING_BRIDGE_FROM_ENV_ALLOW and the values it admits. */
  fromEnv: FromEnvSettings;
  /** PUBLIC_API_BASE: where the App's API is reachable, for links in comments. */
  publicApiBase?: string;
}

/**
 * The environment → {@link PipelineSettings}; every problem at once (each message names its
 * variable and never echoes a secret value). Pure: the door passes its environment in.
 */
export function parsePipelineSettings(env: Env): { settings: PipelineSettings; problems?: undefined } | { settings?: undefined; problems: string[] } {
  const parsed = PipelineEnv.safeParse(env);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => i.message) };
  const e = parsed.data;
  const rules = e[FROM_ENV_ALLOW_VARIABLE];
  // Only what some rule could admit leaves the door; the repository scope is applied per context.
  const values: Record<string, string> = {};
  const anyRepository = rules.map((r) => ({ ...r, scope: null }));
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && fromEnvPolicyOf({ rules: anyRepository, values: {} }, null)(name) === null) values[name] = value;
  }
  return {
    settings: {
      autonomyEnabled: e.AUTONOMY_ENABLED,
      clientPacing: e.LIVING_BRIDGE_CLIENT_PACING,
      requestTimeoutMs: e.LIVING_BRIDGE_REQUEST_TIMEOUT_MS,
      grantKeys: e.LIVING_BRIDGE_GRANT_KEYS,
      fromEnv: { rules, values },
      ...(e.PUBLIC_API_BASE !== undefined ? { publicApiBase: e.PUBLIC_API_BASE } : {}),
    },
  };
}
