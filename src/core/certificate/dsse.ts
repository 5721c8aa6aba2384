import { utf8Bytes } from '../canonical.js';

/**
 * DSSE v1 Pre-Authentication Encoding (secure-systems-lab/dsse, protocol.md):
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * SP is one ASCII space, LEN the ASCII decimal byte length (no leading zeros), `type` the UTF-8
 * payload type and `body` the exact payload bytes. The signature covers these bytes, never the
 * base64 text in the envelope.
 */
export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = utf8Bytes(payloadType);
  const head = utf8Bytes(`DSSEv1 ${type.length} ${payloadType} ${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
