#!/usr/bin/env node
// The installed package runs the compiled CLI (dist/, made by `npm run build`, shipped in the npm
// package). In a checkout without a build, the TypeScript sources run through tsx (a dev dependency).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/index.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
