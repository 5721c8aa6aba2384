import { loadSigner } from '../../pipeline/build-context.js';
import { TrustedKeysError, pinnedKeys, type PinnedKeys } from '../../pipeline/trust.js';
import { LedgerReadError, readAnchorFiles, verifyLedgerDirectory } from '../../pipeline/verify-offline.js';
import { VERIFY_EXIT, renderReport, verifyLedger } from '../../pipeline/verify.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CliIo, type CommandModule } from '../runtime.js';

/** Commander collector for repeatable options (`--keys a --keys b`). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * The keys this verification trusts: --keys files, LIVING_BRIDGE_TRUSTED_KEYS, LIVING_BRIDGE_GRANT_KEYS
 * and the public half of TRUTH_SIGNING_KEY when one is set. Never the keys the ledger branch lists.
 */
export async function trustFor(io: CliIo, keyFiles: string[]): Promise<PinnedKeys> {
  const hasKey = Boolean(io.env.TRUTH_SIGNING_KEY?.trim() || io.env.TRUTH_SIGNING_KEY_FILE);
  try {
    const trust = pinnedKeys({ env: io.env, keyFiles, signer: hasKey ? await loadSigner(io.env) : null });
    if (Object.keys(trust.keys).length === 0) {
      throw new UsageError('verify: no trusted keys. Pass --keys FILE (the public key(s) you pinned, one base64 key per line) or set LIVING_BRIDGE_TRUSTED_KEYS; keys listed on the ledger branch are never trusted');
    }
    return trust;
  } catch (err) {
    if (err instanceof TrustedKeysError) throw new UsageError(`verify: ${err.message}`);
    throw err;
  }
}

/**
 * `verify`: a certificate chain on GitHub (--repo) or offline in a ledger checkout (--dir), against
 * pinned keys, its signed checkpoint and the anchors outside the branch. Needs no signing key.
 * Exit codes: 0 ok, 1 broken or tampered, 2 usage or read error, 3 no ledger.
 */
export const verifyCommands: CommandModule = (rt) => {
  const { program, exit, io } = rt;
  program
    .command('verify')
    .description('verify a certificate chain against pinned keys, its checkpoint and its anchors: on GitHub (--repo) or offline (--dir)')
    .option('--repo <owner/name>', 'repository whose ledger branch to verify (with --dir: the repository the checkout must be about)', repoOption)
    .option('--dir <path>', 'a checkout of the ledger branch (offline)')
    .option('--keys <file>', 'trusted public keys: a file with one base64 key per line, or a directory of .pub files (repeatable)', collect, [])
    .option('--anchor <file>', 'a saved anchor: check-run JSON, a PR comment, an attestation or a checkpoint file (repeatable)', collect, [])
    .option('--require-anchor', "with --dir: fail unless an --anchor records the checkout's own checkpoint", false)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo?: string; dir?: string; keys: string[]; anchor: string[]; requireAnchor: boolean; json: boolean }) => {
      if (!o.repo && !o.dir) throw new UsageError('verify: give --repo <owner/name> or --dir <path>');
      const trust = await trustFor(io, o.keys);
      let report;
      try {
        report = o.dir
          ? verifyLedgerDirectory(o.dir, trust, { repository: o.repo, anchorFiles: o.anchor, requireAnchor: o.requireAnchor })
          : await verifyLedger(await contextFrom(rt, { signing: 'optional' }), o.repo!, trust, { anchors: readAnchorFiles(o.anchor) });
      } catch (err) {
        if (err instanceof LedgerReadError) throw new UsageError(`verify: ${err.message}`);
        throw err;
      }
      print(rt, o.json, report, renderReport(report));
      exit.code = VERIFY_EXIT[report.status];
    });
};
