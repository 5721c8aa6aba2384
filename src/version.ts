import { readFileSync } from 'node:fs';

/**
 * Living Bridge's version, from package.json. Read at run time (not imported) so the same code works
 * from src/ under tsx and from the compiled dist/: both sit one folder below package.json.
 */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return pkg.name === 'living-bridge' && pkg.version ? pkg.version : 'unknown';
  } catch {
    // Bundled (the Action's dist) there is no package.json beside us.
    return 'unknown';
  }
}

export const VERSION = readVersion();
