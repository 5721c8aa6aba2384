/**
 * Line rules of the failure classifier. Each rule looks at ONE cleaned line (plus the previous one for
 * messages GitHub wraps) and reports a raw signal; the engine turns signals into incidents using the
 * step context (env block, masked values) it has seen so far.
 *
 * Order matters: on each line the FIRST matching rule wins. Specific, causal messages come first
 * (a maven "could not resolve" that ends in "Connection reset" is a network blip, not a dependency bug).
 */
import type { IncidentKind, IncidentTarget } from '../schemas/index.js';

/** What a rule saw. `missing` signals are resolved by the engine into secret.missing / variable.missing. */
export type RawSignal =
  | { type: 'kind'; kind: Exclude<IncidentKind, 'unknown'>; confidence: number; target?: IncidentTarget | null }
  /** An action input or named value is required but empty. `credential` true when the message itself says secret/token. */
  | { type: 'missing-input'; input: string; confidence: number }
  | { type: 'missing-name'; name: string; confidence: number; hint?: 'secret' | 'variable' }
  | { type: 'missing-unnamed'; hint: 'secret' | 'variable'; confidence: number }
  /** An authentication failure; `weak` when the phrase could also mean something else. */
  | { type: 'auth'; confidence: number; weak?: boolean }
  /** AWS-style "credentials could not be loaded": missing if an empty key is in scope, else a weak auth failure. */
  | { type: 'credentials-unloaded'; confidence: number };

export interface Rule {
  id: string;
  /** Cheap pre-check (substring, case-sensitive) to skip the regex on most lines; optional. */
  has?: string[];
  re: RegExp;
  /** Match against `previous line + ' ' + line` (for messages wrapped over two lines). */
  joinPrevious?: boolean;
  signal: (m: RegExpExecArray) => RawSignal | null;
}

const file = (name: string | undefined): IncidentTarget | null => (name ? { type: 'file', name } : null);
const pkg = (name: string | undefined): IncidentTarget | null => (name ? { type: 'package', name } : null);

