import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { generateSigningKey } from '../../core/certificate/index.js';
import { JSON_FLAG, print, UsageError, type CommandModule } from '../runtime.js';

/** `keygen`: a new Ed25519 signing key. `--out` never replaces an existing file (it may be the only copy of a key). */
export const keygenCommands: CommandModule = (rt) => {
  rt.program
    .command('keygen')
    .description('create an Ed25519 signing key for certificates and grants')
    .option('--out <file>', 'write the secret key to this new file (mode 600) instead of printing it; never overwrites')
    .option(...JSON_FLAG, false)
    .action(async (o: { out?: string; json: boolean }) => {
      const key = await generateSigningKey(new Uint8Array(randomBytes(32)));
      if (o.out) {
        try {
          // 'wx': fail if the file exists, atomically (no check-then-write race).
          writeFileSync(o.out, `${key.secretKey}\n`, { mode: 0o600, flag: 'wx' });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw new UsageError(`keygen: ${o.out} already exists; it may hold a key still in use, so it is left as it is (choose another --out)`);
          throw new UsageError(`keygen: cannot write ${o.out} (${code ?? 'error'})`);
        }
        print(rt, o.json, { file: o.out, keyid: key.keyid, public_key: key.publicKey }, `secret key written to ${o.out}\nkeyid ${key.keyid}\npublic key ${key.publicKey}`);
      } else {
        print(rt, o.json, { secret_key: key.secretKey, keyid: key.keyid, public_key: key.publicKey }, `TRUTH_SIGNING_KEY=${key.secretKey}\n# keyid ${key.keyid}\n# public key ${key.publicKey}`);
      }
    });
};
