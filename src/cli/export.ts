/** Writes a loaded model as our pre-quantized bundle (kn-int8 v1; see docs/MODEL_FORMAT.md). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../shared/hash';
import { align4, KN_FORMAT, KN_FORMAT_VERSION, type KnManifest, type KnTensorEntry } from '../engine/source';
import type { LoadedModel } from '../engine/families';

export interface ExportTexts {
  config: Record<string, unknown>;
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
}

export async function exportKnBundle(model: LoadedModel, _from: string, out: string, shardBytes = 4 * 1024 * 1024, texts?: ExportTexts) {
  await mkdir(out, { recursive: true });
  const tensors: KnTensorEntry[] = [];
  const shards: Uint8Array[][] = [[]];
  let cur = 0;
  let shardLen = 0;
  for (const spec of model.store.names().sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const h = model.store.hostMatrix(spec.name);
    let bytes: Uint8Array;
    let entry: Omit<KnTensorEntry, 'shard' | 'offset' | 'bytes'>;
    if (h.q) {
      const n = h.q.q.length;
      bytes = new Uint8Array(align4(n) + h.q.scales.byteLength);
      bytes.set(new Uint8Array(h.q.q.buffer, h.q.q.byteOffset, n), 0);
      bytes.set(new Uint8Array(h.q.scales.buffer, h.q.scales.byteOffset, h.q.scales.byteLength), align4(n));
      entry = { name: spec.name, shape: spec.shape, kind: 'int8', axis: h.q.axis };
    } else {
      const f = h.f32!;
      bytes = new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
      entry = { name: spec.name, shape: spec.shape, kind: 'f32' };
    }
    if (shardLen > 0 && shardLen + bytes.length > shardBytes) {
      shards.push([]);
      cur++;
      shardLen = 0;
    }
    tensors.push({ ...entry, shard: cur, offset: shardLen, bytes: bytes.length });
    shards[cur].push(bytes);
    shardLen += align4(bytes.length);
    if (bytes.length % 4) shards[cur].push(new Uint8Array(align4(bytes.length) - bytes.length));
  }
  const shardMeta: KnManifest['shards'] = [];
  for (let i = 0; i < shards.length; i++) {
    const len = shards[i].reduce((a, b) => a + b.length, 0);
    const buf = new Uint8Array(len);
    let o = 0;
    for (const b of shards[i]) {
      buf.set(b, o);
      o += b.length;
    }
    const file = `weights-${String(i + 1).padStart(5, '0')}.bin`;
    await writeFile(join(out, file), buf);
    shardMeta.push({ file, bytes: len, sha256: await sha256Hex(buf) });
  }
  const manifest: KnManifest = {
    format: KN_FORMAT,
    formatVersion: KN_FORMAT_VERSION,
    architecture: model.info.architecture,
    numParams: model.info.numParams,
    contentHash: model.info.contentHash,
    shards: shardMeta,
    tensors,
  };
  await writeFile(join(out, 'kn-manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  const t = texts ?? model.sourceTexts;
  if (t) {
    await writeFile(join(out, 'config.json'), JSON.stringify(t.config, null, 2) + '\n');
    await writeFile(join(out, 'tokenizer.json'), JSON.stringify(t.tokenizerJson) + '\n');
    await writeFile(join(out, 'tokenizer_config.json'), JSON.stringify(t.tokenizerConfig ?? {}, null, 2) + '\n');
  }
  const totalBytes = shardMeta.reduce((a, s) => a + s.bytes, 0);
  return { out, shards: shardMeta.length, bytes: totalBytes, bytesPerParam: totalBytes / model.info.numParams, numParams: model.info.numParams };
}
