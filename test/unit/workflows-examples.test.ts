/** The worked examples shipped with the repository validate against the core schemas. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EnvironmentFile, RepoConfig, SchemaError, parseWith } from '../../src/core/schemas/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('worked examples', () => {
  it('environment.json (root) is a valid EnvironmentFile that exercises every source kind', async () => {
    const data = JSON.parse(await readFile(path.join(ROOT, 'environment.json'), 'utf8')) as unknown;
    const file = parseWith(EnvironmentFile, data, 'environment.json');
    const sources = new Set(
      [file.repository, ...Object.values(file.environments)].flatMap((s) => Object.values(s.secrets).map((x) => x.source)),
    );
    expect([...sources].sort()).toEqual(['external', 'from_env', 'generate']);
    expect(Object.keys(file.environments).sort()).toEqual(['production', 'staging']);
    // Never delete by default.
    expect([file.repository, ...Object.values(file.environments)].every((s) => s.prune === false)).toBe(true);
  });

  it('.github/autonomy.yml is a valid RepoConfig', async () => {
    const data = parseYaml(await readFile(path.join(ROOT, '.github', 'autonomy.yml'), 'utf8')) as unknown;
    const config = parseWith(RepoConfig, data, '.github/autonomy.yml');
    expect(config.deploy_workflows).toEqual(['Build & Deploy']);
    expect(config.ledger.branch).toBe('bridge-ledger');
    expect(config.secrets.DEPLOY_TOKEN?.source).toBe('generate');
  });

  it('a broken example would be caught with the file and path named', () => {
    expect(() => parseWith(EnvironmentFile, { repository: { secrets: { X: { source: 'invent' } } } }, 'environment.json')).toThrow(SchemaError);
    expect(() => parseWith(EnvironmentFile, { repository: { secrets: { X: { source: 'invent' } } } }, 'environment.json')).toThrow(/environment\.json: repository\.secrets\.X/);
  });
});
