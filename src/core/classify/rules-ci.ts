/**
 * Rules added from the labelled corpus (test/fixtures/failure-corpus, train split only). Each group is inserted
 * into the base table just BEFORE the rule named by `before` (`'start'`: at the very front, `'end'`: at the end),
 * because on a line the first matching rule wins.
 *
 * Principles (see docs/classifier.md): an action INPUT name is never a variable name; the automatic GitHub token
 * and runner-provided variables (GITHUB_*, RUNNER_*) are never "missing secrets"; a "missing" signal needs the log
 * to say the value is absent (a tool or the runner saying so, or an empty env entry), not merely that auth failed.
 */
import { file, type Rule } from './rule-types.js';

export interface RuleGroup { before: string; rules: Rule[] }

const RUNNER_VAR = /^(?:GITHUB|RUNNER|ACTIONS)_(?!TOKEN$)[A-Z_]+$/;

export const CI_RULES: RuleGroup[] = [
  {
    before: 'start',
    rules: [
      // Messages that mention tokens or secrets but are about the WORKFLOW, not a missing value.
      { id: 'reusable-workflow-secret', kw: ['is not defined in the referenced workflow'], re: /Invalid secret, [\w-]+ is not defined in the referenced workflow/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.9 }) },
      { id: 'gh-cli-needs-gh-token', kw: ['to use github cli in a github actions workflow'], re: /To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.85 }) },
      { id: 'octokit-auth-action-token', kw: ['@octokit/auth-action'], re: /\[@octokit\/auth-action\] [`'"]?([A-Z_]+)[`'"]? (?:environment )?variable is not set/, signal: (m) => (RUNNER_VAR.test(m[1] as string) ? { type: 'ignore' } : { type: 'kind', kind: 'config.invalid', confidence: 0.8 }) },
      { id: 'gh-cli-env-token-login', kw: ['environment variable is being used for authentication'], re: /The value of the (?:GITHUB|GH)_TOKEN environment variable is being used for authentication/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.8 }) },
      { id: 'runner-env-missing', kw: ['missing required environment value', 'are you running in github actions'], re: /Missing required environment value\. Are you running in GitHub Actions\?/, signal: () => ({ type: 'ignore' }) },
      { id: 'fallback-notice', kw: ['falling back to'], re: /is missing\. Falling back to/, signal: () => ({ type: 'ignore' }) },
      { id: 'publish-over-version', kw: ['cannot publish over the previously published'], re: /You cannot publish over the previously published versions?/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.85, target: file('package.json') }) },
      { id: 'wrangler-account-id', kw: ['in your wrangler configuration'], re: /The `account_id` in your Wrangler configuration \([^)]*\) does not match any of your authenticated accounts/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.85 }) },
      { id: 'action-unresolved', kw: ['unable to resolve action', 'failed to download action'], re: /Unable to resolve actions?[ .`]|Failed to download action '[^']+'\. Error Response status code does not indicate success: 404/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.85 }) },
      { id: 'docker-copy-missing', kw: ['copy failed', 'failed to calculate checksum of ref', 'failed to compute cache key'], re: /COPY failed: (?:file not found in build context|stat )|failed to (?:calculate checksum of ref|compute cache key)[^\n]*not found/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.75, target: file('Dockerfile') }) },
      { id: 'helm-chart-apiversion', kw: ["apiversion '"], re: /Error: apiVersion '[^']+' is not valid\. The value must be/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.7 }) },
      // Codecov: tokenless uploads are rate limited; only an explicit "no token" line says the token is missing.
      { id: 'codecov-no-token', kw: ['no token specified or token is empty'], re: /No token specified or token is empty/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.7 }) },
      { id: 'codecov-locate-build', kw: ['unable to locate build via github actions api'], re: /Unable to locate build via Github Actions API/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.6 }) },
      { id: 'codecov-rate-limit', kw: ['upload with the codecov repository upload token'], re: /Please upload with the Codecov repository upload\s*token/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.45 }) },
    ],
  },
  {
    before: 'rate-limit',
    rules: [
      { id: 'travis-time-limit', kw: ['maximum time limit for jobs'], re: /exceeded the maximum time limit for jobs/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.85 }) },
      { id: 'runner-out-of-memory', kw: ['out of memory'], re: /process crashed with error: Out of memory|\bOut of memory\b(?! to allocate results)/, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.75 }) },
    ],
  },
  {
    before: 'input-required',
    rules: [
      { id: 'http-5xx-more', kw: ['bad gateway', 'gateway timeout', 'received status code 5', 'return code is: 5'], re: /Received status code 5\d\d from server|Return code is: 5\d\d\b|\b50[234]\b[^\n]{0,20}(?:Bad Gateway|Gateway Time-?out)/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.75 }) },
      { id: 'connect-timed-out', kw: ['timed out', 'unable to connect to'], re: /\b(?:connect|Read|Connection) timed out\b|Could not connect to \S+ \([^)]*\), connection timed out|Unable to connect to [\w.-]+:/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.75 }) },
      { id: 'runner-broker', kw: ['failed to get job message', 'runner connect error'], re: /Runner connect error: Failed to get job message|Failed to get job message\. Request to \S+ failed/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
      // Network failures of package mirrors and git transports, as apt, git/curl, yarn and Python's urllib3 print them.
      { id: 'apt-temp-resolve', kw: ['temporary failure resolving'], re: /Temporary failure resolving '[\w.-]+'/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
      { id: 'git-transport', kw: ['rpc failed', 'early eof', 'sideband packet', 'gnutls', 'ssl_read: ', 'ssl_connect: '], re: /RPC failed; (?:curl|HTTP) \d+|\bearly EOF\b|unexpected disconnect while reading sideband packet|GnuTLS recv error \(-\d+\)|gnutls_handshake\(\) failed|OpenSSL SSL_(?:read|connect): (?:Connection was reset|SSL_ERROR_SYSCALL)/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
      { id: 'yarn-network-trouble', kw: ['trouble with your network connection'], re: /There appears to be trouble with your network connection/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
      { id: 'python-conn-aborted', kw: ['connection aborted.', 'remotedisconnected(', 'remote end closed connection'], re: /Connection aborted\.|RemoteDisconnected\(|Remote end closed connection without response/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
      { id: 'curl-failed-connect', kw: ['failed to connect to'], re: /Failed to connect to [\w.-]+ port \d+/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.65 }) },
      { id: 'push-race', kw: ['(fetch first)'], re: /! \[rejected\]\s+\S+ -> \S+ \(fetch first\)/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.6 }) },
    ],
  },
  {
    before: 'aws-invalid',
    rules: [
      // The tool got no credential at all (never a wrong one): see the `no-credential` signal.
      { id: 'npm-eneedauth', kw: ['eneedauth', 'need auth'], re: /\bENEEDAUTH\b|need auth (?:This command requires you to be logged in|auth required for publishing|You need to authorize this machine)/, signal: () => ({ type: 'no-credential', confidence: 0.5, fallback: 'config.invalid' }) },
      { id: 'aws-cli-no-credentials', kw: ['unable to locate credentials'], re: /Unable to locate credentials\. You can configure credentials by running "?aws configure/, signal: () => ({ type: 'no-credential', confidence: 0.6, fallback: 'secret.missing' }) },
      // docker login with an empty username or password (half of the threads are wiring, so a bare line abstains).
      { id: 'docker-login-non-tty', kw: ['interactive login from a non tty'], re: /Cannot perform an interactive login from a non TTY device/, signal: () => ({ type: 'no-credential', confidence: 0.45, fallback: 'secret.missing' }) },
      // A workflow's own guard naming the repository secret or variable ("Missing required secret: X"); anchored so
      // the guard's source in the step's script listing does not match.
      { id: 'missing-required-named', kw: ['missing required secret', 'missing required var'], re: /^(?:##\[error\]|::error::|Error: )?Missing required (secret|var|variable)s?: [`'"]?([A-Za-z_][A-Za-z0-9_]{2,})[`'"]?\.?\s*$/, signal: (m) => ({ type: 'missing-name', name: m[2] as string, confidence: 0.8, hint: m[1] === 'secret' ? 'secret' : 'variable', named: true }) },
      { id: 'password-empty-warning', kw: ['your password is empty'], re: /Your password is empty\. Did you enter it correctly\?/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.8 }) },
      { id: 'docker-login-no-username', kw: ['must provide --username'], re: /Must provide --username with --password-stdin/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.7 }) },
      { id: 'login-required-loose', kw: ['username and password required'], re: /\bUsername and password required\s*$/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.65 }) },
      { id: 'no-github-token', kw: ['enoghtoken'], re: /ENOGHTOKEN No GitHub token specified/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.6 }) },
      { id: 'firebase-token-required', kw: ['is required to run commands with the firebase cli'], re: /Either FIREBASE_TOKEN or GCP_SA_KEY is required/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.75 }) },
      { id: 'cargo-no-token', kw: ['token found, please run `cargo login`'], re: /no (?:upload )?token found, please run `cargo login`/, signal: () => ({ type: 'missing-name', name: 'CARGO_REGISTRY_TOKEN', confidence: 0.7, hint: 'secret' }) },
      { id: 'slack-no-token', kw: ['a token must be provided', 'both api token and webhookurl is empty'], re: /Missing input! A token must be provided|Both API Token and WebhookURL is empty/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.7 }) },
      { id: 'sentry-token-required', kw: ['auth token is required for this request'], re: /Auth token is required for this request/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.7 }) },
      { id: 'input-not-supplied', kw: ['not supplied. unable to continue'], re: /Input '([\w-]+)' not supplied\. Unable to continue/, signal: (m) => ({ type: 'missing-input', input: m[1] as string, confidence: 0.8 }) },
      { id: 'env-provided-through', kw: ['environment variable'], re: /must be provided (?:through|via|in) (?:the )?[`'"]?([A-Z][A-Z0-9_]{2,})[`'"]? environment variable/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.75 }) },
      // Python: KeyError raised by os.environ's own __getitem__ (the line before is the os.py frame or its raise).
      { id: 'os-environ-keyerror', kw: ['keyerror: '], joinPrevious: true, re: /(?:in __getitem__|raise KeyError\(key\) from None)\s+KeyError: '([A-Za-z_][\w-]*)'/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.7, hint: 'variable' }) },
    ],
  },
  {
    before: 'unable-parse-file',
    rules: [
      // Present-but-unusable credentials in the wording of GitHub, OAuth servers and API-key services.
      { id: 'gh-password-auth-removed', kw: ['support for password authentication was removed'], re: /Support for password authentication was removed/, signal: () => ({ type: 'auth', confidence: 0.85 }) },
      { id: 'oauth-invalid', kw: ['invalid_grant', 'invalid_client', 'invalid jwt signature'], re: /\binvalid_grant\b|\binvalid_client\b|Invalid JWT Signature/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
      { id: 'api-key-invalid-generic', kw: ['api key', 'api_key', 'api-key'], re: /\b(?:invalid|incorrect|wrong) API[ _-]?key\b|\bAPI[ _-]?key (?:is )?(?:invalid|not valid|incorrect|expired|revoked)\b/i, signal: () => ({ type: 'auth', confidence: 0.75 }) },
      { id: 'unauthorized-bare', kw: ['unauthorized'], re: /^(?:##\[error\]|::error::)?(?:Error: |HttpError: |error: )?Unauthorized\.?\s*$/, signal: () => ({ type: 'auth', confidence: 0.6 }) },
      { id: 'http-status-code-403', kw: ['status code 403', 'status code: 403'], re: /status code:? 403\b/i, signal: () => ({ type: 'auth', confidence: 0.6 }) },
      { id: 'ghcr-write-denied', kw: ['permission_denied: write_package', 'installation not allowed to'], re: /permission_denied: write_package|installation not allowed to (?:Write|Create) organization package/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
      { id: 'pypi-invalid-auth', kw: ['invalid or non-existent authentication information'], re: /Invalid or non-existent authentication information/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
      { id: 'oidc-no-provider', kw: ['no openidconnect provider found'], re: /No OpenIDConnect provider found in your account/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
      { id: 'cloudflare-auth', kw: ['authentication error [code: 10000]', 'code 10000: authentication error'], re: /Authentication error \[code: 10000\]|Code 10000: Authentication error/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
      { id: 'gcloud-permission', kw: ['permission_denied'], re: /PERMISSION_DENIED: (?:Permission '[\w.]+' denied|The caller does not have permission)/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
      { id: 'aws-access-denied', kw: ['(accessdenied)'], re: /\(AccessDenied\)(?: when calling the \w+ operation)?: Access Denied/, signal: () => ({ type: 'auth', confidence: 0.7 }) },
      { id: 'api-key-invalid', kw: ['api key is invalid', 'api key invalid'], re: /specified API key (?:is )?invalid, has expired/, signal: () => ({ type: 'auth', confidence: 0.85 }) },
      { id: 'rubygems-denied', kw: ['access denied. please sign up'], re: /Access Denied\. Please sign up for an account at https?:\/\/rubygems\.org/, signal: () => ({ type: 'auth', confidence: 0.6 }) },
      { id: 'heroku-invalid-credentials', kw: ['invalid credentials provided'], re: /Invalid credentials provided\./, signal: () => ({ type: 'auth', confidence: 0.6, weak: true }) },
      { id: 'firebase-project-access', kw: ['your account has permission to access it'], re: /Failed to get Firebase project [^\n]*your account has permission to access it/, signal: () => ({ type: 'auth', confidence: 0.6 }) },
      { id: 'http-error-401', kw: ['http error: 401', 'invalid authentication credentials'], re: /HTTP Error: 401\b|Request had invalid authentication credentials/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
      { id: 'http-status-403', kw: ['http status: 403', 'error: 403'], re: /\(http status: 403\)|S3 error: 403\b/, signal: () => ({ type: 'auth', confidence: 0.7 }) },
      { id: 'aws-credentials-file-missing', kw: ['.aws/credentials'], re: /ENOENT: no such file or directory, open '[^']*\.aws\/credentials'/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.7 }) },
      { id: 'aws-missing-credentials-config', kw: ['missing credentials in config'], re: /Missing credentials in config/, signal: () => ({ type: 'credentials-unloaded', confidence: 0.5 }) },
      // Terraform's AWS provider / S3 backend found no credential at all: most threads are credentials that never
      // reached it (remote runs, env not passed), so a bare line says wiring.
      { id: 'aws-no-credential-sources', kw: ['no valid credential sources'], re: /No valid credential sources found|no valid credential sources for [\w ]{1,40} found/i, signal: () => ({ type: 'no-credential', confidence: 0.5, fallback: 'config.invalid' }) },
    ],
  },
  {
    before: 'tf-file',
    rules: [
      { id: 'tf-module-mismatch', kw: ['.terraform/modules/'], re: /^\s*(?:│\s*)?on \.terraform\/modules\/\S+ line \d+/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.7 }) },
    ],
  },
  {
    before: 'jest-summary',
    rules: [
      { id: 'pip-no-version', kw: ['could not find a version that satisfies the requirement'], re: /Could not find a version that satisfies the requirement ([\w.[\]-]+)/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: { type: 'package', name: (m[1] as string).replace(/\[.*$/, '') } }) },
      { id: 'go-checksum-loose', kw: ['checksum mismatch'], re: /verifying [^\n]*checksum mismatch/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.75 }) },
      { id: 'apt-404', kw: ['e: failed to fetch', '404  not found'], re: /E: Failed to fetch \S+\s+404\s+Not Found|^\s*404\s+Not Found \[IP: /, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.7 }) },
      { id: 'pnpm-frozen', kw: ['outdated_lockfile', 'lockfile needs updates'], re: /ERR_PNPM_(?:FROZEN_LOCKFILE_WITH_)?OUTDATED_LOCKFILE/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('pnpm-lock.yaml') }) },
      { id: 'composer-unresolvable', kw: ['could not be resolved to an installable set'], re: /Your requirements could not be resolved to an installable set of packages/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('composer.json') }) },
    ],
  },
  {
    before: 'end',
    rules: [
      { id: 'rust-error-code', kw: ['error[e', 'could not compile'], re: /(?:^|\s)error\[E\d{4}\]|\b[Cc]ould not compile `|\berror: mismatched types\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.75 }) },
      { id: 'gradle-compile', kw: ['compilation error. see log', 'execution failed for task'], re: /Compilation error\. See log for more details|Execution failed for task '[\w:-]*:(?:compile|kapt)\w*(?:Kotlin|Java)'/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.7 }) },
      { id: 'maven-compilation-failure', kw: ['compilation failure'], re: /maven-compiler-plugin[^\n]*: Compilation failure/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.75 }) },
      { id: 'go-data-race', kw: ['warning: data race'], re: /^WARNING: DATA RACE$/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.75 }) },
      { id: 'lint-finding', kw: ['(errcheck)', '(unused)', '(govet)', '(staticcheck)', '(ineffassign)', '(typecheck)', '(ts'], re: /\((?:errcheck|unused|govet|staticcheck|ineffassign|gosimple|typecheck)\)\s*$|\(TS\d{4}\)\s*$/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.7 }) },
      { id: 'pytest-assert-line', kw: ['assert '], re: /^E\s+assert\s/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.7 }) },
      { id: 'jest-test-timeout', kw: ['exceeded timeout of'], re: /thrown: "Exceeded timeout of \d+ ms for a test/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.65 }) },
    ],
  },
];

/** Insert each group before the rule it names; an unknown anchor is a programming error. */
export function insertRules(base: readonly Rule[], groups: readonly RuleGroup[]): Rule[] {
  const out = [...base];
  for (const g of groups) {
    if (g.before === 'start') out.unshift(...g.rules);
    else if (g.before === 'end') out.push(...g.rules);
    else {
      const i = out.findIndex((r) => r.id === g.before);
      if (i === -1) throw new Error(`rule anchor ${g.before} not found`);
      out.splice(i, 0, ...g.rules);
    }
  }
  return out;
}
