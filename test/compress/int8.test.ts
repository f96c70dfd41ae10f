// Coding the weights of a model that keeps TFLite's int8 quantization: lossless at every coding, and
// 'auto' counts each decoder's code once per model, with the decoder sizes (DECODER_CODE_BYTES) the
// linker map of a Cortex-M4 build shows.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DECODER_CODE_BYTES, recodeInt8 } from '../../src/compress/int8.js';
import { importModelFile } from '../../src/import/index.js';
import { buildModelFirmware } from '../../src/measure/index.js';
import { allItems, parseMapFile } from '../../src/size/parseMap.js';
import { codedBytes } from '../../src/qmodel/coding/index.js';
import { quantizedOps } from '../../src/ops/registry.js';
import { CODINGS, type Coding, type CompressedModel } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/index.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { tempDir } from '../helpers/temp.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import', 'tflite');

async function kept(name: string): Promise<CompressedModel> {
  return (await importModelFile(join(FIX, `${name}.tflite`))).keptQuantization!({ coding: 'packed' });
}

/** Weights + the decoders in use: what 'auto' minimizes. */
function total(m: CompressedModel): number {
  const used = new Set<Coding>();
  let bytes = 0;
  for (const l of m.layers) {
    const w = quantizedOps(l.kind, 'tflite-int8').coded?.(l)?.weights;
    if (!w) continue;
    used.add(w.coding);
    bytes += codedBytes(w);
  }
  return bytes + [...used].reduce((s, c) => s + DECODER_CODE_BYTES[c], 0);
}

describe('recodeInt8', () => {
  it('changes no output at any coding, and auto is never larger than one coding everywhere', async () => {
    for (const name of [
      'conv2d_same.int8',
      'dense_rounding.int8',
      'residual_add.int8',
      'reshape_dense.int8',
    ]) {
      const m = await kept(name);
      const x = xorshiftInt8(m.inputShape[0] * m.inputShape[1], 5);
      const want = runReference(m, x, { keepLayerOutputs: true }).layerOutputs!;
      const auto = recodeInt8(m, 'auto').model;
      for (const c of [...CODINGS, 'auto' as const]) {
        const r = recodeInt8(m, c);
        const got = runReference(r.model, x, { keepLayerOutputs: true }).layerOutputs!;
        got.forEach((o, i) => expect(Array.from(o), `${name} ${c} layer ${i}`).toEqual(Array.from(want[i])));
        expect(total(auto), `${name}: auto against ${c}`).toBeLessThanOrEqual(total(r.model));
      }
    }
  });
});

describe('DECODER_CODE_BYTES', () => {
  it("are the decoders' sections in the linker map of a Cortex-M4 build", async () => {
    const m = await kept('conv2d_same.int8');
    const dir = tempDir('tf-int8-decoders-');
    const sectionBytes = async (coding: Coding): Promise<Record<string, number>> => {
      const fw = await buildModelFirmware({ model: recodeInt8(m, coding).model, outDir: join(dir, coding) });
      const sizes: Record<string, number> = {};
      for (const it of allItems(await parseMapFile(fw.map)))
        if (it.kind === 'input' && /^\.text\.tf_kernels\.tf_(huffman|rle|packed|bits)$/.test(it.name))
          sizes[it.name.replace('.text.tf_kernels.', '')] = (sizes[it.name] ?? 0) + it.size;
      return sizes;
    };
    const huff = await sectionBytes('huffman');
    expect(DECODER_CODE_BYTES.huffman).toBe(huff.tf_huffman);
    const rle = await sectionBytes('rle-huffman');
    expect(DECODER_CODE_BYTES['rle-huffman']).toBe(rle.tf_huffman + rle.tf_rle);
    const packed = await sectionBytes('packed');
    expect(DECODER_CODE_BYTES.packed).toBe(packed.tf_packed ?? 0);
  }, 300_000);
});
