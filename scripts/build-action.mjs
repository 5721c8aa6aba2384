#!/usr/bin/env node
/**
 * Bundles the GitHub Action (src/action/index.ts and everything it imports) into one ESM file,
 * action/dist/index.js, that the runner executes with node20 and no node_modules.
 *
 *   node scripts/build-action.mjs             # writes action/dist/
 *   node scripts/build-action.mjs --outdir D  # writes D/ instead (scripts/check-bundle.mjs uses this)
 *
 * The output is deterministic (no timestamps, no metafile, no source maps, paths relative to the
 * repository root), so CI can rebuild it and compare it byte for byte with the committed bundle.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUTDIR = path.join(ROOT, 'action', 'dist');

/** Some bundled CommonJS packages call require() for Node built-ins: give the ESM bundle one. */
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Builds the Action into `outdir` (index.js plus a package.json marking it ESM); returns the files written. */
export async function buildAction(outdir = DEFAULT_OUTDIR) {
  await mkdir(outdir, { recursive: true });
  const outfile = path.join(outdir, 'index.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src', 'action', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    // Deterministic output: no metafile, no source map, no minified identifiers that may shift.
    metafile: false,
    sourcemap: false,
    minify: false,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
    // Prefer the ESM entry points of dual packages (@actions/core 3 is ESM-only anyway).
    mainFields: ['module', 'main'],
    conditions: ['node', 'import'],
  });
  // The runner may execute the bundle from a checkout whose root package.json says nothing about
  // "type": make sure Node treats index.js as ESM wherever it lies.
  const pkg = path.join(outdir, 'package.json');
  await writeFile(pkg, `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
  return [outfile, pkg];
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const i = process.argv.indexOf('--outdir');
  const outdir = i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : DEFAULT_OUTDIR;
  buildAction(outdir)
    .then((files) => console.log(`built ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
