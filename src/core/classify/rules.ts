/**
 * Line rules of the failure classifier. Each rule looks at ONE cleaned line (plus the previous one for
 * messages GitHub wraps) and reports a raw signal; the engine turns signals into incidents using the
 * step context (env block, masked values) it has seen so far.
 *
 * Order matters: on each line the FIRST matching rule wins. Specific, causal messages come first
 * (a maven "could not resolve" that ends in "Connection reset" is a network blip, not a dependency bug).
 */
import { file, pkg, type Rule } from './rule-types.js';
import { CI_RULES, insertRules } from './rules-ci.js';

export { normalizeFilePath, type RawSignal, type Rule } from './rule-types.js';

/** `file.yml (Line: 3, Col: 5)` as printed by the workflow/action template validator. */
const TEMPLATE_FILE = /([\w./\\-]+\.ya?ml)(?:#L\d+)? \(Line: \d+, Col: \d+\)/;

const BASE_RULES: Rule[] = [
  // ── workflow syntax (first: these messages quote `secrets.X` and must never read as a missing secret) ──
  { id: 'unrecognized-named-value', kw: ['unrecognized named-value'], re: /Unrecognized named-value: '[\w-]+'/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.85, target: file(TEMPLATE_FILE.exec(m.input)?.[1]) }) },
  { id: 'invalid-workflow', kw: ['invalid workflow file'], re: /Invalid workflow file:? ?([^\s#]+)?/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.9, target: file(m[1]) }) },
  { id: 'template-location', kw: ['(line: '], re: /^(?:##\[error\]|Error: )?([\w./\\-]+\.ya?ml)(?:#L\d+)? \(Line: \d+, Col: \d+\)/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.75, target: file(m[1]) }) },

  // ── timeouts and cancellations ────────────────────────────────────────────────────────────────
  { id: 'max-exec-time', kw: ['maximum execution time'], re: /has exceeded the maximum execution time/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.9 }) },
  { id: 'op-canceled', kw: ['operation was cancel'], re: /\bThe operation was cancell?ed\b/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.8 }) },
  { id: 'job-canceled', kw: ['was cancel', 'higher priority waiting'], re: /^(?:##\[error\])?The (?:job|run) was cancell?ed|Canceling since a higher priority waiting request/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.75 }) },
  { id: 'shutdown-signal', kw: ['shutdown signal'], re: /The runner has received a shutdown signal/i, signal: () => ({ type: 'kind', kind: 'timeout.cancelled', confidence: 0.75 }) },

  // ── resource exhaustion ───────────────────────────────────────────────────────────────────────
  { id: 'no-space', kw: ['no space left', 'enospc'], re: /No space left on device|ENOSPC\b/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.9 }) },
  { id: 'heap-oom', kw: ['heap out of memory', 'heap limit', 'err_worker_out_of_memory', 'outofmemoryerror'], re: /heap out of memory|heap limit Allocation failed|ERR_WORKER_OUT_OF_MEMORY|java\.lang\.OutOfMemoryError/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.9 }) },
  { id: 'enomem', kw: ['enomem', 'cannot allocate memory', 'oomkilled', 'out of memory: killed'], re: /\bENOMEM\b|Cannot allocate memory|\bOOMKilled\b|Out of memory: Killed process/i, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.85 }) },
  // exit 137 = SIGKILL, almost always the OOM killer on hosted runners; bash prints `script: line N: PID Killed  cmd`.
  { id: 'exit-137', kw: ['code 137', 'code: 137', 'killed'], re: /exit(?:ed with)? code:? 137\b|(?:^|:\s*)Killed\s*$|: line \d+:\s+\d+ Killed\b/, signal: () => ({ type: 'kind', kind: 'resource.exhausted', confidence: 0.7 }) },

  // ── transient network (before dependency and auth: "429", "Connection reset" inside resolver errors) ──
  { id: 'rate-limit', kw: ['too many requests', 'toomanyrequests', 'rate limit'], re: /\b429\b[^\n]{0,40}Too Many Requests|Too Many Requests[^\n]{0,20}\b429\b|\btoomanyrequests\b|pull rate limit|secondary rate limit|API rate limit exceeded/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.8 }) },
  { id: 'runner-lost', kw: ['lost communication'], re: /runner[^\n]{0,80}lost communication with the server/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.85 }) },
  { id: 'econn', kw: ['econnreset', 'etimedout', 'eai_again', 'esockettimedout', 'epipe', 'socket hang up', 'tls handshake timeout', 'connection reset', 'temporary failure in name resolution', 'network aborted', 'request canceled while waiting'], re: /\b(?:ECONNRESET|ETIMEDOUT|EAI_AGAIN|ESOCKETTIMEDOUT|EPIPE)\b|socket hang up|TLS handshake timeout|Connection reset(?: by peer)?\b|Temporary failure in name resolution|network aborted|net\/http: request canceled while waiting for connection/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.8 }) },
  // curl/libcurl (cargo, git) transfer errors: "[28] Timeout was reached", "[7] Couldn't connect to server".
  { id: 'curl-transfer', kw: ['network failure seems', 'timeout was reached', "couldn't connect to server", 'connection closed via error'], re: /network failure seems to have happened|\[\d+\] (?:Timeout was reached|Couldn't connect to server)|connection closed via error/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.75 }) },
  // Go net/http client errors (terraform, helm, docker CLI) reaching a registry.
  { id: 'go-net-timeout', kw: ['could not connect to', 'client.timeout exceeded', 'i/o timeout'], re: /could not connect to [\w.-]+: [Ff]ailed to\b|Client\.Timeout exceeded while awaiting headers|\bdial tcp [^\n]{0,80}i\/o timeout/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.7 }) },
  { id: 'spurious-network', kw: ['spurious network error'], re: /warning: spurious network error/, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.55 }) },
  { id: 'http-5xx', kw: ['502', '503', '504'], re: /\b(?:502 Bad Gateway|503 Service (?:Temporarily )?Unavailable|504 Gateway Time-?out)\b|(?:status(?: code)?|HTTP)[: ]+50[234]\b/i, signal: () => ({ type: 'kind', kind: 'transient.network', confidence: 0.75 }) },
  { id: 'resolve-host', kw: ['could not resolve host', 'enotfound'], re: /Could not resolve host:? ?([\w.-]+)|getaddrinfo ENOTFOUND ([\w.-]+)/i, signal: (m) => ({ type: 'kind', kind: 'transient.network', confidence: 0.6, target: m[1] ?? m[2] ? { type: 'host', name: (m[1] ?? m[2]) as string } : null }) },

  // ── missing secrets / variables ───────────────────────────────────────────────────────────────
  { id: 'input-required', kw: ['input required'], re: /Input required and not supplied: ([A-Za-z_][\w-]*)/, signal: (m) => ({ type: 'missing-input', input: m[1] as string, confidence: 0.85 }) },
  { id: 'input-is-required', kw: ['input is required'], re: /The [`'"]?([A-Za-z_][\w-]*)[`'"]? input is required/i, signal: (m) => ({ type: 'missing-input', input: m[1] as string, confidence: 0.8 }) },
  { id: 'opts-auth', kw: ['opts.auth'], re: /Parameter token or opts\.auth is required/, signal: () => ({ type: 'missing-input', input: 'token', confidence: 0.8 }) },
  { id: 'secret-not-configured', kw: ['argument is empty', 'secret'], re: /argument is empty\. Maybe the secret has not been configured|secret (?:has not been|is not|was not) (?:configured|set|provided)|\bsecret(?: [\w-]+)? not found\b/i, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.8 }) },
  { id: 'context-access', kw: ['context access might be invalid'], re: /Context access might be invalid: ([A-Za-z_][A-Za-z0-9_]*)/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.6 }) },
  { id: 'secrets-ref', kw: ['secrets.', 'vars.'], re: /\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)\b[^\n]{0,60}\b(?:not (?:set|found|defined|available)|is (?:empty|missing|required))/i, signal: (m) => ({ type: 'missing-name', name: m[2] as string, confidence: 0.8, hint: (m[1] as string).toLowerCase() === 'vars' ? 'variable' : 'secret' }) },
  { id: 'set-env-var', kw: ['environment variable', 'env var', 'secret'], joinPrevious: true, re: /\b(?:set|provide|define|specify|export)(?: a| an| the)? [`'"]?([A-Z][A-Z0-9_]{2,})[`'"]? (?:environment variable|env var|secret)/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.8 }) },
  { id: 'is-not-set', kw: ['is not set', 'is not defined', 'is empty', 'must be set', 'is required but'], re: /\b[`'"$]?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{3,})[`'"]? (?:environment variable |env var |secret |variable )?(?:is not set|is not defined|is empty|must be set|is required but (?:was )?not (?:set|provided))\b/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.75, plain: true }) },
  { id: 'unbound-variable', kw: ['unbound variable'], re: /\b([A-Za-z_][A-Za-z0-9_]*): unbound variable/, signal: (m) => ({ type: 'missing-name', name: m[1] as string, confidence: 0.75 }) },
  { id: 'no-npm-token', kw: ['enonpmtoken', 'no npm token'], re: /ENONPMTOKEN|No npm token specified/, signal: () => ({ type: 'missing-name', name: 'NPM_TOKEN', confidence: 0.85, hint: 'secret' }) },
  { id: 'creds-unloaded', kw: ['credentials could not be loaded', 'could not load credentials'], re: /Credentials could not be loaded|Could not load credentials from any providers/, signal: () => ({ type: 'credentials-unloaded', confidence: 0.5 }) },
  { id: 'expr-empty', kw: ['error when evaluating'], re: /Error when evaluating '[^']+' for job '[^']+'.*Unexpected value ''/, signal: () => ({ type: 'missing-unnamed', hint: 'variable', confidence: 0.55 }) },
  { id: 'region-missing', kw: ['region not specified', 'specify a region', 'missing region', 'region is missing'], re: /Region not specified|You must specify a region|Missing region in config|\bRegion is missing\b/i, signal: () => ({ type: 'missing-name', name: 'AWS_REGION', confidence: 0.6, hint: 'variable' }) },
  // Documented "no credential was given" messages of common actions and CLIs (the value is absent, not wrong).
  { id: 'gcp-auth-no-input', kw: ['workload_identity_provider'], re: /must specify exactly one of "workload_identity_provider" or "credentials_json"/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.75 }) },
  { id: 'azure-not-all-values', kw: ['not all values are present'], re: /Not all values are present\. Ensure '?client-id'? and '?tenant-id'? are supplied/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.75 }) },
  { id: 'registry-login-empty', kw: ['username and password required', 'username required', 'password required'], re: /^(?:##\[error\])?(?:Error: )?(?:Username and password|Username|Password) required\s*$/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.65 }) },
  { id: 'cli-no-token', kw: ['no existing credentials found', 'access token available'], re: /No existing credentials found\. Please run `?vercel login|No (?:api )?access token available\. Please login with '?flyctl auth login/i, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.7 }) },
  { id: 'nuget-no-api-key', kw: ['no api key was provided'], re: /No API Key was provided and no API Key could be found/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.75 }) },
  { id: 'codecov-token-required', kw: ['token required because'], re: /Token required because branch is protected/, signal: () => ({ type: 'missing-unnamed', hint: 'secret', confidence: 0.6 }) },

  // ── present but wrong credentials ─────────────────────────────────────────────────────────────
  { id: 'aws-invalid', kw: ['security token included', 'invalidclienttokenid', 'unrecognizedclientexception', 'invalidaccesskeyid', 'signaturedoesnotmatch', 'expiredtoken'], re: /security token included in the request is (?:invalid|expired)|InvalidClientTokenId|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken/, signal: () => ({ type: 'auth', confidence: 0.85 }) },
  { id: 'aws-assume-denied', kw: ['not authorized to perform', 'could not assume role'], re: /Not authorized to perform:? sts:AssumeRole|Could not assume role|is not authorized to perform: sts:/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'bad-credentials', kw: ['bad credentials', 'invalid username or password', 'incorrect username or password', 'requested access to the resource is denied', 'authentication failed', 'failed to authenticate', 'could not authenticate', 'unauthenticated', 'cannot be authenticated'], re: /\bBad credentials\b|invalid username or password|incorrect username or password|requested access to the resource is denied|authentication failed|failed to authenticate|could not authenticate|\bunauthenticated\b|User cannot be authenticated/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  // GITHUB_TOKEN / PAT without the needed permission: present but not good enough.
  { id: 'gh-permission', kw: ['resource not accessible by', 'permission to ', 'returned error: 403'], re: /Resource not accessible by (?:integration|personal access token)|Permission to \S+ denied to \S+|The requested URL returned error: 403/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'ssh-auth', kw: ['unable to authenticate', 'permission denied (publickey'], re: /ssh: (?:handshake failed: ssh: )?unable to authenticate|Permission denied \(publickey[^)]*\)/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
  { id: 'k8s-unauthorized', kw: ['must be logged in to the server'], re: /You must be logged in to the server/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
  { id: 'azure-aad', kw: ['aadsts', 'invalid client secret'], re: /\bAADSTS\d{5,6}\b|Invalid client secret provided/, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'pypi-trusted-publishing', kw: ['trusted publishing exchange failure', 'invalid-publisher'], re: /Trusted publishing exchange failure|`?invalid-publisher`?: valid token, but no corresponding publisher/, signal: () => ({ type: 'auth', confidence: 0.75 }) },
  { id: 'azure-login-failed', kw: ['az cli login failed', 'login failed with error'], re: /Az CLI Login failed|Login failed with Error/, signal: () => ({ type: 'auth', confidence: 0.6, weak: true }) },
  { id: 'http-401', kw: ['401'], re: /\b401\b[^\n]{0,40}Unauthori[sz]ed|Unauthori[sz]ed[^\n]{0,20}\b401\b|\bE401\b|status(?: code)?:? 401\b|\(401\)|does not indicate success: 401\b|\b401\b[^\n]{0,60}\btoken\b/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'http-401-wrapped', kw: ['unauthori'], joinPrevious: true, re: /\b401\s+Unauthori[sz]ed\s*$/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'token-invalid', kw: ['token', 'bad_auth'], re: /\b(?:invalid|expired|revoked) (?:access |auth |api |bearer |personal access )?token\b|\btoken (?:has been |had been |is |has |was )?(?:invalid|expired|revoked)\b|\binvalid_token\b|\bbad_auth\b/i, signal: () => ({ type: 'auth', confidence: 0.8 }) },
  { id: 'http-403', kw: ['403'], re: /\b403\b[^\n]{0,40}Forbidden|Forbidden[^\n]{0,20}\b403\b|\bE403\b|\b(?:HTTP|Error) 403\b|does not indicate success: 403\b/i, signal: () => ({ type: 'auth', confidence: 0.6 }) },
  { id: 'token-not-found', kw: ['token not found', 'not logged in', 'need auth', 'eneedauth'], re: /\btoken not found\b|\bnot logged in\b|need auth\b|ENEEDAUTH/i, signal: () => ({ type: 'auth', confidence: 0.5, weak: true }) },
  // npm answers 404 (not 401/403) to an unauthenticated or unauthorised publish: could be missing, wrong or a bad name.
  { id: 'npm-publish-404', kw: ['404 not found - put'], re: /\b404 Not Found - PUT https?:\/\//, signal: () => ({ type: 'auth', confidence: 0.45, weak: true }) },

  // ── invalid configuration ─────────────────────────────────────────────────────────────────────
  { id: 'unable-parse-file', kw: ['unable to parse', 'unable to load', 'unable to read', 'failed to parse', 'failed to load', 'failed to read', 'fail to load'], re: /(?:Unable|Failed|failed|unable|Fail) to (?:parse|load|read)(?: (?:the )?configuration from)? [`'"]?([\w./\\-]+\.(?:ya?ml|toml|json|jsonc|ini|cfg|conf|hcl|tf))[`'"]?/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.8, target: file(m[1]) }) },
  { id: 'yaml-error', kw: ['yamlexception', 'yaml parse exception', 'bad indentation', 'mapping values are not allowed', 'did not find expected key', "could not find expected ':'", 'yaml: line', 'found character that cannot start'], re: /YAMLException|YAML parse exception|bad indentation of a mapping entry|mapping values are not allowed|did not find expected key|could not find expected ':'|yaml: line \d+:|found character that cannot start any token/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.8 }) },
  { id: 'json-config', kw: ['in json at position', 'is not valid json', 'jsondecodeerror', 'unexpected end of json'], re: /Unexpected token .{0,20} in JSON at position \d+|is not valid JSON|JSONDecodeError|Unexpected end of JSON input/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.6 }) },
  { id: 'enoent-config', kw: ['enoent: no such file'], re: /ENOENT: no such file or directory, (?:open|stat|lstat) '([^']*(?:config|rc|\.ya?ml|\.json|\.toml|\.env)[^']*)'/i, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.7, target: file(m[1]) }) },
  { id: 'toml-error', kw: ['.toml', 'toml parse error', 'failed to parse toml'], re: /(?:wrangler|Cargo|pyproject|netlify)\.toml[^\n]{0,80}(?:error|invalid|unknown field|expected)|TOML parse error|Failed to parse TOML/i, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.75, target: file(/([\w-]+\.toml)/.exec(m[0])?.[1]) }) },
  { id: 'terraform-invalid', kw: ['error: invalid', 'error: unsupported', 'error: missing required argument', 'error: reference to undeclared', 'error: duplicate'], re: /(?:^|│)\s*Error: (?:Invalid|Unsupported argument|Unsupported block type|Missing required argument|Reference to undeclared|Duplicate)[^\n]*$/, signal: () => ({ type: 'kind', kind: 'config.invalid', confidence: 0.65 }) },
  { id: 'tf-file', kw: ['.tf line'], re: /^(?:│\s*)?\s*on ([\w./-]+\.tf) line \d+/, signal: (m) => ({ type: 'kind', kind: 'config.invalid', confidence: 0.5, target: file(m[1]) }) },

  // ── dependency resolution ─────────────────────────────────────────────────────────────────────
  { id: 'npm-eresolve', kw: ['eresolve', 'unable to resolve dependency tree'], re: /\bERESOLVE\b|unable to resolve dependency tree/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85 }) },
  { id: 'npm-etarget', kw: ['no matching version found', 'no compatible version found'], re: /No matching version found for ((?:@[^\s@/]+\/)?[^\s@]+)@|notarget No (?:matching|compatible) version found(?: for|:) ((?:@[^\s@/]+\/)?[^\s@]+)@/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: pkg(m[1] ?? m[2]) }) },
  { id: 'npm-etarget-code', kw: ['code etarget'], re: /\bcode ETARGET\b/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.75 }) },
  { id: 'npm-lock', kw: ['can only install packages when your package.json', 'lock file'], re: /`npm ci` can only install packages when your package\.json and package-lock\.json|npm ci.{0,40}lock file.{0,40}(?:out of sync|not in sync)/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('package-lock.json') }) },
  { id: 'yarn-lock', kw: ['yn0028', 'lockfile would have been', 'your lockfile needs to be updated'], re: /YN0028|lockfile would have been (?:modified|created)|Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('yarn.lock') }) },
  { id: 'pnpm-lock', kw: ['err_pnpm_outdated_lockfile', 'pnpm-lock.yaml is not up to date'], re: /ERR_PNPM_OUTDATED_LOCKFILE|pnpm-lock\.yaml is not up to date/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: file('pnpm-lock.yaml') }) },
  { id: 'pip', kw: ['resolutionimpossible', 'conflicting dependencies', 'no matching distribution found'], re: /ResolutionImpossible|because these package versions have conflicting dependencies|No matching distribution found for ([\w.[\]-]+)/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.85, target: pkg(m[1]) }) },
  { id: 'maven', kw: ['could not resolve dependencies', 'cannot resolve', 'could not find artifact', 'failed to collect dependencies'], re: /Could not resolve dependencies for project|Cannot resolve (?:project )?dependencies|Could not find artifact \S+|Failed to collect dependencies at/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8 }) },
  { id: 'go-mod', kw: ['go: ', 'cannot find module providing package'], re: /^go: (?:finding module for package \S+\n)?([\w./-]+)(?:@\S+)?: (?:module [\w./-]+ not found|reading [^\n]*: 404|unknown revision|invalid version)|cannot find module providing package ([\w./-]+)/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8, target: pkg(m[1] ?? m[2]) }) },
  { id: 'go-sum', kw: ['checksum mismatch'], re: /^(?:go: )?(?:[\w./@-]+: )*verifying (?:module: |[\w./-]+@\S+: )?checksum mismatch/, signal: () => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.75 }) },
  { id: 'cargo-dep', kw: ['failed to select a version', 'no matching package named'], re: /failed to select a version for the requirement `([\w-]+)|no matching package named `([\w-]+)` found/, signal: (m) => ({ type: 'kind', kind: 'dependency.resolution', confidence: 0.8, target: pkg(m[1] ?? m[2]) }) },

  // ── code failures ─────────────────────────────────────────────────────────────────────────────
  { id: 'jest-summary', kw: ['tests:', 'test suites:', 'fail '], re: /^\s*Tests:\s+\d+ failed\b|^\s*Test Suites:\s+\d+ failed\b|^FAIL\s+\S+\.(?:test|spec)\.[jt]sx?\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'expect-received', kw: ['expect(received)', '●'], re: /expect\(received\)|^\s*● .+ › /, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.7 }) },
  { id: 'pytest', kw: ['failed', 'assertionerror'], re: /^FAILED \S+::\S+|^=+ (?:\d+ (?:passed|skipped|warnings?), )*\d+ failed|^E\s+AssertionError\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'assertion', kw: ['assertionerror', 'assertionfailederror', 'assert failed', 'assertion failed'], re: /\bAssertionError\b|\bAssertionFailedError\b|\bassert(?:ion)? failed\b/i, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.65 }) },
  { id: 'tsc', kw: ['error ts'], re: /\berror TS\d{4,5}\b/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'go-test', kw: ['--- fail:', 'fail ', 'fail\t'], re: /^--- FAIL: \S+|^FAIL\s+[\w./-]+\s+\d+(?:\.\d+)?s$/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'cargo', kw: ['error[e', 'could not compile'], re: /^error\[E\d{4}\]|^error: could not compile `/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.8 }) },
  { id: 'compile', kw: ['compilation error', 'error:', 'compilation failed', 'build failed.', 'failures:'], re: /\[ERROR\] COMPILATION ERROR|^\S+\.(?:java|kt|c|cc|cpp|go|rs|py|ts|js)(?::\d+)+:? error:|Compilation failed|Build FAILED\.|There (?:was|were) \d+ failures?:/, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.65 }) },
  { id: 'syntax-error', kw: ['syntaxerror: '], re: /^\s*(?:Uncaught )?SyntaxError: /, signal: () => ({ type: 'kind', kind: 'code.failure', confidence: 0.6 }) },
];

