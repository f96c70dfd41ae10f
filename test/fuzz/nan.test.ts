// NaN and Infinity are refused at every entry of the data path, with a message that names where
// (issue 20): windows through the API, imported and trained weights, normalization statistics,
// quantization inputs, and a NaN loss stops training at that epoch and keeps the last good model.
// Each test is named after the finding it fixed (the value passed silently before).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeWindow } from '../../src/reference/input.js';
import { quantizeWindows } from '../../src/measure/windows.js';
import { importModelFile } from '../../src/import/index.js';
import { computeNormalization } from '../../src/data/normalize.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { prepareData } from '../../src/data/load.js';
import { archToGraph, type ArchSpec } from '../../src/graph/arch.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { quantizeModel } from '../../src/compress/quantize.js';
import { encodeWeights } from '../../src/qmodel/coding/weights.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, initParams, readParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { trainModel } from '../../src/train/trainer.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { randomModel } from '../helpers/randomModel.js';
import { tempDir } from '../helpers/temp.js';
import { refusal } from '../helpers/errors.js';

async function rejection(p: Promise<unknown>): Promise<TinyforgeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TinyforgeError) return e;
    throw e;
  }
  throw new Error('expected a TinyforgeError');
}

const SMALL: ArchSpec = {
  layers: [
    { type: 'conv1d', filters: 4, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
};
const dataset = generateSynthetic({ seed: 5, train: 96, test: 48 });
const data = prepareData(dataset, { valFraction: 0.25 });
const graph = archToGraph(SMALL, { inputShape: [128, 9], classNames: dataset.classNames });

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('finding nan-window: quantizeWindow stored NaN as 0 (an Int8Array assignment)', () => {
  const model = randomModel(3);
  const [T, C] = model.inputShape;
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`a ${bad} sample is refused, naming its time step and channel`, () => {
      const x = new Float32Array(T * C).fill(0.5);
      x[2 * C + (C - 1)] = bad;
      const e = refusal(() => quantizeWindow(model, x));
      expect(e.category).toBe('input');
      expect(e.message).toBe(`input window: time step 2, channel ${C - 1} is ${bad}`);
    });
  }

  it('quantizeWindows names the window', () => {
    const x = new Float32Array(3 * T * C);
    x[2 * T * C + C] = NaN;
    expect(refusal(() => quantizeWindows(model, x, 3)).message).toMatch(
      /^window 2: time step 1, channel 0 is NaN$/,
    );
  });
});

describe('finding nan-imported-weights: NaN weights in a model file were imported and quantized to 0', () => {
  it('a .tflite with a NaN weight is refused, naming the file, the layer and the value', async () => {
    const src = join(import.meta.dirname, '..', 'fixtures', 'import', 'tflite', 'add.tflite');
    const bytes = readFileSync(src);
    const ok = await importModelFile(src);
    // Find a weight's four bytes in the file and overwrite them with a NaN.
    const [layer, params] = Object.entries(ok.model.params).find(([, p]) => p.kernel && p.kernel.length > 0)!;
    const pattern = Buffer.from(params.kernel!.buffer, params.kernel!.byteOffset, 4);
    const at = bytes.indexOf(pattern);
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(bytes);
    bad.writeFloatLE(NaN, at);
    const file = join(tempDir('tf-nan-import-'), 'add.tflite');
    writeFileSync(file, bad);
    const e = await rejection(importModelFile(file));
    expect(e.category).toBe('input');
    expect(e.message).toMatch(new RegExp(`^${file}: layer '[^']+' kernel: value \\d+ is NaN$`));
    expect(e.message).toContain(`layer '${layer}'`);
  });
});

describe('finding nan-model-dir: a model directory with NaN weights loaded silently', () => {
  it('loadModelDir refuses it, naming model.json, the layer and the value', async () => {
    const dir = join(tempDir('tf-nan-dir-'), 'm');
    const params = initParams(graph, 1);
    await saveModelDir(dir, { graph, params }, { normalization: computeNormalization(data.train) });
    expect(loadModelDir(dir).model.graph.layers.length).toBe(graph.layers.length);
    const weights = readFileSync(join(dir, 'weights.bin'));
    weights.writeFloatLE(Infinity, 8);
    writeFileSync(join(dir, 'weights.bin'), weights);
    const e = refusal(() => loadModelDir(dir));
    expect(e.category).toBe('input');
    expect(e.message).toMatch(
      new RegExp(`^${join(dir, 'model.json')}: layer '[^']+' \\w+: value 2 is Infinity$`),
    );
  });
});

