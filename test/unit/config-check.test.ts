/**
 * `validate`'s checks: every problem with its line and column, the schema path, our words (never
 * zod's "Invalid discriminator value"/"Invalid key in record"/"Invalid input"), did-you-mean for
 * misspelt keys and options, and JSON/YAML syntax errors with their position.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { githubAnnotation } from '../../src/cli/commands/validate.js';
import { checkConfigText, jsonSyntaxError } from '../../src/pipeline/config-check.js';
import { allowedKeysAt, closest, RepoConfig } from '../../src/core/schemas/index.js';

const YML = [
  'version: 1',                              // 1
  'default_levle: full',                     // 2
  'environments:',                           // 3
  '  production:',                           // 4
  '    level: ful',                          // 5
  'secrets:',                                // 6
  '  bad-name: { source: generate }',        // 7
  '  API_KEY:',                              // 8
  '    source: vault',                       // 9
  '  NPM_TOKEN: { source: from_env }',       // 10
  'limits:',                                 // 11
  '  max_fail_streak: lots',                 // 12
  '',
].join('\n');

describe('autonomy.yml', () => {
  const found = checkConfigText('.github/autonomy.yml', YML, 'autonomy');
  const at = (path: string) => found.filter((d) => d.path === path || d.path.startsWith(`${path} `));

  test('an unknown key: at the key, with the key it most likely meant', () => {
    expect(found).toContainEqual(expect.objectContaining({ line: 2, column: 1, endColumn: 14, path: '(root)', message: 'unknown key(s) default_levle (did you mean default_level?)', suggestion: 'default_level' }));
  });

  test('a misspelt option: at the value, with the option it most likely meant', () => {
    expect(at('environments.production.level')).toEqual([expect.objectContaining({ line: 5, column: 12, message: 'expected one of observe|suggest|balanced|full (did you mean full?)' })]);
  });

  test('record keys, discriminators, missing keys and types, in our words', () => {
    expect(at('secrets.bad-name')).toEqual([expect.objectContaining({ line: 7, column: 3, message: expect.stringMatching(/^the key "bad-name" is not a valid name: expected a name of letters/) })]);
    expect(at('secrets.API_KEY.source')).toEqual([expect.objectContaining({ line: 9, column: 13, message: 'expected one of generate|from_env|external' })]);
    // The missing key is reported at the entry that lacks it.
    expect(at('secrets.NPM_TOKEN.env')).toEqual([expect.objectContaining({ line: 10, column: 3, message: 'expected string (the key is missing)' })]);
    expect(at('limits.max_fail_streak')).toEqual([expect.objectContaining({ line: 12, column: 20, message: 'expected number, received string' })]);
    for (const d of found) expect(d.message).not.toMatch(/Invalid (discriminator|key in record|input)/);
    expect(found).toHaveLength(6);
  });

  test('YAML syntax errors and duplicate keys have their position', () => {
    expect(checkConfigText('a.yml', 'enabled: true\nenabled: false\n', 'autonomy')).toEqual([expect.objectContaining({ line: 2, column: 1, path: '(syntax)', message: 'not valid YAML: Map keys must be unique' })]);
    expect(checkConfigText('a.yml', 'a: [1\nb: 2\n', 'autonomy')[0]).toMatchObject({ path: '(syntax)', line: 2 });
  });

  test('an empty file is valid (all defaults); the repository\'s own example is valid', () => {
    expect(checkConfigText('a.yml', '', 'autonomy')).toEqual([]);
    expect(checkConfigText('.github/autonomy.yml', readFileSync('.github/autonomy.yml', 'utf8'), 'autonomy')).toEqual([]);
  });
});

describe('environment.json', () => {
  test('the repository\'s example is valid; a misspelt key is found with its position', () => {
    const text = readFileSync('environment.json', 'utf8');
    expect(checkConfigText('environment.json', text, 'environment')).toEqual([]);
    const bad = '{\n  "version": 1,\n  "environmnts": {}\n}\n';
    expect(checkConfigText('e.json', bad, 'environment')).toEqual([expect.objectContaining({ line: 3, column: 3, message: 'unknown key(s) environmnts (did you mean environments?)' })]);
  });

  test('JSON syntax errors: line, column and what was expected', () => {
    expect(checkConfigText('e.json', '{\n  "a": 1,\n}\n', 'environment')).toEqual([expect.objectContaining({ line: 3, column: 1, path: '(syntax)', message: 'not valid JSON: expected another key (no comma before a closing brace), found "}"' })]);
    expect(checkConfigText('e.json', '{"a": [1, 2,, 3]}', 'environment')[0]).toMatchObject({ line: 1, column: 13 });
    expect(jsonSyntaxError('{"a": "x')).toEqual({ offset: 8, message: 'expected a closing ", found the end of the file' });
    expect(jsonSyntaxError('{"a": 1} x')).toMatchObject({ offset: 9, message: expect.stringMatching(/^expected the end of the file/) });
    expect(checkConfigText('e.json', '  ', 'environment')[0]?.message).toMatch(/empty/);
  });
});

test('allowed keys are read from the schema itself; closest only suggests near misses', () => {
  expect(allowedKeysAt(RepoConfig, ['limits'])).toEqual(expect.arrayContaining(['max_fail_streak', 'max_rerun_attempts']));
  expect(allowedKeysAt(RepoConfig, ['secrets', 'ANY'])).toEqual(expect.arrayContaining(['source', 'env', 'length', 'charset']));
  expect(closest('cooldown', ['cooldowns', 'limits'])).toBe('cooldowns');
  expect(closest('Default-Level', ['default_level'])).toBe('default_level');
  expect(closest('banana', ['cooldowns', 'limits'])).toBeNull();
});

test('githubAnnotation escapes the properties and the message as the runner expects', () => {
  expect(githubAnnotation({ file: 'a,b.yml', line: 3, column: 5, endLine: 3, endColumn: 9, path: 'x', message: '50% off\nnext' }))
    .toBe('::error file=a%2Cb.yml,line=3,col=5,endLine=3,endColumn=9,title=Living Bridge%3A x::50%25 off%0Anext');
});

describe('living-bridge validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-validate-'));
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, env: {} });
    return { code, out, err };
  };
  writeFileSync(join(dir, 'autonomy.yml'), YML);
  writeFileSync(join(dir, 'good.yml'), 'default_level: suggest\n');

  test('prints file:line:col: path: message per problem and exits 1', async () => {
    const r = await run('validate', join(dir, 'autonomy.yml'), join(dir, 'good.yml'));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(dir, 'autonomy.yml')}:2:1: (root): unknown key(s) default_levle (did you mean default_level?)\n`);
    expect(r.out).toContain(`${join(dir, 'good.yml')}: valid (autonomy config)`);
  });

  test('--json and --github', async () => {
    const json = JSON.parse((await run('validate', '--json', join(dir, 'autonomy.yml'))).out) as { valid: boolean; diagnostics: unknown[] };
    expect(json).toMatchObject({ valid: false });
    expect(json.diagnostics).toHaveLength(6);
    const gh = await run('validate', '--github', join(dir, 'autonomy.yml'));
    expect(gh.out.split('\n')[0]).toMatch(/^::error file=.*autonomy\.yml,line=\d+,col=\d+,/);
  });

  test('a valid file exits 0; a missing file or an unknown kind exits 2', async () => {
    expect(await run('validate', join(dir, 'good.yml'))).toMatchObject({ code: 0, out: `${join(dir, 'good.yml')}: valid (autonomy config)\n` });
    expect((await run('validate', join(dir, 'nope.yml'))).code).toBe(2);
    writeFileSync(join(dir, 'x.txt'), 'a');
    const unknown = await run('validate', join(dir, 'x.txt'));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/pass --kind/);
    expect((await run('validate', '--kind', 'autonomy', join(dir, 'x.txt'))).code).toBe(1);
  });
});
