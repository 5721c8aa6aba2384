import type { z } from 'zod';
import { createHash } from 'node:crypto';
import {
  createSigner,
  decodeCertificate,
  generateSigningKey,
  keyIdFor,
  pae,
  reportHash,
  signCertificate,
  verifyCertificate,
  verifyEd25519,
} from '../../src/core/certificate/index.js';
import { canonicalJson } from '../../src/core/canonical.js';
import type { Certificate, CertificatePredicate } from '../../src/core/schemas/certificate.js';
import { SchemaError } from '../../src/core/schemas/errors.js';

const predicate = (over: Partial<z.input<typeof CertificatePredicate>> = {}): z.input<typeof CertificatePredicate> => ({
  timestamp: '2026-11-23T10:00:00.000Z',
  action: 'CREATE_SECRET',
  reason: 'DEPLOY_TOKEN missing in run 42',
  targets: ['DEPLOY_TOKEN'],
  certified: true,
  report_hash: 'a'.repeat(64),
  repository: 'acme/api',
  run_id: 42,
  run_attempt: 1,
  policy_version: 1,
  changes: [{ target: 'DEPLOY_TOKEN', kind: 'secret', op: 'create', before_fingerprint: null, after_fingerprint: 'fp:1234' }],
  previous_certificate_hash: null,
  certificate_type: 'action',
  ...over,
});

// RFC 8032 §7.1 TEST 1.
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC8032_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
const RFC8032_SIG_EMPTY =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('signing keys', () => {
  it('derives the RFC 8032 key pair from its seed and signs the known vector', async () => {
    const key = await generateSigningKey(new Uint8Array(RFC8032_SEED));
    expect(Buffer.from(key.publicKey, 'base64').equals(RFC8032_PUBLIC)).toBe(true);
    expect(Buffer.from(key.secretKey, 'base64')).toHaveLength(64);
    const signer = await createSigner(key.secretKey);
    const sig = await signer.sign(new Uint8Array());
    expect(Buffer.from(sig).toString('hex')).toBe(RFC8032_SIG_EMPTY);
    expect(verifyEd25519(new Uint8Array(), Buffer.from(sig).toString('base64'), key.publicKey)).toBe(true);
  });

  it('key id is the first 16 hex of sha256(public key bytes)', async () => {
    const key = await generateSigningKey(new Uint8Array(32).fill(7));
    const expected = createHash('sha256').update(Buffer.from(key.publicKey, 'base64')).digest('hex').slice(0, 16);
    expect(key.keyid).toBe(expected);
    expect(keyIdFor(key.publicKey)).toBe(expected);
    expect(key.keyid).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is deterministic in the seed', async () => {
    const a = await generateSigningKey(new Uint8Array(32).fill(1));
    const b = await generateSigningKey(new Uint8Array(32).fill(1));
    const c = await generateSigningKey(new Uint8Array(32).fill(2));
    expect(a).toEqual(b);
    expect(c.keyid).not.toBe(a.keyid);
  });

  it('rejects seeds that are not 32 bytes', async () => {
    await expect(generateSigningKey(new Uint8Array(31))).rejects.toThrow(/seed must be 32 bytes, got 31 bytes/);
  });

  it('createSigner accepts a 32-byte seed or the 64-byte secret key, with the same key id', async () => {
    const key = await generateSigningKey(new Uint8Array(32).fill(9));
    const fromSk = await createSigner(key.secretKey);
    const fromSeed = await createSigner(Buffer.from(key.secretKey, 'base64').subarray(0, 32).toString('base64'));
    expect(fromSk.keyid).toBe(key.keyid);
    expect(fromSeed.keyid).toBe(key.keyid);
    expect(fromSeed.publicKey).toBe(key.publicKey);
  });

  it('createSigner errors clearly and never echoes the key', async () => {
    const bad48 = Buffer.alloc(48, 0x5a).toString('base64');
    await expect(createSigner(bad48)).rejects.toThrow(/48 bytes: expected a 32-byte Ed25519 seed or a 64-byte/);
    await expect(createSigner('not base64 !!secret!!')).rejects.toThrow(/not valid base64 \(value not shown\)/);
    await expect(createSigner('')).rejects.toThrow(/empty/);
    const key = await generateSigningKey(new Uint8Array(32).fill(3));
    const sk = Buffer.from(key.secretKey, 'base64');
    sk[40] = (sk[40] ?? 0) ^ 1; // corrupt the public half
    const corrupted = sk.toString('base64');
    const error = await createSigner(corrupted).then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/inconsistent/);
    for (const secret of [bad48, 'secret!!', corrupted, corrupted.slice(0, 20)]) expect(error.message).not.toContain(secret);
  });
});

