/** The generated `discovered` section of environment.json: what GitHub holds that nobody declared. */
import type { DiscoveredInventory, EnvironmentFile } from '../schemas/index.js';
import type { ActualInventory, ActualScope } from './types.js';

const upperKeys = (rec: Record<string, unknown>): Set<string> => new Set(Object.keys(rec).map((k) => k.toUpperCase()));

function undeclaredOf(act: ActualScope, decl: { variables: Record<string, unknown>; secrets: Record<string, unknown> } | undefined): { variables: string[]; secrets: string[] } {
  const dv = decl ? upperKeys(decl.variables) : new Set<string>();
  const ds = decl ? upperKeys(decl.secrets) : new Set<string>();
  return {
    variables: Object.keys(act.variables).filter((n) => !dv.has(n)).sort(),
    secrets: Object.keys(act.secrets).filter((n) => !ds.has(n)).sort(),
  };
}

/**
 * Items found on GitHub but not declared: names only (never values). An environment that exists on
 * GitHub but is not declared is listed with everything it holds (even when that is nothing).
 */
export function discoveredInventory(actual: ActualInventory, declared: EnvironmentFile, now: Date): DiscoveredInventory {
  const environments: DiscoveredInventory['environments'] = {};
  for (const name of Object.keys(actual.environments).sort()) {
    const env = actual.environments[name]!;
    const decl = declared.environments[name];
    const found = undeclaredOf(env, decl);
    if (!decl || found.variables.length > 0 || found.secrets.length > 0) environments[name] = found;
  }
  return { generated_at: now.toISOString(), repository: undeclaredOf(actual.repository, declared.repository), environments };
}

/** Same inventory, ignoring when it was generated (write back only when this is false). */
export function sameDiscovered(a: DiscoveredInventory | undefined, b: DiscoveredInventory | undefined): boolean {
  // No section and an empty inventory are the same: nothing to write back.
  const strip = (d: DiscoveredInventory | undefined): string =>
    d === undefined ? JSON.stringify({ r: { variables: [], secrets: [] }, e: [] }) : JSON.stringify({ r: d.repository, e: Object.keys(d.environments).sort().map((k) => [k, d.environments[k]]) });
  return strip(a) === strip(b);
}
