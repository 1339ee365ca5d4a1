import { KnError } from '../engine/errors';

/** Hex sha256 of bytes with WebCrypto (browsers and Node >= 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new KnError('backend', 'WebCrypto crypto.subtle is not available: RML-LAMA shards cannot be verified');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as unknown as ArrayBuffer));
  let out = '';
  for (const b of digest) out += b.toString(16).padStart(2, '0');
  return out;
}
