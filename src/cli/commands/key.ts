import { readFileSync } from 'node:fs';
import { RotationRefusedError, rotateSigningKey } from '../../pipeline/rotate-key.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CommandModule } from '../runtime.js';

/**
 * `key rotate`: writes a key-rotation certificate into a repository's ledger, signed by the key that
 * signs it now (TRUTH_SIGNING_KEY), naming the next public key. Verifiers that pinned the old key then
 * trust the next one for every later link. Needs only the next key's public half.
 */
export const keyCommands: CommandModule = (rt) => {
  const key = rt.program.command('key').description('signing-key lifecycle');
  key
    .command('rotate')
    .description('write a key-rotation certificate (signed by TRUTH_SIGNING_KEY) that hands the chain to the next public key')
    .requiredOption('--repo <owner/name>', 'repository whose ledger gets the rotation', repoOption)
    .option('--to <public-key>', 'the next key: base64 Ed25519 public key (as `living-bridge keygen` prints it)')
    .option('--to-file <file>', 'read the next public key from this file instead')
    .option('--reason <text>', 'why the key is rotated (kept in the certificate)')
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; to?: string; toFile?: string; reason?: string; json: boolean }) => {
      if (!o.to === !o.toFile) throw new UsageError('key rotate: give the next public key with --to <public-key> or --to-file <file> (one of them)');
      let next = o.to ?? '';
      if (o.toFile) {
        try {
          next = readFileSync(o.toFile, 'utf8').replace(/#.*$/gm, '').trim();
        } catch (err) {
          throw new UsageError(`key rotate: cannot read ${o.toFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      const ctx = await contextFrom(rt, { repository: o.repo });
      let r;
      try {
        r = await rotateSigningKey(ctx, o.repo, next, { reason: o.reason, actor: rt.io.env.USER ?? 'cli' });
      } catch (err) {
        if (err instanceof RotationRefusedError) throw new UsageError(`key rotate: ${err.message}`);
        throw err;
      }
      print(
        rt,
        o.json,
        r,
        [
          `key rotation #${r.sequence} in ${r.repository}: ${r.previous_keyid} -> ${r.keyid} (certificate ${r.certificate_hash.slice(0, 16)}, commit ${r.commit.slice(0, 12)})`,
          `next: set TRUTH_SIGNING_KEY to the secret key of ${r.keyid} wherever Living Bridge signs for ${r.repository}; verifiers keep the old key pinned (it vouches for the new one)`,
        ].join('\n'),
      );
    });
};
