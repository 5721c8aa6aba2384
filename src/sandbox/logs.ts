/**
 * Builds GitHub Actions job logs: every line prefixed with a 7-digit-fraction ISO timestamp
 * (`2026-11-23T10:00:00.1234567Z `), `##[group]`/`##[endgroup]` folds, `##[error]` annotations,
 * and every secret value masked as `***` (as the runner does).
 */
export class LogWriter {
  private readonly lines: string[] = [];
  private tickCount = 0;

  constructor(private t: number) {}

  get now(): number {
    return this.t;
  }

  /** Advance the clock by `ms`. */
  wait(ms: number): this {
    this.t += ms;
    return this;
  }

  stamp(): string {
    this.tickCount = (this.tickCount + 1237) % 10000;
    const iso = new Date(this.t).toISOString();
    return `${iso.slice(0, -1)}${String(this.tickCount).padStart(4, '0')}Z`;
  }

  line(...texts: string[]): this {
    for (const text of texts) {
      this.lines.push(`${this.stamp()} ${text}`);
      this.t += 3;
    }
    return this;
  }

  group(title: string, body: string[] = []): this {
    this.line(`##[group]${title}`, ...body, '##[endgroup]');
    return this;
  }

  error(message: string): this {
    return this.line(`##[error]${message}`);
  }

  /** The finished log, with secret values masked. */
  text(secretValues: string[]): string {
    let out = `${this.lines.join('\n')}\n`;
    for (const v of [...secretValues].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)) {
      out = out.split(v).join('***');
    }
    return out;
  }
}

/** The transient errors a flaky network produces during `npm ci`. */
export function networkErrorLines(kind: 'ECONNRESET' | 'ETIMEDOUT' | '502'): string[] {
  switch (kind) {
    case 'ETIMEDOUT':
      return [
        'npm ERR! code ETIMEDOUT',
        'npm ERR! syscall connect',
        'npm ERR! errno ETIMEDOUT',
        'npm ERR! network request to https://registry.npmjs.org/esbuild failed, reason: connect ETIMEDOUT 104.16.0.35:443',
        'npm ERR! network This is a problem related to network connectivity.',
        'npm ERR! network In most cases you are behind a proxy or have bad network settings.',
        'Error: connect ETIMEDOUT 104.16.0.35:443',
      ];
    case '502':
      return [
        'npm ERR! code E502',
        'npm ERR! 502 Bad Gateway - GET https://registry.npmjs.org/@types%2fnode',
      ];
    default:
      return [
        'npm ERR! code ECONNRESET',
        'npm ERR! syscall read',
        'npm ERR! errno ECONNRESET',
        'npm ERR! network request to https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz failed, reason: read ECONNRESET',
        'npm ERR! network This is a problem related to network connectivity.',
        'npm ERR! network In most cases you are behind a proxy or have bad network settings.',
      ];
  }
}

/** What jest prints when one test fails. */
export const BROKEN_TEST_LINES = [
  'FAIL src/deploy.test.ts',
  '  ● deploy › builds the release url',
  '',
  '    expect(received).toBe(expected) // Object.is equality',
  '',
  '    Expected: "https://eu-west-1.deploy.example.com/releases"',
  '    Received: "https://eu-west-1.deploy.example.com/release"',
  '',
  '      12 |   it(\'builds the release url\', () => {',
  "    > 13 |     expect(releaseUrl('eu-west-1')).toBe('https://eu-west-1.deploy.example.com/releases');",
  '         |                                     ^',
  '',
  'Test Suites: 1 failed, 3 passed, 4 total',
  'Tests:       1 failed, 27 passed, 28 total',
  'Snapshots:   0 total',
  'Time:        4.212 s',
  'Ran all test suites.',
];
