import { readFileSync } from 'node:fs';

/**
 * Living Bridge's version, from package.json. Read at run time (not imported) so the same code works
 * from src/ under tsx, from tsc's dist/ and from the App bundle.
 */
function readVersion(): string {
  // src/ and dist/<module>/ sit one folder below package.json; the App bundle (dist/server/) two.
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'living-bridge' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next one
    }
  }
  // The Action's bundle runs without our package.json beside it.
  return 'unknown';
}

export const VERSION = readVersion();
