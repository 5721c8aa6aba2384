import type { z } from 'zod';
import { createHash } from 'node:crypto';
import { createSigner, generateSigningKey, signCertificate, verifyChain, type ChainVerification } from '../../src/core/certificate/index.js';
import type { Signer } from '../../src/core/certificate/index.js';
import { canonicalJson } from '../../src/core/canonical.js';
import type { Certificate, CertificatePredicate } from '../../src/core/schemas/certificate.js';

const predicate = (i: number, previous: string | null): z.input<typeof CertificatePredicate> => ({
  timestamp: `2026-11-23T10:0${i}:00.000Z`,
  action: i % 2 ? 'RERUN' : 'CREATE_SECRET',
  reason: `step ${i}`,
  targets: i % 2 ? [] : ['DEPLOY_TOKEN'],
  certified: true,
  report_hash: createHash('sha256').update(`report ${i}`).digest('hex'),
  repository: 'acme/api',
  run_id: 100 + i,
  run_attempt: 1,
  policy_version: 1,
  changes: [],
  previous_certificate_hash: previous,
  certificate_type: 'action',
});

async function buildChain(signer: Signer, n: number): Promise<Certificate[]> {
  const out: Certificate[] = [];
  for (let i = 0; i < n; i++) out.push(await signCertificate(predicate(i, out[i - 1]?.certificate_hash ?? null), signer));
  return out;
}

const broken = (r: ChainVerification): Extract<ChainVerification, { ok: false }> => {
  if (r.ok) throw new Error('expected the chain to be broken');
  return r;
};

