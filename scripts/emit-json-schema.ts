/**
 * Writes the JSON Schemas editors use for the two user-edited files, from the core zod schemas
 * (the one definition of each): docs/schema/environment.schema.json and docs/schema/autonomy.schema.json.
 * `io: 'input'` describes what a person may write (defaults make fields optional).
 *
 *   npm run schema            # or: npx tsx scripts/emit-json-schema.ts [--check]
 * `--check` fails when the committed files are stale (for CI).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EnvironmentFile, RepoConfig } from '../src/core/schemas/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASE = 'https://living-bridge.dev/schema';

const targets = [
  {
    file: 'docs/schema/environment.schema.json',
    schema: EnvironmentFile,
    id: `${BASE}/environment.schema.json`,
    title: 'Living Bridge .github/environment.json',
    description: 'What each deployment environment needs: repository and per-environment variables, secrets (by source, never by value) and environment settings. See docs/env-sync.md.',
  },
  {
    file: 'docs/schema/autonomy.schema.json',
    schema: RepoConfig,
    id: `${BASE}/autonomy.schema.json`,
    title: 'Living Bridge .github/autonomy.yml',
    description: 'How much Living Bridge may do in this repository. Every field has a safe default; an empty file is valid.',
  },
];

export function emit(schema: z.ZodType, meta: { id: string; title: string; description: string }): string {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return `${JSON.stringify({ $schema, $id: meta.id, title: meta.title, description: meta.description, ...rest }, null, 2)}\n`;
}

/** Every schema file and the text it should hold. */
export function renderSchemas(): { file: string; text: string }[] {
  return targets.map((t) => ({ file: t.file, text: emit(t.schema, t) }));
}

function main(): void {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { file, text } of renderSchemas()) {
    const path = join(root, file);
    if (check) {
      let current = '';
      try { current = readFileSync(path, 'utf8'); } catch { /* missing counts as stale */ }
      if (current !== text) { stale += 1; console.error(`${file} is stale: run npm run schema`); }
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${file}`);
  }
  if (stale > 0) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
