#!/usr/bin/env node
/**
 * Bundles the App's process (src/app/main.ts) for production: `npm run build` writes dist/server/,
 * `npm start` runs dist/server/main.js.
 *
 * Why a bundle and not tsc's one-file-per-module output: loading hundreds of small modules (ours, zod's,
 * octokit's) is most of a cold start. One bundle with code splitting loads what the webhook door
 * needs to answer GitHub at once, and the flows and the Redis intake as separate
 * chunks on first use (src/app/flows-lazy.ts, src/intake/index.ts). bench/cold-start.ts measures it.
 *
 *   node scripts/build-app.mjs [--outdir D]
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--outdir');
const outdir = i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : path.join(ROOT, 'dist', 'server');

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: [path.join(ROOT, 'src', 'app', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS packages call require() for Node built-ins: give the ESM chunks one.
  banner: { js: "import { createRequire as __livingBridgeCreateRequire } from 'node:module'; const require = __livingBridgeCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  conditions: ['node', 'import'],
});
await writeFile(path.join(outdir, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
console.log(`built ${path.relative(process.cwd(), outdir)}/main.js`);