describe('verifyChain', () => {
  let signer: Signer;
  let keys: Record<string, string>;
  let chain: Certificate[];
  beforeAll(async () => {
    const key = await generateSigningKey(new Uint8Array(32).fill(21));
    signer = await createSigner(key.secretKey);
    keys = { [key.keyid]: key.publicKey };
    chain = await buildChain(signer, 5);
  });

  it('accepts an intact chain and reports its head and length', () => {
    expect(verifyChain(chain, keys)).toMatchObject({ ok: true, length: 5, head: chain[4]!.certificate_hash });
    expect(verifyChain(chain, keys, { expectedHead: chain[4]!.certificate_hash, expectedLength: 5, repository: 'acme/api' })).toMatchObject({ ok: true });
  });

  it('accepts the empty chain', () => {
    expect(verifyChain([], keys)).toMatchObject({ ok: true, length: 0, head: null });
    expect(verifyChain([], keys, { expectedHead: null, expectedLength: 0 })).toMatchObject({ ok: true });
  });

  it('detects an edited predicate field (payload re-encoded, hash recomputed) and names the link', () => {
    const c = structuredClone(chain);
    const s = JSON.parse(Buffer.from(c[2]!.envelope.payload, 'base64').toString('utf8')) as { predicate: { reason: string } };
    s.predicate.reason = 'edited';
    const payload = Buffer.from(canonicalJson(s));
    c[2] = { certificate_hash: createHash('sha256').update(payload).digest('hex'), envelope: { ...c[2]!.envelope, payload: payload.toString('base64') } };
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(2);
    expect(r.certificate_hash).toBe(c[2].certificate_hash);
    expect(r.reason).toMatch(/^link 2 \(.{12}…\): the signature by key .* does not verify/);
  });

  it('detects an edited payload whose hash was left alone', () => {
    const c = structuredClone(chain);
    const s = JSON.parse(Buffer.from(c[1]!.envelope.payload, 'base64').toString('utf8')) as { predicate: { certified: boolean } };
    s.predicate.certified = false;
    c[1] = { ...c[1]!, envelope: { ...c[1]!.envelope, payload: Buffer.from(canonicalJson(s)).toString('base64') } };
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(1);
    expect(r.reason).toMatch(/does not match the payload/);
  });

  it('detects an edited certificate_hash', () => {
    const c = structuredClone(chain);
    c[3] = { ...c[3]!, certificate_hash: 'f'.repeat(64) };
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(3);
    expect(r.certificate_hash).toBe('f'.repeat(64));
  });

  it('detects an edited signature', () => {
    const c = structuredClone(chain);
    const sig = Buffer.from(c[4]!.envelope.signatures[0]!.sig, 'base64');
    sig[10] = (sig[10] ?? 0) ^ 1;
    c[4]!.envelope.signatures[0]!.sig = sig.toString('base64');
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(4);
    expect(r.reason).toMatch(/does not verify/);
  });

  it('detects a reorder of two links', () => {
    const c = [chain[0]!, chain[2]!, chain[1]!, chain[3]!, chain[4]!];
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(1);
    expect(r.certificate_hash).toBe(chain[2]!.certificate_hash);
    expect(r.reason).toMatch(/points at link 2 .*which comes after it: links are out of order/);
  });

  it('detects a reorder of the first two links', () => {
    const r = broken(verifyChain([chain[1]!, chain[0]!, ...chain.slice(2)], keys));
    expect(r.index).toBe(0);
    expect(r.reason).toMatch(/out of order/);
  });

  it('detects a deletion in the middle', () => {
    const c = [chain[0]!, chain[1]!, chain[3]!, chain[4]!];
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(2);
    expect(r.certificate_hash).toBe(chain[3]!.certificate_hash);
    expect(r.reason).toMatch(/not in the chain; link 1 is .*: a link was deleted before it/);
  });

  it('detects a deletion of the first link', () => {
    const r = broken(verifyChain(chain.slice(1), keys));
    expect(r.index).toBe(0);
    expect(r.reason).toMatch(/first link must start the chain .* the links before it are missing/);
  });

  it('detects a duplicated link', () => {
    const r = broken(verifyChain([chain[0]!, chain[1]!, chain[1]!, chain[2]!], keys));
    expect(r.index).toBe(2);
    expect(r.reason).toMatch(/points at link 0 .*reordered, duplicated or inserted/);
  });

  it('cannot see truncation at the end without a head, but catches it against the expected head', () => {
    const truncated = chain.slice(0, 3);
    expect(verifyChain(truncated, keys)).toMatchObject({ ok: true, length: 3 });
    const r = broken(verifyChain(truncated, keys, { expectedHead: chain[4]!.certificate_hash }));
    expect(r.index).toBe(3);
    expect(r.certificate_hash).toBe(chain[4]!.certificate_hash);
    expect(r.reason).toMatch(/ends at .* after 3 link\(s\), but the ledger state says it ends at .*truncated/);
  });

  it('catches truncation against the expected length', () => {
    const r = broken(verifyChain(chain.slice(0, 4), keys, { expectedLength: 5 }));
    expect(r.index).toBe(4);
    expect(r.reason).toMatch(/has 4 link\(s\) but the ledger state counts 5: links 4\.\.4 are missing/);
  });

  it('reports links beyond the expected head', () => {
    const r = broken(verifyChain(chain, keys, { expectedHead: chain[2]!.certificate_hash }));
    expect(r.index).toBe(3);
    expect(r.reason).toMatch(/continues past the expected head/);
    expect(broken(verifyChain(chain, keys, { expectedHead: null })).reason).toMatch(/should be empty/);
  });

  it('fails on a wrong key and on an unknown key id, at the first link', async () => {
    const other = await generateSigningKey(new Uint8Array(32).fill(22));
    const wrong = broken(verifyChain(chain, { [signer.keyid]: other.publicKey }));
    expect(wrong.index).toBe(0);
    expect(wrong.reason).toMatch(/does not verify/);
    const unknown = broken(verifyChain(chain, { [other.keyid]: other.publicKey }));
    expect(unknown.index).toBe(0);
    expect(unknown.reason).toMatch(new RegExp(`signed by unknown key ${signer.keyid}`));
  });

  it('fails at the first link signed by an unknown key in the middle (key rotation needs both keys)', async () => {
    const otherKey = await generateSigningKey(new Uint8Array(32).fill(23));
    const other = await createSigner(otherKey.secretKey);
    const c = chain.slice(0, 3);
    c.push(await signCertificate(predicate(3, c[2]!.certificate_hash), other));
    const r = broken(verifyChain(c, keys));
    expect(r.index).toBe(3);
    expect(r.reason).toMatch(/unknown key/);
    expect(verifyChain(c, { ...keys, [other.keyid]: other.publicKey })).toMatchObject({ ok: true, length: 4 });
  });

  it('rejects certificates about another repository when asked', () => {
    const r = broken(verifyChain(chain, keys, { repository: 'acme/web' }));
    expect(r.index).toBe(0);
    expect(r.reason).toMatch(/is about acme\/api, not acme\/web/);
  });

  it('rejects a link that restarts the chain in the middle', async () => {
    const restart = await signCertificate(predicate(9, null), signer);
    const r = broken(verifyChain([chain[0]!, restart], keys));
    expect(r.index).toBe(1);
    expect(r.reason).toMatch(/starts a new chain/);
  });
});
