import { classify, classifyText, cleanLine, LineSplitter, maskSecrets } from '../../src/core/classify/index.js';
import type { ClassifyContext, Incident } from '../../src/core/schemas/index.js';

const ctx: ClassifyContext = { repo: { owner: 'acme', repo: 'shop' }, job_name: 'deploy', job_id: 42, environment: 'production' };
const top = (log: string): Incident => classifyText(log, ctx)[0] as Incident;
const ts = (i: number): string => `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}.1234567Z `;
const stamp = (lines: string[]): string => lines.map((l, i) => ts(i) + l).join('\n');

async function* chunks(s: string, size: number): AsyncIterable<string> {
  for (let i = 0; i < s.length; i += size) yield s.slice(i, i + size);
}
async function* byteChunks(s: string, size: number): AsyncIterable<Uint8Array> {
  const b = new TextEncoder().encode(s);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const DEPLOY_EMPTY = [
  '##[group]Run ./scripts/deploy.sh',
  './scripts/deploy.sh',
  '  shell: /usr/bin/bash -e {0}',
  '  env:',
  '    DEPLOY_TOKEN: ',
  '    REGION: eu-west-1',
  '##[endgroup]',
  'curl: (22) The requested URL returned error: 401 Unauthorized',
  '##[error]Process completed with exit code 22.',
];
const DEPLOY_MASKED = DEPLOY_EMPTY.map((l) => (l === '    DEPLOY_TOKEN: ' ? '    DEPLOY_TOKEN: ***' : l));

describe('line normalisation', () => {
  it('strips timestamps, ANSI, BOM and CR', () => {
    expect(cleanLine('\uFEFF2024-05-01T10:00:00.1234567Z \u001b[31mError:\u001b[0m boom\r')).toBe('Error: boom');
    expect(cleanLine('2024-05-01T10:00:00Z ##[group]Run x')).toBe('##[group]Run x');
    expect(cleanLine('plain')).toBe('plain');
  });

  it('classifies the same with and without timestamps, ANSI colours, CRLF and BOM, keeping line numbers', () => {
    const plain = top(DEPLOY_EMPTY.join('\n'));
    const noisy = top('\uFEFF' + stamp(DEPLOY_EMPTY.map((l) => l.replace('401', '\u001b[1;31m401\u001b[0m'))).replace(/\n/g, '\r\n'));
    expect(noisy.kind).toBe(plain.kind);
    expect(noisy.target).toEqual(plain.target);
    expect(noisy.evidence.map((e) => e.line)).toEqual(plain.evidence.map((e) => e.line));
    expect(noisy.evidence.find((e) => e.line === 8)?.text).toBe('curl: (22) The requested URL returned error: 401 Unauthorized');
  });
});

describe('env blocks across ##[group]', () => {
  it('reads the env block of the failing step and attributes evidence to that step', () => {
    const inc = top(stamp(DEPLOY_EMPTY));
    expect(inc.kind).toBe('secret.missing');
    expect(inc.target).toEqual({ type: 'secret', name: 'DEPLOY_TOKEN' });
    expect(inc.evidence.some((e) => e.line === 5 && e.step === './scripts/deploy.sh')).toBe(true);
    expect(inc.evidence.every((e) => e.job_id === 42 && e.job_name === 'deploy')).toBe(true);
  });

  it('does not carry an empty env var of an earlier step into a later step', () => {
    const log = [
      '##[group]Run npm run lint', '  env:', '    OPTIONAL_TOKEN: ', '##[endgroup]', 'lint ok',
      '##[group]Run ./deploy', '  env:', '    DEPLOY_TOKEN: ***', '##[endgroup]', 'HttpError: Bad credentials',
    ];
    const inc = classifyText(log.join('\n'), ctx);
    expect(inc[0]).toMatchObject({ kind: 'credential.invalid', target: { type: 'secret', name: 'DEPLOY_TOKEN' } });
    expect(inc.map((i) => i.kind)).not.toContain('secret.missing');
  });

  it('an empty non-credential name referenced as vars.X is a variable', () => {
    const log = ['##[group]Run ./deploy --region "${{ vars.DEPLOY_REGION }}"', '  env:', '    DEPLOY_REGION: ', '##[endgroup]', 'Error: region must not be empty', '##[error]Process completed with exit code 1.'];
    expect(top(log.join('\n'))).toMatchObject({ kind: 'variable.missing', target: { type: 'variable', name: 'DEPLOY_REGION' } });
  });

  it('an empty env var in a step that did not fail is not an incident', () => {
    const log = ['##[group]Run echo hi', '  env:', '    SOME_TOKEN: ', '##[endgroup]', 'hi'];
    expect(top(log.join('\n')).kind).toBe('unknown');
  });
});

describe('missing versus wrong credentials', () => {
  const cases: Array<[string, string[], string, string | null]> = [
    ['empty env + 401', DEPLOY_EMPTY, 'secret.missing', 'DEPLOY_TOKEN'],
    ['masked env + 401', DEPLOY_MASKED, 'credential.invalid', 'DEPLOY_TOKEN'],
    ['masked + Bad credentials', ['Run octokit/request-action@v2', '  env:', '    GITHUB_TOKEN: ***', 'Error: Bad credentials'], 'credential.invalid', 'GITHUB_TOKEN'],
    ['masked + docker denied', ['Run docker push acme/app', '  env:', '    DOCKER_PASSWORD: ***', 'denied: requested access to the resource is denied'], 'credential.invalid', 'DOCKER_PASSWORD'],
    ['masked + AWS invalid token', ['Run aws s3 sync', '  env:', '    AWS_SECRET_ACCESS_KEY: ***', 'An error occurred (InvalidAccessKeyId) when calling the PutObject operation'], 'credential.invalid', 'AWS_SECRET_ACCESS_KEY'],
    ['masked + expired token', ['Run ./publish', '  env:', '    NPM_TOKEN: ***', 'npm error code E401', 'npm error 401 Unauthorized - token expired'], 'credential.invalid', 'NPM_TOKEN'],
    ['masked + 403 Forbidden', ['Run ./release', '  env:', '    RELEASE_PAT: ***', 'Error: 403 Forbidden'], 'credential.invalid', 'RELEASE_PAT'],
    ['auth failure, nothing to tell', ['remote: Invalid username or password.', "fatal: Authentication failed for 'https://github.com/a/b.git/'"], 'credential.invalid', null],
    ['revoked token text', ['Error: token has been revoked'], 'credential.invalid', null],
    ['empty env + Bad credentials', ['Run ./sync', '  env:', '    SYNC_TOKEN: ', 'HttpError: Bad credentials'], 'secret.missing', 'SYNC_TOKEN'],
    ['input required', ['Run actions/checkout@v4', '  with:', '    repository: a/b', 'Error: Input required and not supplied: token'], 'secret.missing', null],
    ['input mapped to empty env', ['Run some/action@v1', '  env:', '    GITHUB_TOKEN: ', 'Error: Input required and not supplied: github_token'], 'secret.missing', 'GITHUB_TOKEN'],
    ['FOO is not set', ['Error: VERCEL_TOKEN is not set'], 'secret.missing', 'VERCEL_TOKEN'],
    ['masked + "is not set" text', ['Run ./x', '  env:', '    API_KEY: ***', 'API_KEY is not set'], 'credential.invalid', 'API_KEY'],
    ['AWS creds unloaded with empty key', ['Run aws-actions/configure-aws-credentials@v4', '  env:', '    AWS_ACCESS_KEY_ID: ', 'Error: Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers'], 'secret.missing', 'AWS_ACCESS_KEY_ID'],
  ];
  it.each(cases)('%s', (_name, lines, kind, name) => {
    const inc = classifyText(stamp(lines), ctx);
    expect(inc[0]?.kind).toBe(kind);
    if (name) expect(inc[0]?.target?.name).toBe(name);
    if (kind === 'credential.invalid') expect(inc.map((i) => i.kind)).not.toContain('secret.missing');
  });

  it('a "no credential given" message with a masked credential in the step is never secret.missing', () => {
    const log = ['Run codecov/codecov-action@v5', '  with:', '    files: lcov.info', '    token: ***', 'Upload failed: {"message":"Token required because branch is protected"}'];
    const inc = classifyText(stamp(log), ctx);
    expect(inc.map((i) => i.kind)).not.toContain('secret.missing');
    expect(inc[0]!.confidence).toBeLessThan(0.5);
    const without = classifyText(stamp(log.filter((l) => !l.includes('token: ***'))), ctx);
    expect(without[0]).toMatchObject({ kind: 'secret.missing', target: null });
  });

  it('AWS "credentials could not be loaded": no credential input listed → missing; a masked one → invalid', () => {
    const base = ['Run aws-actions/configure-aws-credentials@v4', '  with:', '    aws-region: eu-west-2'];
    const err = 'Error: Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers';
    expect(top(stamp([...base, err])).kind).toBe('secret.missing');
    const masked = classifyText(stamp([...base, '    role-to-assume: ***', err]), ctx);
    expect(masked[0]!.kind).toBe('credential.invalid');
    expect(masked.map((i) => i.kind)).not.toContain('secret.missing');
  });

  it('"the tool got no credential" (ENEEDAUTH, aws CLI, docker non-TTY) is never credential.invalid', () => {
    const npm = ['npm error code ENEEDAUTH', 'npm error need auth This command requires you to be logged in to https://registry.npmjs.org/'];
    // Bare: the token usually existed but npm did not see it (.npmrc / registry-url wiring).
    expect(top(npm.join('\n'))).toMatchObject({ kind: 'config.invalid', target: null });
    // The step shows the token empty: the secret is missing, by name.
    const empty = classifyText(stamp(['Run npm publish', '  env:', '    NODE_AUTH_TOKEN: ', ...npm]), ctx);
    expect(empty[0]).toMatchObject({ kind: 'secret.missing', target: { type: 'secret', name: 'NODE_AUTH_TOKEN' } });
    // The step shows the token masked: present, but it did not reach npm. Wiring, never missing or wrong.
    const masked = classifyText(stamp(['Run npm publish', '  env:', '    NODE_AUTH_TOKEN: ***', ...npm]), ctx);
    expect(masked[0]).toMatchObject({ kind: 'config.invalid', target: { type: 'step', name: 'npm publish' } });
    expect(masked.map((i) => i.kind)).not.toContain('secret.missing');

    expect(top('Unable to locate credentials. You can configure credentials by running "aws configure".').kind).toBe('secret.missing');
    const tty = 'Error: Cannot perform an interactive login from a non TTY device';
    // A bare non-TTY line is as often a wrongly named env var as a missing secret: abstain.
    expect(top(tty).confidence).toBeLessThan(0.5);
    // …unless the step's script shows the piped password empty.
    expect(top(stamp(['##[group]Run echo "" | docker login ghcr.io -u me --password-stdin', tty]))).toMatchObject({ kind: 'secret.missing', confidence: 0.8 });
    expect(top(stamp(['##[group]Run ./login.sh', '  docker login -u me -p "" ghcr.io', '  shell: /usr/bin/bash -e {0}', tty])).kind).toBe('secret.missing');
    expect(top(stamp(['##[group]Run echo "$PASS" | docker login -u me --password-stdin', tty])).confidence).toBeLessThan(0.5);
  });

  it('a workflow guard naming the secret ("Missing required secret: X") targets that secret; its script source does not count', () => {
    const script = [
      '##[group]Run set -euo pipefail',
      '[ -n "${API_KEY:-}" ] || { echo "Missing required secret: PROD_API_KEY"; exit 1; }',
      'shell: /usr/bin/bash -e {0}',
      'env:',
      '  API_KEY: ***',
      '##[endgroup]',
    ];
    // Only the script listing: nothing is missing.
    expect(classifyText(stamp([...script, 'Error: Process completed with exit code 1.']), ctx).map((i) => i.kind)).not.toContain('secret.missing');
    const inc = top(stamp([...script, 'Missing required secret: PROD_API_KEY', 'Process completed with exit code 1.']));
    expect(inc).toMatchObject({ kind: 'secret.missing', target: { type: 'secret', name: 'PROD_API_KEY' } });
    expect(top('::error::Missing required var: DEPLOY_REGION')).toMatchObject({ kind: 'variable.missing', target: { type: 'variable', name: 'DEPLOY_REGION' } });
  });

  it('workflow errors quoting secrets.X are config.invalid, not missing secrets', () => {
    const inc = top("Error: /home/runner/work/a/a/./action.yml (Line: 7, Col: 14): Unrecognized named-value: 'secrets'. Located at position 1 within expression: secrets.token");
    expect(inc).toMatchObject({ kind: 'config.invalid', target: { type: 'file', name: 'action.yml' } });
  });

  it('permission problems of a present token are credential.invalid', () => {
    for (const line of ['Error: Resource not accessible by integration', "remote: Permission to a/b.git denied to github-actions[bot].", 'error: You must be logged in to the server (Unauthorized)', 'Error: Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity']) {
      expect(top(line).kind).toBe('credential.invalid');
    }
  });

  it('an empty credential env value is only a hint when a rule explains the failure', () => {
    const log = ['Run npm test', '  env:', '    OPTIONAL_TOKEN: ', 'Tests:       1 failed, 9 passed, 10 total', '##[error]Process completed with exit code 1.'];
    const inc = classifyText(stamp(log), ctx);
    expect(inc[0]!.kind).toBe('code.failure');
    expect(inc.filter((i) => i.kind === 'secret.missing').every((i) => i.confidence < 0.5)).toBe(true);
  });

  it("a passing test's name that talks about invalid tokens is not a credential incident", () => {
    const inc = top(['  ✓ shows an error message when the token is invalid (4 ms)', 'PASS src/auth.test.ts', '##[error]Process completed with exit code 1.'].join('\n'));
    expect(inc.kind).toBe('unknown');
  });

  it('an unexplained auth failure has only moderate confidence', () => {
    const inc = top('remote: Invalid username or password.');
    expect(inc.kind).toBe('credential.invalid');
    expect(inc.confidence).toBeLessThanOrEqual(0.7);
    expect(top(DEPLOY_MASKED.join('\n')).confidence).toBeGreaterThan(inc.confidence);
  });
});

describe('ranking and precision', () => {
  it('prefers the specific cause over generic exit codes and keeps one incident per (kind, target)', () => {
    const log = ['npm ERR! code ERESOLVE', 'npm ERR! ERESOLVE unable to resolve dependency tree', 'npm ERR! ERESOLVE could not resolve', '##[error]Process completed with exit code 1.'];
    const inc = classifyText(log.join('\n'), ctx);
    expect(inc[0]?.kind).toBe('dependency.resolution');
    const keys = inc.map((i) => `${i.kind}|${JSON.stringify(i.target)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('mirror and git transport failures are transient; unusable credentials in GitHub/OAuth/API-key wording are invalid', () => {
    for (const line of [
      "W: Failed to fetch http://deb.debian.org/debian/dists/unstable/InRelease  Temporary failure resolving 'deb.debian.org'",
      'error: RPC failed; curl 56 GnuTLS recv error (-9): Error decoding the received TLS packet.',
      'info There appears to be trouble with your network connection. Retrying...',
      "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
      "fatal: unable to access 'https://github.com/a/b/': Failed to connect to github.com port 443 after 133 ms: Couldn't connect to server",
    ]) expect(top(line).kind).toBe('transient.network');
    for (const line of [
      'remote: Support for password authentication was removed on August 13, 2021.',
      "google.auth.exceptions.RefreshError: ('invalid_grant: Invalid JWT Signature.', {'error': 'invalid_grant'})",
      'Error: Invalid API key provided',
      'Error: Unauthorized',
      'AxiosError: Request failed with status code 403',
    ]) expect(top(line).kind).toBe('credential.invalid');
    // A passing test named after an invalid API key is not a credential incident.
    expect(top('  ✓ rejects an invalid API key (3 ms)').kind).toBe('unknown');
  });

  it('a resolver error caused by a connection reset is transient', () => {
    expect(top('Could not transfer artifact a:b:pom:1.0 from/to central: transfer failed: Connection reset').kind).toBe('transient.network');
  });

  it('returns unknown with low confidence when nothing is recognisable', () => {
    const inc = top(['Run make', 'something odd happened', '##[error]Process completed with exit code 2.'].join('\n'));
    expect(inc.kind).toBe('unknown');
    expect(inc.confidence).toBeLessThan(0.5);
    expect(inc.evidence.length).toBeGreaterThan(0);
  });

  it('evidence is bounded to 50 lines and 2000 chars', () => {
    const long = 'x'.repeat(5000);
    const log = Array.from({ length: 500 }, (_, i) => `npm ERR! code ECONNRESET ${i} ${long}`).join('\n');
    const inc = top(log);
    expect(inc.evidence.length).toBeLessThanOrEqual(50);
    for (const e of inc.evidence) expect(e.text.length).toBeLessThanOrEqual(2000);
  });
});

describe('keyword dispatch', () => {
  it('every rule keyword is lower case and every rule has at least one', async () => {
    const { RULES } = await import('../../src/core/classify/rules.js');
    for (const r of RULES) {
      expect(r.kw.length).toBeGreaterThan(0);
      for (const k of r.kw) expect(k).toBe(k.toLowerCase());
    }
  });

  it('the group scanner reports exactly the groups whose keywords occur, case-insensitively', async () => {
    const { groupScanner } = await import('../../src/core/classify/rules.js');
    const groups = Array.from({ length: 40 }, (_, i) => [`kw${i}x`]);
    groups[33] = ['econnreset', '●'];
    const g = groupScanner(groups);
    const out = new Uint32Array(g.words);
    expect(g.scan('npm ERR! code ECONNRESET and KW2X', out)).toBe(true);
    const bits: number[] = [];
    for (let i = 0; i < 40; i++) if (out[i >>> 5]! & (1 << (i & 31))) bits.push(i);
    expect(bits).toEqual([2, 33]);
    expect(g.scan('  ● suite › test', out)).toBe(true);
    expect(g.scan('nothing here', out)).toBe(false);
  });

  it('the group scanner finds non-ASCII keywords (caseless as is, with letters case-insensitively) and folds ASCII case', async () => {
    const { groupScanner } = await import('../../src/core/classify/rules.js');
    const g = groupScanner([['●'], ['échec'], ['Heap Limit']]);
    const out = new Uint32Array(g.words);
    const groupsOf = (s: string): number[] => {
      g.scan(s, out);
      return [0, 1, 2].filter((i) => out[0]! & (1 << i));
    };
    expect(groupsOf('  ● suite › test')).toEqual([0]);
    expect(groupsOf('ÉCHEC du déploiement')).toEqual([1]);
    expect(groupsOf('Échec ● HEAP LIMIT reached')).toEqual([0, 1, 2]);
    expect(groupsOf('heap limit, nothing else')).toEqual([2]);
    expect(groupsOf('echec without accent, o instead of a bullet')).toEqual([]);
    // The scanner's state is reset between lines: a keyword split across two calls is not found.
    expect(groupsOf('heap ')).toEqual([]);
    expect(groupsOf('limit')).toEqual([]);
  });
});

describe('streaming', () => {
  const sample = '\uFEFF' + stamp([...DEPLOY_EMPTY, 'npm ERR! code ECONNRESET', 'naïve ünïcödé line ✓ 日本語', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory']).replace(/\n/g, '\r\n');
  const expected = classifyText(sample, ctx);

  it('gives the same incidents for every string chunk size 1..n', async () => {
    for (let size = 1; size <= sample.length; size += size < 64 ? 1 : 37) {
      expect(await classify(chunks(sample, size), ctx)).toEqual(expected);
    }
  });

  it('gives the same incidents for byte chunks that split multi-byte characters', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, 1000]) expect(await classify(byteChunks(sample, size), ctx)).toEqual(expected);
  });

  it('accepts a plain string', async () => {
    expect(await classify(sample, ctx)).toEqual(expected);
  });

  it('cuts over-long lines without losing the line count', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.write('a'.repeat(100_000));
    s.write('b\nshort\nlast');
    s.end();
    expect(lines.length).toBe(3);
    expect(lines[0]!.length).toBeLessThanOrEqual(16_384);
    expect(lines.slice(1)).toEqual(['short', 'last']);
  });
});

describe('masking', () => {
  it('keeps GitHub masks and masks token-looking values', () => {
    expect(maskSecrets('token: ***')).toBe('token: ***');
    expect(maskSecrets('using ghp_abcdefghijklmnopqrstuvwxyz0123456789')).toBe('using ***');
    expect(maskSecrets('github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz')).toBe('***');
    expect(maskSecrets('key AKIAIOSFODNN7EXAMPLE')).toBe('key ***');
    expect(maskSecrets('Authorization: Bearer abc.def-ghi_jkl012345')).toBe('Authorization: Bearer ***');
    expect(maskSecrets('jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U')).toBe('jwt ***');
    expect(maskSecrets('//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789')).not.toContain('npm_abc');
  });

  it('masks known values in evidence', () => {
    const inc = classifyText('Error: Bad credentials for s3cr3t-value-123', ctx, { knownValues: ['s3cr3t-value-123'] });
    expect(inc[0]?.evidence[0]?.text).toBe('Error: Bad credentials for ***');
    expect(maskSecrets('a hunter22 b', ['hunter22'])).toBe('a *** b');
  });

  it('never puts a token from the log into evidence', () => {
    const inc = top('curl -H "Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789" -> 401 Unauthorized');
    expect(JSON.stringify(inc)).not.toContain('ghp_');
  });
});

describe('fingerprints', () => {
  it('are stable, 16 hex chars, and depend on kind, target, job and repo only', () => {
    const a = top(DEPLOY_EMPTY.join('\n'));
    const b = top(stamp([...DEPLOY_EMPTY, 'unrelated noise']));
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    const otherJob = classifyText(DEPLOY_EMPTY.join('\n'), { ...ctx, job_name: 'other' })[0]!;
    const otherRepo = classifyText(DEPLOY_EMPTY.join('\n'), { ...ctx, repo: { owner: 'acme', repo: 'web' } })[0]!;
    expect(otherJob.fingerprint).not.toBe(a.fingerprint);
    expect(otherRepo.fingerprint).not.toBe(a.fingerprint);
    expect(top(DEPLOY_MASKED.join('\n')).fingerprint).not.toBe(a.fingerprint);
  });

  it('carries repo, run and environment from the context', () => {
    const inc = classifyText('npm ERR! code ETARGET', { ...ctx, run: { id: 9, attempt: 2, from_fork: false, pull_requests: [] } })[0]!;
    expect(inc).toMatchObject({ repo: ctx.repo, environment: 'production', run: { id: 9, attempt: 2 } });
  });
});
