import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSigner, generateSigningKey, signCertificate } from '../../src/core/certificate/index.js';

const SCRIPT = resolve('scripts/verify-chain.ts');

const run = (...args: string[]): { code: number | null; out: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('scripts/verify-chain.ts', () => {
  let dir: string;
  let certDir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lb-ledger-'));
    certDir = join(dir, '.bridge', 'certificates');
    mkdirSync(certDir, { recursive: true });
    mkdirSync(join(dir, '.bridge', 'keys'));
    const key = await generateSigningKey(new Uint8Array(32).fill(41));
    const signer = await createSigner(key.secretKey);
    writeFileSync(join(dir, '.bridge', 'keys', `${key.keyid}.pub`), `${key.publicKey}\n`);
    let previous: string | null = null;
    for (let i = 1; i <= 3; i++) {
      const cert = await signCertificate(
        {
          timestamp: '2026-11-23T10:00:00Z', action: 'RERUN', reason: `r${i}`, targets: [], certified: true,
          report_hash: 'c'.repeat(64), repository: 'acme/api', run_id: i, run_attempt: 1, policy_version: 1,
          changes: [], previous_certificate_hash: previous, certificate_type: 'action',
        },
        signer,
      );
      writeFileSync(join(certDir, `${String(i).padStart(6, '0')}-${cert.certificate_hash.slice(0, 12)}.json`), JSON.stringify(cert, null, 2));
      previous = cert.certificate_hash;
    }
    writeFileSync(join(dir, '.bridge', 'state.json'), JSON.stringify({ last_certificate_hash: previous }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on an intact ledger, checking the head from state.json', () => {
    const r = run(dir);
    expect(r.out).toMatch(/^OK: 3 certificate\(s\) verified .* matches the expected head \(from .*state\.json\)/);
    expect(r.code).toBe(0);
  });

  it('exits 1 naming the link when a certificate is deleted, and 2 on usage errors', () => {
    const files = readdirSync(certDir).sort();
    unlinkSync(join(certDir, files[1] as string));
    const r = run(certDir, '--keys', join(dir, '.bridge', 'keys'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/BROKEN: link 1 .*a link was deleted before it \[file 000003-/);
    expect(run().code).toBe(2);
    expect(run(join(dir, 'nope')).code).toBe(2);
  });
});
