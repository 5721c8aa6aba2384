/**
 * `living-bridge key rotate` against an in-process sandbox: a heal signed by key A, A rotated to B,
 * B rotated to C; `verify` with only A pinned accepts the whole chain, and the audit export lists the
 * rotations. Refusals answer exit 2 with one clear line.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
interface Key { secret: string; public: string; keyid: string }
let a: Key;
let b: Key;
let c: Key;
let d: Key;

interface Ran { code: number; out: string; err: string }
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  let out = '';
  let err = '';
  const code = await runCli(['--api-url', sandbox.apiUrl, ...argv], {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    env: {
      LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN,
      TRUTH_SIGNING_KEY: a.secret,
      DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN,
      LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN_SOURCE',
      LIVING_BRIDGE_CLIENT_PACING: 'off',
      LOG_LEVEL: 'silent',
      USER: 'keeper',
      ...env,
    },
  });
  return { code, out, err };
}

async function keygen(): Promise<Key> {
  let out = '';
  expect(await runCli(['keygen', '--json'], { out: (s) => { out += s; }, err: () => undefined, env: {} })).toBe(0);
  const k = JSON.parse(out) as { secret_key: string; public_key: string; keyid: string };
  return { secret: k.secret_key, public: k.public_key, keyid: k.keyid };
}

const FULL = 'acme/rotating';
beforeAll(async () => {
  sandbox = await startSandbox();
  [a, b, c, d] = [await keygen(), await keygen(), await keygen(), await keygen()];
  const seeded = seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'rotating' });
  sandbox.state.commitFiles('acme', 'rotating', 'main', { '.github/autonomy.yml': 'default_level: full\ncooldowns: { default_minutes: 0 }\nsecrets:\n  DEPLOY_TOKEN: { source: from_env, env: DEPLOY_TOKEN_SOURCE }\n' }, 'configure');
  const healed = await cli(['heal', '--repo', FULL, '--run-id', String(seeded.runId)]);
  expect(healed).toMatchObject({ code: 0, err: '' });
});
afterAll(async () => {
  await sandbox.close();
});

describe('key rotate', () => {
  test('A -> B -> C: each rotation is a certificate signed by the key before it; verify with only A pinned accepts the chain', async () => {
    const first = await cli(['key', 'rotate', '--repo', FULL, '--to', b.public, '--reason', 'yearly rotation', '--json']);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(first.out)).toMatchObject({ repository: FULL, previous_keyid: a.keyid, keyid: b.keyid, sequence: 2 });
    // The chain has moved to B: B (no longer A) signs the next rotation, before B ever wrote anything else.
    const second = await cli(['key', 'rotate', '--repo', FULL, '--to', c.public], { TRUTH_SIGNING_KEY: b.secret });
    expect(second).toMatchObject({ code: 0, err: '' });
    expect(second.out).toMatch(new RegExp(`^key rotation #3 in acme/rotating: ${b.keyid} -> ${c.keyid} \\(certificate [0-9a-f]{16}, commit [0-9a-f]{12}\\)\n`));

    const verified = await cli(['verify', '--repo', FULL, '--json'], { TRUTH_SIGNING_KEY: undefined, LIVING_BRIDGE_TRUSTED_KEYS: a.public });
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.out) as { ok: boolean; length: number; trusted_keys: string[]; checkpoint: { keyid: string } };
    expect(report).toMatchObject({ ok: true, length: 3, checkpoint: { keyid: b.keyid } });
    expect(report.trusted_keys.sort()).toEqual([a.keyid, b.keyid, c.keyid].sort());

    const exported = await cli(['audit', 'export', '--repo', FULL, '--since', '2000-01-01'], { TRUTH_SIGNING_KEY: undefined, LIVING_BRIDGE_TRUSTED_KEYS: a.public });
    expect(exported.code).toBe(0);
    const rows = (JSON.parse(exported.out) as { rows: { change: string; target: string; sequence: number }[] }).rows.filter((r) => r.change === 'key rotation');
    expect(rows).toEqual([expect.objectContaining({ sequence: 2, target: `key:${b.keyid}` }), expect.objectContaining({ sequence: 3, target: `key:${c.keyid}` })]);
  });

  test('status verifies the rotated chain with the keys the shell pins, not only the current signer', async () => {
    // Signed by C now; A is pinned through LIVING_BRIDGE_TRUSTED_KEYS (withheld from from_env sources).
    const pinned = await cli(['status', '--repo', FULL, '--json'], { TRUTH_SIGNING_KEY: c.secret, LIVING_BRIDGE_TRUSTED_KEYS: a.public });
    expect(pinned.code).toBe(0);
    expect(JSON.parse(pinned.out)).toMatchObject({ chain: { verified: true, length: 3 } });
    // Without A pinned, the first link (signed by A) has no trusted key: the chain does not verify.
    const unpinned = await cli(['status', '--repo', FULL, '--json'], { TRUTH_SIGNING_KEY: c.secret });
    expect(JSON.parse(unpinned.out)).toMatchObject({ chain: { verified: false } });
  });

  test('refused with exit 2 and one line: a key that does not sign the chain, the same key, a secret key, no key', async () => {
    const unrelated = await cli(['key', 'rotate', '--repo', FULL, '--to', a.public], { TRUTH_SIGNING_KEY: d.secret });
    expect(unrelated.code).toBe(2);
    expect(unrelated.err).toMatch(/key rotate: .*a rotation must be signed by the key that signs the chain now/);
    const same = await cli(['key', 'rotate', '--repo', FULL, '--to', c.public], { TRUTH_SIGNING_KEY: c.secret });
    expect(same.code).toBe(2);
    expect(same.err).toMatch(/is the key signing now/);
    const secret = await cli(['key', 'rotate', '--repo', FULL, '--to', d.secret], { TRUTH_SIGNING_KEY: c.secret });
    expect(secret.code).toBe(2);
    expect(secret.err).toMatch(/not a base64 Ed25519 public key/);
    expect(secret.err).not.toContain(d.secret);
    const none = await cli(['key', 'rotate', '--repo', FULL]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--to <public-key> or --to-file <file>/);
  });
});
