import { createSigner, generateSigningKey, rotationStatement, signCertificate, verifyChain } from '../../src/core/certificate/index.js';
import { nextKeyId, RotationRefusedError } from '../../src/pipeline/rotate-key.js';

describe('key rotation statement', () => {
  test('names the next key, links into the chain, and makes the next key trusted for the links after it', async () => {
    const old = await createSigner((await generateSigningKey(new Uint8Array(32).fill(1))).secretKey);
    const next = await createSigner((await generateSigningKey(new Uint8Array(32).fill(2))).secretKey);
    const link = { at: new Date('2026-07-01T00:00:00Z'), repository: 'acme/api', policyVersion: 2, chain: { lastCertificateHash: null, certificateCount: 0 } };
    const predicate = rotationStatement(link, { reason: 'yearly', previousKeyid: old.keyid, next: { keyid: next.keyid, public_key: next.publicKey }, decision: { rotated_by: 'keeper' } });
    expect(predicate).toMatchObject({
      certificate_type: 'key_rotation', action: 'NOOP', sequence: 1, previous_certificate_hash: null, policy_version: 2, run_id: null,
      targets: [`key:${next.keyid}`], changes: [], certified: true, rotates_to: { keyid: next.keyid, public_key: next.publicKey },
    });
    const rotation = await signCertificate(predicate, old);
    const after = await signCertificate(rotationStatement({ ...link, chain: { lastCertificateHash: rotation.certificate_hash, certificateCount: 1 } }, { reason: 'again', previousKeyid: next.keyid, next: { keyid: old.keyid, public_key: old.publicKey }, decision: {} }), next);
    expect(verifyChain([rotation, after], { [old.keyid]: old.publicKey })).toMatchObject({ ok: true, length: 2 });
    // Without the rotation link the next key's certificate is not trusted.
    expect(verifyChain([after], { [old.keyid]: old.publicKey })).toMatchObject({ ok: false, code: 'KEY_UNTRUSTED', index: 0 });
  });

  test('the next key must be a public key', () => {
    expect(() => nextKeyId('not a key')).toThrow(RotationRefusedError);
    expect(nextKeyId(Buffer.alloc(32, 9).toString('base64'))).toMatch(/^[0-9a-f]{16}$/);
  });
});