export const RULES: Rule[] = [
  // ── timeouts and cancellations ────────────────────────────────────────────────────────────────
  { id: 'max-exec-time', re: /has exceeded the maximum execution time/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.9 }) },
  { id: 'op-canceled', re: /\bThe operation was cancell?ed\b/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.8 }) },
  { id: 'job-canceled', re: /^(?:##\[error\])?The (?:job|run) was cancell?ed|Canceling since a higher priority waiting request/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.75 }) },

  // ── resource exhaustion ───────────────────────────────────────────────────────────────────────
  { id: 'no-space', re: /No space left on device|ENOSPC\b/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.9 }) },
  { id: 'heap-oom', re: /heap out of memory|heap limit Allocation failed|ERR_WORKER_OUT_OF_MEMORY|java\.lang\.OutOfMemoryError/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.9 }) },
  { id: 'enomem', re: /\bENOMEM\b|Cannot allocate memory|\bOOMKilled\b|Out of memory: Killed process/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.85 }) },
  { id: 'exit-137', re: /exit(?:ed with)? code 137\b|^Killed\s*$/, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.7 }) },

  // ── transient network (before dependency and auth: "429", "Connection reset" inside resolver errors) ──
  { id: 'rate-limit', re: /\b429\b[^\n]{0,40}Too Many Requests|Too Many Requests[^\n]{0,20}\b429\b|\btoomanyrequests\b|pull rate limit|secondary rate limit|API rate limit exceeded/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.8 }) },
  { id: 'runner-lost', re: /runner[^\n]{0,80}lost communication with the server/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.85 }) },
  { id: 'econn', re: /\b(?:ECONNRESET|ETIMEDOUT|EAI_AGAIN|ESOCKETTIMEDOUT|EPIPE)\b|socket hang up|TLS handshake timeout|Connection reset(?: by peer)?\b|Temporary failure in name resolution|network aborted|net\/http: request canceled while waiting for connection/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.8 }) },
  { id: 'http-5xx', re: /\b(?:502 Bad Gateway|503 Service (?:Temporarily )?Unavailable|504 Gateway Time-?out)\b|(?:status(?: code)?|HTTP)[: ]+50[234]\b/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.75 }) },
  { id: 'resolve-host', re: /Could not resolve host:? ?([\w.-]+)|getaddrinfo ENOTFOUND ([\w.-]+)/i, signal: (m) => ({ type: 'kind', kind: 'transient.network', confidence: 0.6, target: m[1] ?? m[2] ? { type: 'host', name: (m[1] ?? m[2]) as string } : null }) },

  // ── missing secrets / variables ───────────────────────────────────────────────────────────────
  { id: 'input-required', has: ['Input required'], re: /Input required and not supplied: ([A-Za-z_][\w-]*)/, signal: (m) => ({ type: 'missing-input', input: m[1] as string, confidence: 0.85 }) },
  { id: 'input-is-required', re: /The [`'"]?([A-Za-z_][\w-]*)[`'"]? input is required/i, signal: (m) => ({ type: 'missing-input', input: m[1] as string, confidence: 0.8 }) },
  { id: 'opts-auth', has: ['opts.auth'], re: /Parameter token or opts\.auth is required/, signal: () => ({ type: 'missing-input', input: 'token', confidence: 0.8 }) },
  { id: 'secret-not-configured', re: /argument is empty\. Maybe the secret has not been configured|secret (?:has not been|is not|was not) (?:configured|set|provided)|\bsecret(?: [\w-]+)? not found\b/i, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.8 }) },
  { id: 'context-access', re: /Context access might be invalid: ([A-Za-z_][A-Za-z0-9_]*)/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.6 }) },
  { id: 'secrets-ref', re: /\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)\b[^\n]{0,60}\b(?:not (?:set|found|defined|available)|is (?:empty|missing|required))/i, signal: (m) => ({ type: 'missing-name', name: m[2] as string, confidence: 0.8, hint: (m[1] as string).toLowerCase() === 'vars' ? 'variable' : 'secret' }) },
  { id: 'set-env-var', joinPrevious: true, re: /\b(?:set|provide|define|specify|export)(?: a| an| the)? [`'"]?([A-Z][A-Z0-9_]{2,})[`'"]? (?:environment variable|env var|secret)/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.8 }) },
  { id: 'is-not-set', re: /\b[`'"$]?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{3,})[`'"]? (?:environment variable |env var |secret |variable )?(?:is not set|is not defined|is empty|must be set|is required but (?:was )?not (?:set|provided))\b/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.75 }) },
  { id: 'unbound-variable', has: ['unbound variable'], re: /\b([A-Za-z_][A-Za-z0-9_]*): unbound variable/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.75 }) },
  { id: 'no-npm-token', re: /ENONPMTOKEN|No npm token specified/, signal: () => ({ type: 'missing-name', name: 'NPM_TOKEN', confidence: 0.85, hint: 'secret' }) },
  { id: 'creds-unloaded', re: /Credentials could not be loaded|Could not load credentials from any providers/, signal: () => ({ type: 'credentials-unloaded', confidence: 0.5 }) },
  { id: 'expr-empty', re: /Error when evaluating '[^']+' for job '[^']+'.*Unexpected value ''/, signal: () => ({ type: 'missing-unnamed', hint: 'variable', confidence: 0.55 }) },
  { id: 'region-missing', re: /Region not specified|You must specify a region|Missing region in config|\bRegion is missing\b/i, signal: () => ({ type: 'missing-name', name: 'AWS_REGION', confidence: 0.6, hint: 'variable' }) },

  // ── present but wrong credentials ─────────────────────────────────────────────────────────────
  { id: 'aws-invalid', re: /security token included in the request is (?:invalid|expired)|InvalidClientTokenId|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken/, signal: () => ({ type: 'auth', confidence: 0.85 }) },
  { id: 'bad-credentials', re: /\bBad credentials\b|invalid username or password|incorrect username or password|requested access to the resource is denied|authentication failed|failed to authenticate|could not authenticate|\bunauthenticated\b|User cannot be authenticated/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'http-401', re: /\b401\b[^\n]{0,40}Unauthori[sz]ed|Unauthori[sz]ed[^\n]{0,20}\b401\b|\bE401\b|status(?: code)?:? 401\b|\(401\)|\b401\b[^\n]{0,60}\btoken\b/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'token-invalid', re: /\b(?:invalid|expired|revoked) (?:access |auth |api |bearer |personal access )?token\b|\btoken (?:has been |had been |is |has |was )?(?:invalid|expired|revoked)\b|\binvalid_token\b|\bbad_auth\b/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'http-403', re: /\b403\b[^\n]{0,40}Forbidden|Forbidden[^\n]{0,20}\b403\b|\bE403\b/i, signal: () => ({ type: 'auth', confidence: 0.6 }) },
  { id: 'token-not-found', re: /\btoken not found\b|\bnot logged in\b|need auth\b|ENEEDAUTH/i, signal: () => ({ type: 'auth', confidence: 0.5, weak: true }) },

  // ── invalid configuration ─────────────────────────────────────────────────────────────────────
  { id: 'invalid-workflow', has: ['nvalid workflow file'], re: /Invalid workflow file:? ?([^\s#]+)?/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.9, target: file(m[1]) }) },
  { id: 'unable-parse-file', re: /(?:Unable|Failed|failed|unable) to (?:parse|load|read)(?: (?:the )?configuration from)? [`'"]?([\w./-]+\.(?:ya?ml|toml|json|jsonc|ini|cfg|conf|hcl|tf))[`'"]?/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.8, target: file(m[1]) }) },
  { id: 'yaml-error', re: /YAMLException|YAML parse exception|bad indentation of a mapping entry|mapping values are not allowed|did not find expected key|could not find expected ':'|yaml: line \d+:|found character that cannot start any token/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.8 }) },
  { id: 'json-config', re: /Unexpected token .{0,20} in JSON at position \d+|is not valid JSON|JSONDecodeError|Unexpected end of JSON input/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.6 }) },
  { id: 'enoent-config', re: /ENOENT: no such file or directory, (?:open|stat|lstat) '([^']*(?:config|rc|\.ya?ml|\.json|\.toml|\.env)[^']*)'/i, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.7, target: file(m[1]) }) },
  { id: 'toml-error', re: /(?:wrangler|Cargo|pyproject|netlify)\.toml[^\n]{0,80}(?:error|invalid|unknown field|expected)|TOML parse error|Failed to parse TOML/i, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.75, target: file(/([\w-]+\.toml)/.exec(m[0])?.[1]) }) },
  { id: 'terraform-invalid', re: /^(?:│\s*)?Error: (?:Invalid|Unsupported argument|Unsupported block type|Missing required argument|Reference to undeclared|Duplicate)[^\n]*$/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.65 }) },
  { id: 'tf-file', re: /^(?:│\s*)?\s*on ([\w./-]+\.tf) line \d+/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.5, target: file(m[1]) }) },

  // ── dependency resolution ─────────────────────────────────────────────────────────────────────
  { id: 'npm-eresolve', re: /\bERESOLVE\b|unable to resolve dependency tree/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85 }) },
  { id: 'npm-etarget', re: /No matching version found for ((?:@[^\s@/]+\/)?[^\s@]+)@|notarget No (?:matching|compatible) version found(?: for|:) ((?:@[^\s@/]+\/)?[^\s@]+)@/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: pkg(m[1] ?? m[2]) }) },
  { id: 'npm-etarget-code', re: /\bcode ETARGET\b/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.75 }) },
  { id: 'npm-lock', re: /`npm ci` can only install packages when your package\.json and package-lock\.json|npm ci.{0,40}lock file.{0,40}(?:out of sync|not in sync)/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('package-lock.json') }) },
  { id: 'yarn-lock', re: /YN0028|lockfile would have been (?:modified|created)|Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('yarn.lock') }) },
  { id: 'pnpm-lock', re: /ERR_PNPM_OUTDATED_LOCKFILE|pnpm-lock\.yaml is not up to date/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('pnpm-lock.yaml') }) },
  { id: 'pip', re: /ResolutionImpossible|because these package versions have conflicting dependencies|No matching distribution found for ([\w.[\]-]+)/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: pkg(m[1]) }) },
  { id: 'maven', re: /Could not resolve dependencies for project|Cannot resolve (?:project )?dependencies|Could not find artifact \S+|Failed to collect dependencies at/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8 }) },
  { id: 'go-mod', re: /^go: (?:finding module for package \S+\n)?([\w./-]+)(?:@\S+)?: (?:module [\w./-]+ not found|reading [^\n]*: 404|unknown revision|invalid version)|cannot find module providing package ([\w./-]+)/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8, target: pkg(m[1] ?? m[2]) }) },
  { id: 'cargo-dep', re: /failed to select a version for the requirement `([\w-]+)|no matching package named `([\w-]+)` found/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8, target: pkg(m[1] ?? m[2]) }) },

  // ── code failures ─────────────────────────────────────────────────────────────────────────────
  { id: 'jest-summary', re: /^\s*Tests:\s+\d+ failed\b|^\s*Test Suites:\s+\d+ failed\b|^FAIL\s+\S+\.(?:test|spec)\.[jt]sx?\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'expect-received', re: /expect\(received\)|^\s*● .+ › /, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.7 }) },
  { id: 'pytest', re: /^FAILED \S+::\S+|^=+ (?:\d+ (?:passed|skipped|warnings?), )*\d+ failed|^E\s+AssertionError\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'assertion', re: /\bAssertionError\b|\bAssertionFailedError\b|\bassert(?:ion)? failed\b/i, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.65 }) },
  { id: 'tsc', re: /\berror TS\d{4,5}\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'go-test', re: /^--- FAIL: \S+|^FAIL\s+[\w./-]+\s+\d+(?:\.\d+)?s$/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'cargo', re: /^error\[E\d{4}\]|^error: could not compile `/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'compile', re: /\[ERROR\] COMPILATION ERROR|^\S+\.(?:java|kt|c|cc|cpp|go|rs|py|ts|js)(?::\d+)+:? error:|Compilation failed|Build FAILED\.|There (?:was|were) \d+ failures?:/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.65 }) },
  { id: 'syntax-error', re: /^\s*(?:Uncaught )?SyntaxError: /, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.6 }) },
];

