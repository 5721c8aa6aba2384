/**
 * Offline verifier for a Living Bridge ledger checkout, for auditors who do not install the CLI.
 *
 *   node --import tsx scripts/verify-chain.ts <ledger-checkout> --keys <file|dir> [--anchor <file>]... [--require-anchor] [--repo owner/name] [--json]
 *
 * Runs exactly the verification `living-bridge verify --dir` runs (src/pipeline/verify-offline.ts):
 * every certificate against the keys you pinned (--keys, LIVING_BRIDGE_TRUSTED_KEYS; never the keys
 * the branch lists), the hash links and sequence numbers, the signed checkpoint
 * (.bridge/checkpoint.json) against the chain, and the saved anchors (--anchor: check-run JSON, a PR
 * comment, an attestation) against the checkpoint.
 *
 * Exit codes: 0 the ledger holds, 1 it is broken or tampered (the message says which step and why),
 * 2 usage or read errors (naming the path), 3 no ledger in that directory.
 */
import { pinnedKeys, TrustedKeysError } from '../src/pipeline/trust.js';
import { LedgerReadError, verifyLedgerDirectory } from '../src/pipeline/verify-offline.js';
import { VERIFY_EXIT, renderReport } from '../src/pipeline/verify.js';

const USAGE = 'usage: node --import tsx scripts/verify-chain.ts <ledger-checkout> --keys <file|dir> [--anchor <file>]... [--require-anchor] [--repo owner/name] [--json]';

class UsageError extends Error {}

interface Args {
  dir: string;
  keys: string[];
  anchors: string[];
  requireAnchor: boolean;
  repo?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const rest = [...argv];
  const args: Partial<Args> & Pick<Args, 'keys' | 'anchors' | 'requireAnchor' | 'json'> = { keys: [], anchors: [], requireAnchor: false, json: false };
  while (rest.length) {
    const a = rest.shift() as string;
    if (a === '--help' || a === '-h') throw new UsageError(USAGE);
    if (a === '--json') args.json = true;
    else if (a === '--require-anchor') args.requireAnchor = true;
    else if (a === '--keys' || a === '--anchor' || a === '--repo') {
      const v = rest.shift();
      if (v === undefined) throw new UsageError(`${a} needs a value\n${USAGE}`);
      if (a === '--keys') args.keys.push(v);
      else if (a === '--anchor') args.anchors.push(v);
      else args.repo = v;
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}\n${USAGE}`);
    } else if (args.dir === undefined) {
      args.dir = a;
    } else {
      throw new UsageError(`unexpected argument ${a}\n${USAGE}`);
    }
  }
  if (args.dir === undefined) throw new UsageError(USAGE);
  return args as Args;
}

function main(argv: string[]): number {
  const args = parseArgs(argv);
  const trust = pinnedKeys({ env: process.env, keyFiles: args.keys });
  if (Object.keys(trust.keys).length === 0) {
    throw new UsageError('no trusted keys: pass --keys <file> (the public key(s) you pinned) or set LIVING_BRIDGE_TRUSTED_KEYS; keys listed on the ledger branch are never trusted');
  }
  const report = verifyLedgerDirectory(args.dir, trust, { repository: args.repo, anchorFiles: args.anchors, requireAnchor: args.requireAnchor });
  const text = renderReport(report);
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else if (report.ok) console.log(text);
  else console.error(text);
  return VERIFY_EXIT[report.status];
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  const known = error instanceof UsageError || error instanceof TrustedKeysError || error instanceof LedgerReadError;
  console.error(known ? (error as Error).message : `error: ${(error as Error).message}`);
  process.exitCode = VERIFY_EXIT.usage;
}
