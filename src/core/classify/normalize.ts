/**
 * Line normalisation and secret masking for GitHub Actions job logs.
 * Pure: no I/O, no clock.
 */

// eslint-disable-next-line no-control-regex -- ANSI escape sequences are exactly what we strip
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/;

/** Max characters of one line we look at; longer lines are cut (bounded memory, bounded regex time). */
export const MAX_LINE_CHARS = 16_384;
/** Max characters of one evidence text (schema limit). */
export const MAX_EVIDENCE_CHARS = 2000;

/**
 * Strip what GitHub adds around a log line: BOM, trailing CR, the ISO timestamp prefix and ANSI colour codes.
 * The result is what rules match on; line numbers are kept by the caller.
 */
export function cleanLine(raw: string): string {
  let s = raw;
  if (s.length > MAX_LINE_CHARS) s = s.slice(0, MAX_LINE_CHARS);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  if (s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
  // Fast path: only run the timestamp regex when the line looks like it starts with one.
  if (s.length > 19 && s.charCodeAt(4) === 45 /* - */ && s.charCodeAt(10) === 84 /* T */ && s.charCodeAt(13) === 58 /* : */) {
    const z = s.indexOf('Z', 19);
    if (z !== -1 && z <= 40) {
      s = s.slice(s.charCodeAt(z + 1) === 32 ? z + 2 : z + 1);
    } else {
      s = s.replace(TIMESTAMP, '');
    }
    if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  }
  if (s.includes('\u001b')) s = s.replace(ANSI, '');
  return s;
}

const TOKEN_PATTERNS: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub classic tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, // fine-grained PATs
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWT-like
  /\bnpm_[A-Za-z0-9]{30,}\b/g, // npm tokens
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab PATs
];
const BEARER = /\b(Bearer|token|Basic)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{12,}/gi;
const AUTH_ASSIGN = /(_authToken|password|passwd|secret|api[_-]?key|access[_-]?token)(\s*[=:]\s*)(?!\*\*\*)("?)[^\s"'&]{6,}/gi;

/**
 * Mask anything that looks like a credential, and every known secret value, as `***` (GitHub's own mask).
 * Values shorter than 4 characters are not masked (too many false hits, and GitHub does not mask them either).
 */
export function maskSecrets(line: string, knownValues: readonly string[] = []): string {
  let s = line;
  for (const v of knownValues) {
    if (v.length >= 4 && s.includes(v)) s = s.split(v).join('***');
  }
  for (const re of TOKEN_PATTERNS) s = s.replace(re, '***');
  s = s.replace(BEARER, (_m, kind: string) => `${kind} ***`);
  s = s.replace(AUTH_ASSIGN, (_m, key: string, sep: string, q: string) => `${key}${sep}${q}***`);
  return s;
}

/** Evidence text: masked, then cut to the schema limit. */
export function evidenceText(line: string, knownValues: readonly string[] = []): string {
  const masked = maskSecrets(line, knownValues);
  return masked.length > MAX_EVIDENCE_CHARS ? masked.slice(0, MAX_EVIDENCE_CHARS - 1) + '…' : masked;
}

const CREDENTIAL_SEGMENTS = new Set([
  'TOKEN', 'TOKENS', 'KEY', 'KEYS', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASS', 'PAT', 'CREDENTIAL',
  'CREDENTIALS', 'CREDS', 'APIKEY', 'AUTH', 'PRIVATE', 'PASSPHRASE', 'CERT', 'WEBHOOK', 'DSN',
]);

/** Does a variable or input name look like it holds a credential (FOO_TOKEN, api-key, ssh-private-key, …)? */
export function isCredentialName(name: string): boolean {
  const parts = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  if (parts.some((p) => CREDENTIAL_SEGMENTS.has(p))) return true;
  const joined = parts.join('');
  return /TOKEN|SECRET|PASSWORD|APIKEY|CREDENTIAL/.test(joined);
}

/** `github-token` / `github_token` / `GITHUB_TOKEN` compare equal. */
export function normalizeName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/**
 * A copy of a string that does not share memory with the (large) chunk it was sliced from. Use it for every
 * string the classifier keeps, or a few retained slices would pin whole megabyte chunks in memory.
 */
export function own(s: string): string {
  return dec.decode(enc.encode(s));
}