describe('finding nan-normalization: NaN in the data gave NaN statistics (Math.max(NaN, MIN_STD) is NaN)', () => {
  it('computeNormalization refuses them, naming the channel and the data', () => {
    const x = Float32Array.from(data.train.x);
    x[5 * 9 + 4] = NaN;
    const e = refusal(() =>
      computeNormalization({ ...data.train, x }, undefined, 'rec.json (training split)'),
    );
    expect(e.category).toBe('input');
    expect(e.message).toBe(
      'normalization statistics of rec.json (training split): normalization mean: channel 4 is NaN',
    );
  });
});

describe('finding nan-quantization: fracBitsFor(NaN) chose bits - 1 and NaN weights quantized to 0', () => {
  const model = deployableGraph({ graph, params: initParams(graph, 2) });
  const size = 128 * 9;
  const opts = (windows: Float32Array) => ({
    bits: 8,
    perChannel: false,
    encode: (v: Int8Array, rows: number, rowLength: number, bits: number) =>
      encodeWeights(v, rows, rowLength, bits, 'packed'),
    calibration: { windows, n: 4 },
    normalization: { mean: new Array<number>(9).fill(0), std: new Array<number>(9).fill(1) },
  });
  const windows = data.train.x.slice(0, 4 * size);

  it('the clean model quantizes', () => {
    expect(quantizeModel(model, opts(windows)).layers.length).toBeGreaterThan(0);
  });

  it('a NaN weight is refused, naming the layer', () => {
    const name = Object.keys(model.params).find((k) => model.params[k].kernel)!;
    const kernel = Float32Array.from(model.params[name].kernel!);
    kernel[3] = NaN;
    const bad = { ...model, params: { ...model.params, [name]: { ...model.params[name], kernel } } };
    expect(refusal(() => quantizeModel(bad, opts(windows))).message).toBe(
      `quantization: layer '${name}' kernel: value 3 is NaN`,
    );
  });

  it('a NaN calibration window is refused, naming the window', () => {
    const w = Float32Array.from(windows);
    w[2 * size + 7] = NaN;
    expect(refusal(() => quantizeModel(model, opts(w))).message).toBe(
      'quantization: calibration windows: window 2, value 7 is NaN',
    );
  });

  it('a NaN normalization is refused', () => {
    const o = opts(windows);
    o.normalization.std[1] = NaN;
    expect(refusal(() => quantizeModel(model, o)).message).toBe(
      'quantization: normalization std: channel 1 is NaN',
    );
  });
});

describe('finding nan-loss: training had no guard against a NaN loss', () => {
  it('a NaN loss in epoch 2 stops training there and keeps the weights of epoch 1', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    try {
      let afterEpoch1: Record<string, Float32Array> = {};
      let batches = 0;
      const batchesPerEpoch = Math.ceil(data.train.n / 16);
      const result = await fit(graph, vars, data.train, {
        epochs: 4,
        batchSize: 16,
        lr: 0.01,
        seed: 1,
        progress: 'none',
        // The third batch of epoch 2 is poisoned.
        augment: (xs) => {
          if (++batches === batchesPerEpoch + 3) xs[0] = NaN;
        },
        onEpochEnd: (rec) => {
          if (rec.epoch === 1)
            afterEpoch1 = Object.fromEntries(
              Object.entries(readParams(vars)).map(([k, p]) => [k, Float32Array.from(p.kernel ?? [])]),
            );
        },
      });
      expect(result.diverged).toEqual({ epoch: 2, batch: 3, loss: NaN });
      expect(result.epochsRun).toBe(1);
      expect(result.bestEpoch).toBe(1);
      const now = readParams(vars);
      for (const [k, kernel] of Object.entries(afterEpoch1))
        expect(Float32Array.from(now[k].kernel ?? [])).toEqual(kernel);
    } finally {
      disposeVars(vars);
    }
  });

  it('a loss that is NaN from epoch 1 fails the command and leaves the previous model directory', async () => {
    const root = tempDir('tf-nan-train-');
    const out = join(root, 'model');
    mkdirSync(out);
    writeFileSync(join(out, 'model.json'), 'previous');
    const e = await rejection(
      trainModel({
        data: 'synthetic:train=64,test=32,seed=2',
        out,
        arch: SMALL,
        epochs: 2,
        lr: 1e30,
        progress: 'none',
        quietBackend: true,
      }),
    );
    expect(e.category).toBe('usage');
    expect(e.message).toMatch(
      /^training diverged at epoch 1, batch \d+: the loss is (NaN|Infinity); no epoch finished, so there is no model to keep$/,
    );
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('previous');
  });
});
