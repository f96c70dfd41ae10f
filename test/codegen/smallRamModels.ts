// The random models the small-RAM kernel tests run (host: smallRam.test.ts; QEMU:
// test/kernels/smallRam.test.ts): every coding x every weight width, and Conv2D / Dense / Conv1D
// operator models.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModelFile } from '../../src/import/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { randomOpModel } from '../helpers/randomOps/index.js';

export const CODINGS = ['packed', 'huffman', 'rle-huffman'] as const;

/** Random models: every coding x every width 2..8, plus Conv2D and Dense op models. */
export function smallRamSuite(): { name: string; model: CompressedModel }[] {
  const out: { name: string; model: CompressedModel }[] = [];
  for (const coding of CODINGS)
    for (let bits = 2; bits <= 8; bits++)
      out.push({
        name: `${coding} ${bits}-bit`,
        model: randomModel(1000 + 10 * bits + CODINGS.indexOf(coding), { codings: [coding], bits: [bits] }),
      });
  for (const kind of ['conv2d', 'dense', 'conv1d'])
    for (const coding of CODINGS) {
      const seed = 4000 + 10 * CODINGS.indexOf(coding) + kind.length;
      out.push({ name: `${kind} op ${coding}`, model: randomOpModel(seed, [kind], { codings: [coding] }) });
    }
  out.push(...smallRamDepthwise());
  return out;
}

/**
 * Depthwise models: per kind (1D, 2D) every width 2..8, the codings in turn, two depthwise layers each
 * (random strides, dilations, paddings and depth multipliers 1..3; the tests check they all occur).
 */
export function smallRamDepthwise(): { name: string; model: CompressedModel }[] {
  const out: { name: string; model: CompressedModel }[] = [];
  for (const [k, kind] of ['depthwise1d', 'depthwise2d'].entries())
    for (let bits = 2; bits <= 8; bits++) {
      // The codings in turn, shifted by one between the kinds (8-bit packed, read straight from flash, in 2D).
      const coding = CODINGS[(bits + k) % CODINGS.length];
      const seed = 6000 + 10 * bits + kind.length;
      const model = randomOpModel(seed, [kind, kind], { codings: [coding], bits: [bits] });
      out.push({ name: `${kind} ${coding} ${bits}-bit`, model });
    }
  return out;
}

/** Random windows plus the extremes. */
export function smallRamWindows(model: CompressedModel, n: number, seed: number): Int8Array[] {
  const size = model.inputShape[0] * model.inputShape[1];
  const ws = Array.from({ length: n }, (_, i) => randomInput(model, seed * 1000 + i));
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

/** TFLite int8 fixtures with Conv1D, Conv2D, Dense and DepthwiseConv2D layers (scheme 'tflite-int8'), at every coding. */
export async function smallRamInt8Cases(): Promise<{ name: string; model: CompressedModel }[]> {
  const fix = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import', 'tflite');
  const out: { name: string; model: CompressedModel }[] = [];
  const names = ['conv1d_same', 'conv2d_same_stride_relu', 'conv2d_per_tensor', 'dense_rounding'];
  for (const name of [...names, 'depthwise_same_relu', 'depthwise_stride']) {
    const imported = await importModelFile(join(fix, `${name}.int8.tflite`));
    for (const coding of CODINGS)
      out.push({ name: `int8 ${name} ${coding}`, model: imported.keptQuantization!({ coding }) });
  }
  return out;
}