/**
 * Keywords (lower case) at least one of which appears in every line a rule can match. Lines without any are
 * skipped after one linear scan (most lines of a big log), which keeps the classifier close to I/O speed.
 */
export const PREFILTER_KEYWORDS = [
  'error', 'err!', 'fail', 'denied', 'unauthori', 'credential', 'token', 'secret', 'key', 'password', 'not set',
  'unbound', 'not defined', 'is empty', 'must be set', 'required', 'environment variable', 'env var', 'econn',
  'etimedout', 'eai_again', 'esockettimedout', 'epipe', 'socket hang', 'tls handshake', 'connection reset',
  'name resolution', 'network', 'too many requests', 'toomanyrequests', 'rate limit', 'lost communication',
  'exceeded', 'cancel', 'space left', 'enospc', 'heap', 'memory', 'enomem', 'oomkilled', 'killed', '137', '401',
  '403', '429', '502', '503', '504', 'resolv', 'etarget', 'no matching', 'lock', 'yn0028', 'yaml', 'invalid',
  'parse', 'unexpected', 'enoent', 'tests:', 'suites:', 'assert', 'expect(', '--- fail', 'region', 'context access',
  'argument', 'indentation', 'mapping values', 'forbidden', 'authenticat', 'auth', 'logged in', 'could not',
  'cannot', 'unable', 'toml', 'artifact', 'not found', 'version found', 'conflicting', 'resolutionimpossible',
  'go: ', 'syntaxerror', 'compilation', 'build failed', '●',
];

