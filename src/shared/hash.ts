/** Hashing helpers: SHA-256 via WebCrypto (Node 20 and browsers), and a fast 64-bit content hash. */
import { KnError } from './errors';

export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new KnError('backend', 'WebCrypto crypto.subtle is not available: content hashes cannot be computed');
  const buf = data instanceof Uint8Array ? data : new Uint8Array(data);
  const d = await subtle.digest('SHA-256', buf as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Two-lane FNV-1a over 32-bit words: cheap enough to run over every weight while loading. */
export class Hash64 {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;
  words(u32: Uint32Array) {
    let a = this.a,
      b = this.b;
    for (let i = 0; i < u32.length; i++) {
      const x = u32[i];
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ (x >>> 16) ^ (x << 16), 0x5bd1e995) ^ (b >>> 15);
    }
    this.a = a;
    this.b = b;
    return this;
  }
  bytes(u8: Uint8Array) {
    const n4 = u8.length >> 2;
    const aligned = u8.byteOffset % 4 === 0 ? u8 : u8.slice();
    this.words(new Uint32Array(aligned.buffer, aligned.byteOffset, n4));
    const rest = new Uint32Array(1);
    for (let i = n4 * 4; i < u8.length; i++) rest[0] = (rest[0] << 8) | u8[i];
    if (u8.length % 4) this.words(rest);
    return this;
  }
  text(s: string) {
    return this.bytes(new TextEncoder().encode(s));
  }
  hex() {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
