// A fully int8 .tflite through the CLI: `import` keeps its quantization by default (int8.tfm in the
// model directory) or, with --requantize, leaves it to tinyforge's scheme; `compress` only codes the
// kept int8 weights (lossless: the host reference gives the same outputs at every coding) and refuses
// the flags that would requantize; a float file has nothing to keep.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { flipInElf } from '../measure/helpers.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { readTfm } from '../../src/qmodel/index.js';
import { runReference } from '../../src/reference/index.js';
import { decodeWeights } from '../../src/qmodel/coding/index.js';
import { quantizedOps } from '../../src/ops/registry.js';
import { KEPT_INT8_FILE } from '../../src/import/loadModel.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { writeWindowsData } from '../helpers/mlperf.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import', 'tflite');
const INT8 = join(FIX, 'conv2d_same.int8.tflite');
const FLOAT = join(FIX, 'conv2d.tflite');

const imp = (...args: string[]) => runCommand(importCommand, ['import', ...args]);
const compress = (...args: string[]) => runCommand(compressCommand, ['compress', ...args]);

/** Windows of the model's input for compress (accuracy is not the point here, only the flow). */
async function withData(dir: string): Promise<{ model: string; data: string }> {
  const model = join(dir, 'model');
  const probe = await imp(INT8, '--out', model, '--json');
  expect(probe.code, probe.err).toBe(0);
  const { inputShape, classNames } = JSON.parse(probe.out) as { inputShape: number[]; classNames: string[] };
  const [T, C] = inputShape;
  const ws = Array.from({ length: 6 }, (_, s) =>
    Float32Array.from(xorshiftInt8(T * C, s + 1), (v) => v / 64),
  );
  const data = writeWindowsData(dir, ws, T, C, classNames.length);
  const r = await imp(INT8, '--out', model, '--data', data);
  expect(r.code, r.err).toBe(0);
  return { model, data };
}

/** Each weighted layer's decoded int8 values. */
function weightValues(m: CompressedModel): Int8Array[] {
  return m.layers.flatMap((l) => {
    const w = quantizedOps(l.kind, 'tflite-int8').coded?.(l)?.weights;
    return w ? [decodeWeights(w).values] : [];
  });
}

describe('importing a fully int8 .tflite', () => {
  it('keeps its quantization by default, says so, and --requantize leaves it to tinyforge', async () => {
    const dir = tempDir('tf-int8-import-');
    const kept = await imp(INT8, '--out', join(dir, 'kept'), '--json');
    expect(kept.code, kept.err).toBe(0);
    expect(JSON.parse(kept.out).quantization).toBe('tflite-int8 (kept)');
    expect(existsSync(join(dir, 'kept', KEPT_INT8_FILE))).toBe(true);
    const m = await readTfm(join(dir, 'kept', KEPT_INT8_FILE));
    expect(m.scheme).toBe('tflite-int8');

    const text = await imp(INT8, '--out', join(dir, 'kept2'), '--keep-quantization');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('TFLite int8 kept');

    const req = await imp(INT8, '--out', join(dir, 'req'), '--requantize', '--json');
    expect(req.code, req.err).toBe(0);
    expect(existsSync(join(dir, 'req', KEPT_INT8_FILE))).toBe(false);
  });

  it('a float file has nothing to keep: --keep-quantization is a usage error that writes nothing', async () => {
    const out = join(tempDir('tf-int8-float-'), 'm');
    const r = await imp(FLOAT, '--out', out, '--keep-quantization');
    expect(r.code).toBe(2);
    expect(r.err).toContain('not a fully int8 TensorFlow Lite model');
    expect(existsSync(out)).toBe(false);
  });
});

describe('compressing a kept int8 model', () => {
  it('codes the int8 weights losslessly at every coding: same values, same outputs at every layer', async () => {
    const dir = tempDir('tf-int8-compress-');
    const { model } = await withData(dir);
    const kept = await readTfm(join(model, KEPT_INT8_FILE));
    const x = xorshiftInt8(kept.inputShape[0] * kept.inputShape[1], 11);
    const want = runReference(kept, x, { keepLayerOutputs: true }).layerOutputs!;
    for (const coding of ['packed', 'huffman', 'rle-huffman', 'auto']) {
      const out = join(dir, `${coding}.tfm`);
      const r = await compress(model, '--coding', coding, '--out', out, '--json');
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.int8.layers.length).toBeGreaterThan(0);
      const m = await readTfm(out);
      expect(m.scheme).toBe('tflite-int8');
      expect(weightValues(m)).toEqual(weightValues(kept));
      const got = runReference(m, x, { keepLayerOutputs: true }).layerOutputs!;
      got.forEach((o, i) => expect(Array.from(o), `${coding} layer ${i}`).toEqual(Array.from(want[i])));
      if (coding !== 'packed' && coding !== 'auto')
        expect(j.int8.layers.every((l: { coding: string }) => l.coding === coding)).toBe(true);
    }
  });

  it('refuses the flags that would requantize, naming them and the way to do it', async () => {
    const dir = tempDir('tf-int8-flags-');
    const { model } = await withData(dir);
    const r = await compress(model, '--bits', '4', '--prune', '0.5', '--out', join(dir, 'x.tfm'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--bits, --prune');
    expect(r.err).toContain('--requantize');
    expect(existsSync(join(dir, 'x.tfm'))).toBe(false);
  });

  it('a .tflite file given to compress directly: kept int8 by default, tinyforge quantization with --requantize', async () => {
    const dir = tempDir('tf-int8-direct-');
    const { data } = await withData(dir);
    const a = await compress(INT8, '--data', data, '--out', join(dir, 'a.tfm'));
    expect(a.code, a.err).toBe(0);
    expect((await readTfm(join(dir, 'a.tfm'))).scheme).toBe('tflite-int8');
    const b = await compress(
      INT8,
      '--data',
      data,
      '--requantize',
      '--bits',
      '6',
      '--out',
      join(dir, 'b.tfm'),
    );
    expect(b.code, b.err).toBe(0);
    expect((await readTfm(join(dir, 'b.tfm'))).scheme).toBeUndefined();
  });
});

describe('a kept int8 model on the target', () => {
  it('a weight changed in the flashed image: run --layers names the first differing layer and exits 8', async () => {
    const dir = tempDir('tf-int8-flip-');
    const { model } = await withData(dir);
    const tfm = join(dir, 'm.tfm');
    expect((await compress(model, '--coding', 'packed', '--out', tfm)).code).toBe(0);
    const fw = join(dir, 'fw');
    const b = await runCommand(buildCommand, ['build', tfm, '--out', fw, '--layers', '--json']);
    expect(b.code, b.err).toBe(0);
    const good = await runCommand(runCmd, ['run', fw, '--split', 'train', '--layers']);
    expect(good.code, good.err).toBe(0);
    expect(good.out).toContain('bit-exact');
    expect(good.out).toContain('at every layer');

    const layers = JSON.parse(b.out).build.codegen.layers as {
      name: string;
      kind: string;
      section: string;
    }[];
    const at = layers.findIndex((l) => l.kind === 'conv2d');
    await flipInElf(join(fw, 'firmware.elf'), `tf_w_${layers[at].section}`, 3, 0x40);
    const bad = await runCommand(runCmd, ['run', fw, '--split', 'train', '--layers']);
    expect(bad.code).toBe(8);
    expect(bad.out).toContain('MISMATCH');
    expect(bad.err).toContain(`layer ${at} '${layers[at].name}' (conv2d)`);
  }, 120_000);
});
