import { canonicalJson, canonicalHash, sha256Hex, CanonicalJsonError } from '../../src/core/canonical.js';

describe('canonicalJson (RFC 8785 style)', () => {
  it('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('sorts keys by UTF-16 code units, not by locale', () => {
    // RFC 8785 §3.2.3 example order: "\r" < "1" < "\u0080" < "\u00f6" < "\u20ac" < "\ud83d\ude00" < "\ufb33"
    const obj = { '\ufb33': 7, '\u20ac': 4, '\r': 1, '\ud83d\ude00': 6, '1': 2, '\u00f6': 5, '\u0080': 3, B: 0, a: 0 };
    // (Object.keys would list the integer-like key "1" first, so read the order from the text.)
    expect(canonicalJson(obj)).toBe('{"\\r":1,"1":2,"B":0,"a":0,"\u0080":3,"\u00f6":5,"\u20ac":4,"\ud83d\ude00":6,"\ufb33":7}');
  });

  it('keeps unicode as UTF-8 text and escapes only what JSON requires', () => {
    expect(canonicalJson({ s: 'é€😀\n"\\\u0001' })).toBe('{"s":"é€😀\\n\\"\\\\\\u0001"}');
    expect(sha256Hex('é')).toBe(sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });

  it('writes numbers in the shortest ECMAScript form', () => {
    expect(canonicalJson([0, -0, 1, -1, 1.5, 1e21, 1e-7, 100, 0.1 + 0.2, 333333333.3333333, 2 ** 53])).toBe(
      '[0,0,1,-1,1.5,1e+21,1e-7,100,0.30000000000000004,333333333.3333333,9007199254740992]',
    );
  });

  it('rejects values without a JSON form', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: Infinity })).toThrow(/\$\.a: Infinity has no JSON form/);
    expect(() => canonicalJson([1, undefined])).toThrow(/\$\[1\]: undefined/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson({ a: new Map() })).toThrow(/Map is not a plain JSON object/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });

  it('drops undefined object members and uses toJSON', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 0, 2)) })).toBe('{"at":"2026-01-02T00:00:00.000Z"}');
  });

  it('hashes equal values equally regardless of key order', () => {
    expect(canonicalHash({ a: 1, b: [1, 2] })).toBe(canonicalHash({ b: [1, 2], a: 1 }));
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