describe('DSSE pre-authentication encoding', () => {
  it('matches the DSSE spec test vector', () => {
    expect(text(pae('http://example.com/HelloWorld', new TextEncoder().encode('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('encodes the in-toto payload type and byte (not character) lengths exactly', () => {
    // "application/vnd.in-toto+json" is 28 bytes; "{"a":"é"}" is 9 characters, 10 UTF-8 bytes.
    const body = new TextEncoder().encode('{"a":"é"}');
    const bytes = pae('application/vnd.in-toto+json', body);
    const expected = Buffer.concat([
      Buffer.from([0x44, 0x53, 0x53, 0x45, 0x76, 0x31, 0x20]), // "DSSEv1 "
      Buffer.from('28 application/vnd.in-toto+json 10 ', 'ascii'),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]),
    ]);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
    expect(text(pae('t', new Uint8Array()))).toBe('DSSEv1 1 t 0 ');
  });
});

describe('certificates', () => {
  let signer: Awaited<ReturnType<typeof createSigner>>;
  let keys: Record<string, string>;
  beforeAll(async () => {
    const key = await generateSigningKey(new Uint8Array(32).fill(11));
    signer = await createSigner(key.secretKey);
    keys = { [key.keyid]: key.publicKey };
  });

  it('signs an in-toto statement in a DSSE envelope and verifies it', async () => {
    const cert = await signCertificate(predicate(), signer);
    const payload = Buffer.from(cert.envelope.payload, 'base64');
    expect(cert.envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(cert.certificate_hash).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(cert.envelope.signatures).toEqual([{ keyid: signer.keyid, sig: expect.any(String) }]);

    const statement = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    expect(payload.toString('utf8')).toBe(canonicalJson(statement));
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://living-bridge.dev/certificate/v1',
      subject: [{ name: 'acme/api#action/42', digest: { sha256: 'a'.repeat(64) } }],
      predicate: { judges_certificate_hash: null, outcome: null, decision: {} },
    });

    // The signature is Ed25519 over the PAE of exactly the payload bytes.
    expect(verifyEd25519(pae('application/vnd.in-toto+json', payload), cert.envelope.signatures[0]!.sig, signer.publicKey)).toBe(true);

    const verified = verifyCertificate(cert, keys);
    expect(verified).toEqual({ ok: true, statement: decodeCertificate(cert), keyid: signer.keyid });
  });

  it('names sync certificates by "sync" when there is no run', async () => {
    const cert = await signCertificate(predicate({ run_id: null, run_attempt: null, certificate_type: 'sync', action: 'SYNC_AND_CERTIFY' }), signer);
    expect(decodeCertificate(cert).subject[0]!.name).toBe('acme/api#sync/sync');
  });

  it('is deterministic: the same predicate gives the same certificate', async () => {
    expect(await signCertificate(predicate(), signer)).toEqual(await signCertificate(predicate(), signer));
  });

  it('rejects an invalid predicate before signing', async () => {
    await expect(signCertificate(predicate({ policy_version: 0 }), signer)).rejects.toThrow(SchemaError);
    await expect(signCertificate({ ...predicate(), action: 'DANCE' } as never, signer)).rejects.toThrow(/certificate predicate: action: expected one of/);
  });

  it('reportHash is sha256 of canonical JSON', () => {
    expect(reportHash({ b: 1, a: 2 })).toBe(createHash('sha256').update('{"a":2,"b":1}').digest('hex'));
  });

  const reEncode = (cert: Certificate, edit: (s: { predicate: Record<string, unknown> }) => void, rehash: boolean): Certificate => {
    const s = JSON.parse(Buffer.from(cert.envelope.payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };
    edit(s);
    const payload = Buffer.from(canonicalJson(s), 'utf8');
    return {
      certificate_hash: rehash ? createHash('sha256').update(payload).digest('hex') : cert.certificate_hash,
      envelope: { ...cert.envelope, payload: payload.toString('base64') },
    };
  };

  it('fails on an edited payload with the hash recomputed (bad signature)', async () => {
    const cert = reEncode(await signCertificate(predicate(), signer), (s) => (s.predicate['certified'] = false), true);
    expect(verifyCertificate(cert, keys)).toEqual({ ok: false, code: 'BAD_SIGNATURE', reason: expect.stringMatching(/signature by key .* does not verify/) });
  });

  it('fails on an edited payload with the old hash (hash mismatch)', async () => {
    const cert = reEncode(await signCertificate(predicate(), signer), (s) => (s.predicate['reason'] = 'nothing to see'), false);
    expect(verifyCertificate(cert, keys)).toEqual({ ok: false, code: 'HASH_MISMATCH', reason: expect.stringMatching(/does not match the payload/) });
  });

  it('fails on an edited signature, an unknown key id and a wrong key', async () => {
    const cert = await signCertificate(predicate(), signer);
    const sig = Buffer.from(cert.envelope.signatures[0]!.sig, 'base64');
    sig[0] = (sig[0] ?? 0) ^ 0xff;
    const badSig = { ...cert, envelope: { ...cert.envelope, signatures: [{ keyid: signer.keyid, sig: sig.toString('base64') }] } };
    expect(verifyCertificate(badSig, keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });

    expect(verifyCertificate(cert, { deadbeefdeadbeef: signer.publicKey })).toEqual({
      ok: false,
      code: 'KEY_UNTRUSTED',
      reason: `signed by unknown key ${signer.keyid}; trusted keys: deadbeefdeadbeef`,
    });

    const other = await generateSigningKey(new Uint8Array(32).fill(12));
    expect(verifyCertificate(cert, { [signer.keyid]: other.publicKey })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
  });

  it('accepts URL-safe base64 signatures (DSSE verifiers must)', async () => {
    const cert = await signCertificate(predicate(), signer);
    const urlSafe = cert.envelope.signatures[0]!.sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const c2 = { ...cert, envelope: { ...cert.envelope, signatures: [{ keyid: signer.keyid, sig: urlSafe }] } };
    expect(verifyCertificate(c2, keys).ok).toBe(true);
  });

  it('fails on schema problems with a reason, and decodeCertificate throws', () => {
    expect(verifyCertificate({ certificate_hash: 'x' }, keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/^not a certificate/) });
    const payload = Buffer.from('{"_type":"nope"}').toString('base64');
    const cert = {
      certificate_hash: createHash('sha256').update('{"_type":"nope"}').digest('hex'),
      envelope: { payloadType: 'application/vnd.in-toto+json', payload, signatures: [{ keyid: 'k', sig: 'AA==' }] },
    };
    expect(verifyCertificate(cert, keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a Living Bridge statement/) });
    expect(() => decodeCertificate(cert)).toThrow(/cannot decode certificate/);
  });
});
