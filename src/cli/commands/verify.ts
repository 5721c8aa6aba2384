import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { verifyChain } from '../../core/certificate/index.js';
import { Certificate, parseRepoFullName, parseWith } from '../../core/schemas/index.js';
import { verifyLedger } from '../../pipeline/verify.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CommandModule } from '../runtime.js';

/** `verify`: a certificate chain on GitHub or offline in a ledger checkout. Needs no signing key. */
export const verifyCommands: CommandModule = (rt) => {
  const { program, exit } = rt;
  program
    .command('verify')
    .description('verify a certificate chain: on GitHub (--repo) or offline in a ledger checkout (--dir)')
    .option('--repo <owner/name>', 'repository whose ledger branch to verify', repoOption)
    .option('--dir <path>', 'a checkout of the ledger branch (offline)')
    .option(...JSON_FLAG, false)
    .action(async (o: { repo?: string; dir?: string; json: boolean }) => {
      if (!o.repo && !o.dir) throw new UsageError('verify: give --repo <owner/name> or --dir <path>');
      if (o.dir) {
        const result = verifyDirectory(o.dir);
        print(rt, o.json, result, `${result.ok ? 'chain ok' : 'chain BROKEN'}: ${result.message}`);
        if (!result.ok) exit.code = 1;
        return;
      }
      const ctx = await contextFrom(rt, { signing: 'optional' });
      // A repository that does not exist would otherwise verify as an empty, intact chain.
      await ctx.github.getDefaultBranch(parseRepoFullName(o.repo!));
      const result = await verifyLedger(ctx, o.repo!);
      print(rt, o.json, result, result.ok ? `chain ok: ${result.length} certificates, head ${result.head ?? '(empty)'}` : `chain BROKEN at certificate #${(result.brokenAt ?? 0) + 1}: ${result.reason}`);
      if (!result.ok) exit.code = 1;
    });
};

/** Offline verification of a ledger checkout: `.bridge/certificates/*.json` against `.bridge/keys/*.pub`. */
export function verifyDirectory(dir: string): { ok: boolean; message: string } {
  const root = existsSync(join(dir, '.bridge')) ? join(dir, '.bridge') : dir;
  const certDir = join(root, 'certificates');
  if (!existsSync(certDir)) return { ok: false, message: `${certDir} does not exist` };
  const files = readdirSync(certDir).filter((f) => f.endsWith('.json')).sort();
  const certificates = files.map((f) => parseWith(Certificate, JSON.parse(readFileSync(join(certDir, f), 'utf8')), f));
  const keys: Record<string, string> = {};
  const keyDir = join(root, 'keys');
  if (existsSync(keyDir)) for (const f of readdirSync(keyDir).filter((k) => k.endsWith('.pub'))) keys[f.slice(0, -4)] = readFileSync(join(keyDir, f), 'utf8').trim();
  let expectedHead: string | undefined;
  const statePath = join(root, 'state.json');
  if (existsSync(statePath)) expectedHead = (JSON.parse(readFileSync(statePath, 'utf8')) as { last_certificate_hash?: string }).last_certificate_hash ?? undefined;
  const result = verifyChain(certificates, keys, { expectedHead });
  return result.ok
    ? { ok: true, message: `${result.length} certificates, head ${result.head ?? '(empty)'}` }
    : { ok: false, message: `certificate #${result.index + 1} (${files[result.index] ?? 'missing'}): ${result.reason}` };
}
