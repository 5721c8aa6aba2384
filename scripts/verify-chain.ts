/**
 * Offline verifier for a Living Bridge certificate chain.
 *
 *   node --import tsx scripts/verify-chain.ts <ledger-checkout | certificates-dir> [--keys <dir>] [--head <hash>] [--length <n>]
 *
 * Reads `.bridge/certificates/*.json` (sorted by file name, `NNNNNN-<hash12>.json`) and the public
 * keys `.bridge/keys/<keyid>.pub` (base64 Ed25519), verifies every certificate (hash, DSSE
 * signature, schema) and the links between them. The expected head is taken from `--head`, or else
 * from `last_certificate_hash` in `.bridge/state.json` when that file exists: only against a known
 * head (or `--length`) can a chain cut off at the end be told from a shorter one.
 *
 * Exit codes: 0 the chain holds, 1 the chain is broken (the message says which link and why),
 * 2 usage or read errors.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { keyIdFor, verifyChain } from '../src/core/certificate/index.js';
import type { Certificate } from '../src/core/schemas/certificate.js';

const USAGE = 'usage: node --import tsx scripts/verify-chain.ts <ledger-checkout|certificates-dir> [--keys <dir>] [--head <hash>] [--length <n>]';

class UsageError extends Error {}

interface Args {
  dir: string;
  keys?: string;
  head?: string;
  length?: number;
}

function parseArgs(argv: string[]): Args {
  const rest = [...argv];
  const args: Partial<Args> = {};
  while (rest.length) {
    const a = rest.shift() as string;
    if (a === '--help' || a === '-h') throw new UsageError(USAGE);
    if (a === '--keys' || a === '--head' || a === '--length') {
      const v = rest.shift();
      if (v === undefined) throw new UsageError(`${a} needs a value\n${USAGE}`);
      if (a === '--keys') args.keys = v;
      else if (a === '--head') args.head = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`--length must be a whole number, got ${v}`);
        args.length = n;
      }
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

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

function locate(args: Args): { certDir: string; keysDir: string; stateFile: string | null } {
  const root = resolve(args.dir);
  if (!isDir(root)) throw new UsageError(`not a directory: ${args.dir}`);
  const ledger = join(root, '.bridge');
  if (isDir(join(ledger, 'certificates'))) {
    return {
      certDir: join(ledger, 'certificates'),
      keysDir: resolve(args.keys ?? join(ledger, 'keys')),
      stateFile: existsSync(join(ledger, 'state.json')) ? join(ledger, 'state.json') : null,
    };
  }
  // A certificates directory itself (e.g. `.bridge/certificates`): keys next to it, or in it.
  const sibling = join(root, '..', 'keys');
  const state = join(root, '..', 'state.json');
  return {
    certDir: root,
    keysDir: resolve(args.keys ?? (isDir(sibling) ? sibling : root)),
    stateFile: existsSync(state) ? state : null,
  };
}

function readKeys(keysDir: string, warnings: string[]): Record<string, string> {
  if (!isDir(keysDir)) throw new UsageError(`no keys directory at ${keysDir} (pass --keys <dir> with <keyid>.pub files)`);
  const keys: Record<string, string> = {};
  for (const file of readdirSync(keysDir).filter((f) => f.endsWith('.pub')).sort()) {
    const text = readFileSync(join(keysDir, file), 'utf8').trim();
    let keyid: string;
    try {
      keyid = keyIdFor(text);
    } catch {
      warnings.push(`ignoring ${file}: not a base64 Ed25519 public key`);
      continue;
    }
    // The key id is always derived from the key itself, never trusted from the file name.
    if (basename(file, '.pub') !== keyid) warnings.push(`${file} holds the key with id ${keyid}, not ${basename(file, '.pub')}`);
    keys[keyid] = text;
  }
  return keys;
}

function main(argv: string[]): number {
  const args = parseArgs(argv);
  const { certDir, keysDir, stateFile } = locate(args);
  const warnings: string[] = [];
  const keys = readKeys(keysDir, warnings);
  if (Object.keys(keys).length === 0) throw new UsageError(`no public keys (*.pub) in ${keysDir}`);

  const files = readdirSync(certDir).filter((f) => f.endsWith('.json')).sort();
  const certs: Certificate[] = [];
  for (const file of files) {
    try {
      certs.push(JSON.parse(readFileSync(join(certDir, file), 'utf8')) as Certificate);
    } catch (error) {
      console.error(`BROKEN: link ${certs.length} (${file}) is not JSON: ${(error as Error).message}`);
      return 1;
    }
  }

  let expectedHead: string | null | undefined = args.head;
  let headSource = args.head !== undefined ? '--head' : '';
  if (expectedHead === undefined && stateFile) {
    try {
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { last_certificate_hash?: unknown };
      if (typeof state.last_certificate_hash === 'string' || state.last_certificate_hash === null) {
        expectedHead = state.last_certificate_hash;
        headSource = stateFile;
      }
    } catch {
      warnings.push(`could not read ${stateFile}; truncation at the end is not checked`);
    }
  }

  const result = verifyChain(certs, keys, {
    ...(expectedHead !== undefined ? { expectedHead } : {}),
    ...(args.length !== undefined ? { expectedLength: args.length } : {}),
  });

  files.forEach((file, i) => {
    const m = /^(\d+)-([0-9a-f]+)\.json$/.exec(file);
    const hash = (certs[i] as { certificate_hash?: unknown } | undefined)?.certificate_hash;
    if (m && typeof hash === 'string' && !hash.startsWith(m[2] as string)) {
      warnings.push(`${file}: file name does not match its certificate_hash ${hash.slice(0, 12)}`);
    }
  });
  for (const w of warnings) console.error(`warning: ${w}`);

  if (!result.ok) {
    const file = files[result.index];
    console.error(`BROKEN: ${result.reason}${file ? ` [file ${file}]` : ''}`);
    return 1;
  }
  const headNote =
    expectedHead !== undefined || args.length !== undefined
      ? `, matches the expected ${[expectedHead !== undefined ? `head (from ${headSource})` : '', args.length !== undefined ? 'length' : ''].filter(Boolean).join(' and ')}`
      : ' (no expected head given: truncation at the end is not checked; pass --head)';
  console.log(
    `OK: ${result.length} certificate(s) verified in ${certDir}, head ${result.head ?? '(empty chain)'}${headNote}; keys: ${Object.keys(keys).join(', ')}`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof UsageError ? error.message : `error: ${(error as Error).message}`);
  process.exitCode = 2;
}
