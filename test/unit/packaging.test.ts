/**
 * The files that package and start Living Bridge, checked for what can be checked without a Docker
 * engine (none on this machine or in CI): the Dockerfile's stages, user, health check and the paths
 * it copies; the compose file's services; .env.example against the documented variables; and what
 * `npm pack` would publish.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, test } from '@jest/globals';
import { parse as parseYaml } from 'yaml';

const ROOT = process.cwd();
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { private?: boolean; license: string; files: string[]; bin: Record<string, string>; engines: { node: string }; scripts: Record<string, string> };

/** Dockerfile instructions (line continuations joined), grouped by stage. */
function dockerStages(text: string): { name: string; from: string; instructions: { op: string; args: string }[] }[] {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: { name: string; from: string; instructions: { op: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op!.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ name: m[2] ?? String(stages.length), from: m[1]!, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op: op!.toUpperCase(), args });
    }
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const runtime = stages.at(-1)!;

  test('is multi-stage: a build stage, and a runtime stage without dev dependencies', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(stages[0]!.instructions).toContainEqual({ op: 'RUN', args: 'npm run build' });
    expect(runtime.instructions.find((i) => i.op === 'RUN' && i.args.includes('npm ci'))?.args).toContain('--omit=dev');
    expect(runtime.instructions).toContainEqual(expect.objectContaining({ op: 'COPY', args: '--from=build /app/dist ./dist' }));
  });

  test('runs as a non-root user, with a HEALTHCHECK on /healthz', () => {
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const health = runtime.instructions.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    expect(health).toMatch(/^--interval=\S+ .*CMD /);
    expect(health).toContain('/healthz');
  });

  test('copies only paths that exist, and starts what `npm start` starts', () => {
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
      }
    }
    const cmd = JSON.parse(runtime.instructions.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd.join(' ')).toBe(pkg.scripts.start);
    expect(existsSync(join(ROOT, 'scripts/build-app.mjs'))).toBe(true);
  });

  test('.dockerignore keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', '*.pem', '*.key', 'node_modules', '.git']) expect(ignored).toContain(entry);
  });
});

describe('compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, { build?: string; image?: string; env_file?: string; environment?: Record<string, string>; depends_on?: Record<string, unknown>; secrets?: string[] }>; secrets: Record<string, { file: string }> };

  test('two App replicas share one Redis, started after Redis is healthy', () => {
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    const apps = Object.entries(compose.services).filter(([, s]) => s.build === '.');
    expect(apps.map(([n]) => n)).toEqual(['app-1', 'app-2']);
    for (const [, app] of apps) {
      expect(app.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(app.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      expect(app.env_file).toBe('.env');
      for (const s of app.secrets ?? []) expect(compose.secrets[s]).toBeDefined();
    }
    expect(existsSync(join(ROOT, '.env.example'))).toBe(true);
  });
});

describe('.env.example', () => {
  test('parses, and every variable it sets is documented in docs/app.md', () => {
    const vars = Object.keys(parseEnv(read('.env.example')));
    expect(vars).toEqual(expect.arrayContaining(['APP_ID', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET', 'TRUTH_SIGNING_KEY_FILE']));
    const appDoc = read('docs/app.md');
    for (const v of vars) expect([v, appDoc.includes(`\`${v}\``)]).toEqual([v, true]);
  });

  test('npm run dev loads it; npm start does not', () => {
    expect(pkg.scripts.dev).toContain('--env-file-if-exists=.env');
    expect(pkg.scripts.start).not.toContain('env-file');
  });
});

describe('the npm package', () => {
  test('is publishable: not private, engines, bin, files, LICENSE matching the license field', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.engines.node).toMatch(/^>=20/);
    const bin = join(ROOT, pkg.bin['living-bridge']!);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n/);
  });

  test('npm pack --dry-run ships the build, the Action and the docs, not the sources or tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['package.json', 'LICENSE', 'README.md', 'bin/living-bridge.js', 'action/action.yml', 'action/dist/index.js', 'app.yml', '.env.example', 'docs/releasing.md']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/'))).toEqual([]);
    // `prepack` builds dist/ before a real pack or publish.
    expect(pkg.scripts.prepack).toBe('npm run build');
  });
});
