#!/usr/bin/env node
/**
 * Fails when the committed Action bundle (action/dist/) is not exactly what the sources build:
 * rebuilds into a temporary directory and compares every file byte for byte.
 * Fix a failure with `npm run build:action` and commit action/dist/.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { DEFAULT_OUTDIR, ROOT, buildAction } from './build-action.mjs';

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'living-bridge-action-'));
  try {
    await buildAction(tmp);
    const built = (await readdir(tmp)).sort();
    const committed = (await readdir(DEFAULT_OUTDIR).catch(() => [])).sort();
    const problems = [];
    for (const name of new Set([...built, ...committed])) {
      const rel = path.relative(ROOT, path.join(DEFAULT_OUTDIR, name));
      if (!committed.includes(name)) { problems.push(`${rel}: missing (the build produces it)`); continue; }
      if (!built.includes(name)) { problems.push(`${rel}: not produced by the build (remove it)`); continue; }
      const [a, b] = await Promise.all([readFile(path.join(tmp, name)), readFile(path.join(DEFAULT_OUTDIR, name))]);
      if (!a.equals(b)) problems.push(`${rel}: differs from a fresh build (${b.length} bytes committed, ${a.length} built)`);
    }
    if (problems.length) {
      console.error(`action/dist is stale:\n  ${problems.join('\n  ')}\nRun \`npm run build:action\` and commit action/dist/.`);
      process.exit(1);
    }
    console.log(`action/dist is fresh (${built.length} files)`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