/** The rule table: the base rules with the corpus-driven rules of rules-ci.ts inserted at their places. */
export const RULES: Rule[] = insertRules(BASE_RULES, CI_RULES);

/** Keywords of "an error-looking line" (the engine keeps such lines as fallback evidence); see ERRORISH in engine.ts. */
export const ERRORISH_KEYWORDS = ['error', 'err!', 'failed', 'fatal:'];

/**
 * Every keyword of every rule plus the error-line keywords: a line containing none of them cannot match any rule.
 * Kept for callers of the old prefilter API.
 */
export const PREFILTER_KEYWORDS = [...new Set([...RULES.flatMap((r) => r.kw), ...ERRORISH_KEYWORDS])];

/**
 * A case-insensitive (ASCII) Aho-Corasick scanner over groups of keywords: one table lookup per character, and
 * `scan(line, out)` sets bit i of `out` (an array of 32-bit words) when the line contains a keyword of group i.
 * Keywords with non-ASCII characters are checked with `includes` (there are very few).
 */
export interface GroupScanner {
  /** Number of 32-bit words in a mask. */
  words: number;
  /** Clears `out`, ORs in the groups whose keywords occur in `s`; returns true when any did. */
  scan(s: string, out: Uint32Array): boolean;
}

export function groupScanner(groups: readonly (readonly string[])[]): GroupScanner {
  const W = Math.max(1, Math.ceil(groups.length / 32));
  const goto: Array<Map<number, number>> = [new Map()];
  const own: Array<number[]> = [[]];
  const other: Array<[string, number, boolean]> = [];
  groups.forEach((kws, g) => {
    for (const k of kws) {
      const lower = k.toLowerCase();
      if (![...lower].every((ch) => ch.charCodeAt(0) < 128)) {
        other.push([lower, g, lower === k.toUpperCase()]);
        continue;
      }
      let st = 0;
      for (const ch of lower) {
        const c = ch.charCodeAt(0);
        let nx = goto[st]!.get(c);
        if (nx === undefined) {
          nx = goto.length;
          goto.push(new Map());
          own.push([]);
          goto[st]!.set(c, nx);
        }
        st = nx;
      }
      own[st]!.push(g);
    }
  });
  const n = goto.length;
  const table = new Int32Array(n * 128);
  const fail = new Int32Array(n);
  const masks = new Uint32Array(n * W);
  const hasOut = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (const g of own[i]!) masks[i * W + (g >>> 5)]! |= 1 << (g & 31);
  }
  const queue: number[] = [];
  for (let c = 0; c < 128; c++) {
    const nx = goto[0]!.get(c);
    table[c] = nx ?? 0;
    if (nx !== undefined) queue.push(nx);
  }
  // Breadth-first: a state's fail target is finished before the state, so its outputs can be merged in.
  for (let qi = 0; qi < queue.length; qi++) {
    const st = queue[qi]!;
    const f = fail[st]!;
    for (let w = 0; w < W; w++) masks[st * W + w]! |= masks[f * W + w]!;
    for (let c = 0; c < 128; c++) {
      const nx = goto[st]!.get(c);
      if (nx !== undefined) {
        fail[nx] = table[f * 128 + c]!;
        table[st * 128 + c] = nx;
        queue.push(nx);
      } else {
        table[st * 128 + c] = table[f * 128 + c]!;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let w = 0; w < W; w++) if (masks[i * W + w]) hasOut[i] = 1;
  // Hot-loop layout: states renumbered so that those with an output come last (one compare tells "a keyword
  // ends here"), each entry premultiplied by 128 (no multiply per character) and upper-case ASCII folded into
  // the table (no case branch per character). Same automaton, same results.
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (!hasOut[i]) order.push(i);
  const outFrom = order.length;
  for (let i = 0; i < n; i++) if (hasOut[i]) order.push(i);
  const renum = new Int32Array(n);
  order.forEach((old, i) => (renum[old] = i));
  const fast = new Int32Array(n * 128);
  const fastMasks = new Uint32Array(n * W);
  for (let i = 0; i < n; i++) {
    const old = order[i]!;
    for (let c = 0; c < 128; c++) {
      const lc = c >= 65 && c <= 90 ? c | 32 : c;
      fast[i * 128 + c] = renum[table[old * 128 + lc]!]! * 128;
    }
    for (let w = 0; w < W; w++) fastMasks[i * W + w] = masks[old * W + w]!;
  }
  const outBase = outFrom * 128;
  return {
    words: W,
    scan(s: string, out: Uint32Array): boolean {
      for (let w = 0; w < W; w++) out[w] = 0;
      let any = false;
      let high = false;
      let st = 0;
      const len = s.length;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) {
          st = 0;
          high = true;
          continue;
        }
        st = fast[st + c]!;
        if (st >= outBase) {
          any = true;
          const b = (st >>> 7) * W;
          for (let w = 0; w < W; w++) out[w]! |= fastMasks[b + w]!;
        }
      }
      // Non-ASCII keywords can only occur in a line with a non-ASCII character. A caseless one (`●`) is looked
      // up as is; only a keyword with letters needs the lowercased line (made once, and only then).
      if (high && other.length) {
        let lower: string | undefined;
        for (const [k, g, caseless] of other) {
          if (caseless ? s.includes(k) : (lower ??= s.toLowerCase()).includes(k)) {
            out[g >>> 5]! |= 1 << (g & 31);
            any = true;
          }
        }
      }
      return any;
    },
  };
}

/** Boolean form: does `s` contain any of the keywords (case-insensitive)? */
export function keywordScanner(keywords: readonly string[]): (s: string) => boolean {
  const g = groupScanner([keywords]);
  const out = new Uint32Array(g.words);
  return (s: string): boolean => g.scan(s, out);
}

/** Bit index of the "error-looking line" group; rule i has bit i. */
export const ERRORISH_BIT = RULES.length;
/** One scanner for all rules: group i = keywords of RULES[i], group ERRORISH_BIT = ERRORISH_KEYWORDS. */
export const RULE_SCANNER = groupScanner([...RULES.map((r) => r.kw), ERRORISH_KEYWORDS]);
/** Rules that also look at the previous line (their keywords may be there). */
export const JOIN_PREVIOUS_MASK: Uint32Array = (() => {
  const m = new Uint32Array(RULE_SCANNER.words);
  RULES.forEach((r, i) => {
    if (r.joinPrevious) m[i >>> 5]! |= 1 << (i & 31);
  });
  return m;
})();

const scanAny = keywordScanner(PREFILTER_KEYWORDS);
/** True when a line may match some rule (over-approximation). */
export const PREFILTER = { test: scanAny };