/** Builds a case-insensitive (ASCII) Aho-Corasick scanner: one table lookup per character. */
export function keywordScanner(keywords: readonly string[]): (s: string) => boolean {
  const ascii = keywords.filter((k) => [...k].every((ch) => ch.charCodeAt(0) < 128));
  const other = keywords.filter((k) => !ascii.includes(k));
  const goto: Array<Map<number, number>> = [new Map()];
  const out: boolean[] = [false];
  for (const k of ascii) {
    let st = 0;
    for (const ch of k.toLowerCase()) {
      const c = ch.charCodeAt(0);
      let nx = goto[st]!.get(c);
      if (nx === undefined) {
        nx = goto.length;
        goto.push(new Map());
        out.push(false);
        goto[st]!.set(c, nx);
      }
      st = nx;
    }
    out[st] = true;
  }
  const n = goto.length;
  const table = new Int32Array(n * 128);
  const fail = new Int32Array(n);
  const final = new Uint8Array(n);
  const queue: number[] = [];
  for (let c = 0; c < 128; c++) {
    const nx = goto[0]!.get(c);
    table[c] = nx ?? 0;
    if (nx !== undefined) queue.push(nx);
  }
  for (let i = 0; i < n; i++) final[i] = out[i] ? 1 : 0;
  while (queue.length) {
    const st = queue.shift() as number;
    if (final[fail[st]!]) final[st] = 1;
    for (let c = 0; c < 128; c++) {
      const nx = goto[st]!.get(c);
      if (nx !== undefined) {
        fail[nx] = table[fail[st]! * 128 + c]!;
        table[st * 128 + c] = nx;
        queue.push(nx);
      } else {
        table[st * 128 + c] = table[fail[st]! * 128 + c]!;
      }
    }
  }
  return (s: string): boolean => {
    let st = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 128) {
        st = 0;
        continue;
      }
      if (c >= 65 && c <= 90) c |= 32;
      st = table[st * 128 + c]!;
      if (final[st]) return true;
    }
    for (const k of other) if (s.includes(k)) return true;
    return false;
  };
}

const scan = keywordScanner(PREFILTER_KEYWORDS);
/** True when a line may match some rule (over-approximation). */
export const PREFILTER = { test: scan };
