// DepthwiseConv1D / DepthwiseConv2D from training to compression: `fit` moves the depthwise weights
// on the backend initBackend picks (wasm: hand-written gradients), the tfjs forward equals the plain
// TS float forward, model.json round-trips (depthwise and separable, depth multiplier > 1), a
// BatchNormalization after a depthwise conv folds into it, compressModel compresses them (with
// fine-tuning), and fine-tuning's per-channel fake quantization uses the grid of each output
// channel c*M + m, exactly the values the quantizer deploys.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/prng.js';
import { archToGraph, type ArchSpec } from '../../src/graph/arch.js';
import { deployableGraph } from '../../src/graph/fold.js';
import type { FloatModel, LayerParams, ModelGraph } from '../../src/graph/types.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { DEFAULT_COMPRESS_OPTIONS } from '../../src/compress/compress.js';
import { compressionHooks, fakeQuantKernel } from '../../src/compress/finetune.js';
import { quantizeModel } from '../../src/compress/quantize.js';
import { fracBitsFor, quantizeValue } from '../../src/fixedpoint/semantics.js';
import { decodeWeights, encodeWeights } from '../../src/qmodel/coding/index.js';
import type { QDepthwise } from '../../src/ops/depthwise.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { tempDir } from '../helpers/temp.js';
import { syntheticData, trainAndCompress } from '../helpers/trainCompress.js';

let backend = '';
beforeAll(async () => {
  backend = (await initBackend({ quiet: true })).name;
});

const { dataset, data } = syntheticData(21, 200, 60);
const shapeOf = { inputShape: [128, 9] as [number, number], classNames: dataset.classNames };
const WINDOW = 128 * 9;

/** Every parameter drawn at random (biases and BatchNorm statistics too). */
function randomParams(graph: ModelGraph, seed: number): Record<string, LayerParams> {
  const rng = new Rng(seed);
  const params = initParams(graph, seed);
  for (const p of Object.values(params))
    for (const key of Object.keys(p) as (keyof LayerParams)[]) {
      const lo = key === 'movingVariance' || key === 'gamma' ? 0.3 : -0.8;
      p[key] = p[key]!.map(() => rng.uniform(lo, 1.2));
    }
  return params;
}

const graphOf = (layers: ArchSpec['layers']): ModelGraph =>
  archToGraph({ layers: [...layers, { type: 'dense', units: 'classes' }] }, shapeOf);

/** A small net around each kind (depth multiplier 2 so that c*M + m differs from c). */
const NETS = {
  depthwise1d: graphOf([
    { type: 'conv1d', filters: 4, kernelSize: 3, padding: 'same' },
    {
      type: 'depthwise1d',
      name: 'dw',
      kernelSize: 5,
      stride: 2,
      padding: 'causal',
      depthMultiplier: 2,
      activation: 'relu',
    },
    { type: 'gap1d' },
  ]),
  depthwise2d: graphOf([
    { type: 'reshape', targetShape: [128, 9, 1] },
    { type: 'conv2d', filters: 3, kernelSize: [3, 1], padding: 'same' },
    {
      type: 'depthwise2d',
      name: 'dw',
      kernelSize: [5, 3],
      strides: [2, 1],
      depthMultiplier: 2,
      activation: 'relu',
    },
    { type: 'gap2d' },
  ]),
  separable1d: graphOf([
    {
      type: 'separable1d',
      name: 'dw',
      filters: 6,
      kernelSize: 3,
      dilation: 2,
      padding: 'causal',
      depthMultiplier: 2,
    },
    { type: 'gap1d' },
  ]),
  separable2d: graphOf([
    { type: 'reshape', targetShape: [128, 9, 1] },
    { type: 'separable2d', name: 'dw', filters: 5, kernelSize: [3, 3], padding: 'same', depthMultiplier: 3 },
    { type: 'gap2d' },
  ]),
};

const logitsOf = (model: FloatModel, x: Float32Array) => floatForward(model, x).outputs.at(-1)!;

describe.each(['depthwise1d', 'depthwise2d'] as const)('%s training', (kind) => {
  const graph = NETS[kind];

  it('fit moves the depthwise weights; the tfjs forward equals the float forward', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars).dw;
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const after = readParams(vars).dw;
    expect(Array.from(after.kernel!), backend).not.toEqual(Array.from(before.kernel!));
    expect(Array.from(after.bias!), backend).not.toEqual(Array.from(before.bias!));
    const model = { graph, params: readParams(vars) };
    for (let w = 0; w < 2; w++) {
      const x = data.test.x.subarray(w * WINDOW, (w + 1) * WINDOW);
      const ours = logitsOf(model, x);
      const theirs = tf.tidy(() =>
        forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
      );
      for (let j = 0; j < ours.length; j++) expect(ours[j]).toBeCloseTo(theirs[j], 4);
    }
    disposeVars(vars);
  });
});

describe.each(Object.keys(NETS) as (keyof typeof NETS)[])('%s model.json', (kind) => {
  it('saves and loads back the same layers and weights', async () => {
    const graph = NETS[kind];
    const dir = join(tempDir(), kind);
    const model: FloatModel = { graph, params: randomParams(graph, 4) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const loaded = loadModelDir(dir).model;
    expect(loaded.graph).toEqual(graph);
    for (const [name, p] of Object.entries(model.params))
      for (const [key, v] of Object.entries(p))
        expect(Array.from(loaded.params[name][key as keyof LayerParams]!)).toEqual(Array.from(v));
    // Keras's config names the multiplier: another tool reads the same layer.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const entry = json.modelTopology.config.layers.find(
      (l: { config: { name: string } }) => l.config.name === 'dw',
    );
    expect(entry.config.depth_multiplier).toBe(
      graph.layers.find((l) => l.name === 'dw')!['depthMultiplier' as never],
    );
    // The loaded model computes what the saved one did.
    expect(Array.from(logitsOf(loaded, data.test.x.subarray(0, WINDOW)))).toEqual(
      Array.from(logitsOf(model, data.test.x.subarray(0, WINDOW))),
    );
  });
});

describe('BatchNormalization after a depthwise conv', () => {
  it.each([
    [
      'depthwise1d',
      [{ type: 'depthwise1d', name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2 }],
      'gap1d',
    ],
    [
      'depthwise2d',
      [
        { type: 'reshape', targetShape: [128, 9, 1] },
        { type: 'depthwise2d', name: 'dw', kernelSize: [3, 2], depthMultiplier: 3, useBias: false },
      ],
      'gap2d',
    ],
  ] as const)('%s: folds into it (and the ReLU fuses), outputs kept', (_kind, layers, gap) => {
    const graph = graphOf([
      ...layers,
      { type: 'batchnorm' },
      { type: 'relu' },
      { type: gap },
    ] as ArchSpec['layers']);
    const model: FloatModel = { graph, params: randomParams(graph, 6) };
    const deployed = deployableGraph(model);
    const kinds = deployed.graph.layers.map((l) => l.kind);
    expect(kinds).not.toContain('batchnorm');
    expect(kinds).not.toContain('relu');
    const dw = deployed.graph.layers.find((l) => l.name === 'dw') as unknown as {
      activation: string;
      useBias: boolean;
    };
    expect(dw).toMatchObject({ activation: 'relu', useBias: true });
    for (let w = 0; w < 3; w++) {
      const x = data.test.x.subarray(w * WINDOW, (w + 1) * WINDOW);
      const a = logitsOf(model, x);
      const b = logitsOf(deployed, x);
      for (let j = 0; j < a.length; j++) expect(b[j]).toBeCloseTo(a[j], 4);
    }
  });
});

describe('compressModel with depthwise and separable convs', () => {
  it.each(['depthwise1d', 'separable2d'] as const)(
    '%s: fine-tunes, quantizes and runs in the reference',
    async (kind) => {
      const graph = NETS[kind];
      const { q, report } = await trainAndCompress(graph, data, {
        seed: 8,
        epochs: 2,
        options: { ...DEFAULT_COMPRESS_OPTIONS, finetuneEpochs: 1, bits: 6 },
      });
      expect(q.layers.map((l) => l.kind)).toContain(kind === 'depthwise1d' ? 'depthwise1d' : 'depthwise2d');
      expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.15);
    },
  );
});

describe('per-channel fake quantization of a depthwise kernel', () => {
  // Input channels of very different magnitudes: grouping by the last kernel axis (m) would put
  // small and large channels on one grid; the target has one grid per output channel c*M + m.
  const graph = graphOf([
    { type: 'depthwise1d', name: 'dw', kernelSize: 3, depthMultiplier: 2, useBias: false },
    { type: 'gap1d' },
  ]);
  const [k, C, M] = [3, 9, 2];
  const rng = new Rng(12);
  const kernel = Float32Array.from({ length: k * C * M }, (_, i) => {
    const c = Math.floor(i / M) % C;
    return rng.uniform(-1, 1) * 2 ** -(c % 5);
  });
  const params = { ...randomParams(graph, 12), dw: { kernel } };
  const model: FloatModel = { graph, params };

  /** The definition: element [t, c, m] on the grid of the largest |w| of output channel c*M + m. */
  function expected(bits: number): number[] {
    const max = new Array<number>(C * M).fill(0);
    kernel.forEach((v, i) => {
      const o = i % (C * M);
      max[o] = Math.max(max[o], Math.abs(v));
    });
    return Array.from(kernel, (v, i) => {
      const f = fracBitsFor(max[i % (C * M)], bits);
      return quantizeValue(v, f, bits) / 2 ** f;
    });
  }

  it.each([3, 4, 8])('at %i bits the hook puts each output channel on its own grid', (bits) => {
    const hooks = compressionHooks(() => ({}), { bits, perChannel: true, graph });
    const w = tf.tensor(kernel, [k, C, M]);
    const got = tf.tidy(() => Array.from(hooks.weight!(graph.layers[0], 'kernel', w).dataSync()));
    const want = expected(bits);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 6);
    // The last-axis grid (what a Conv1D's layout would mean) is a different one here.
    const lastAxis = tf.tidy(() => Array.from(fakeQuantKernel(w, bits, true).dataSync()));
    expect(lastAxis.some((v, i) => Math.abs(v - want[i]) > 1e-6)).toBe(true);
    w.dispose();
  });

  it('fine-tuning sees exactly the weights the quantizer deploys', () => {
    const bits = 4;
    const hooks = compressionHooks(() => ({}), { bits, perChannel: true, graph });
    const w = tf.tensor(kernel, [k, C, M]);
    const fake = tf.tidy(() => Array.from(hooks.weight!(graph.layers[0], 'kernel', w).dataSync()));
    w.dispose();
    const q = quantizeModel(model, {
      bits,
      perChannel: true,
      calibration: { windows: data.train.x.subarray(0, 8 * WINDOW), n: 8 },
      normalization: { mean: data.normalization.mean, std: data.normalization.std },
      encode: (values, rows, rowLength, b) => encodeWeights(values, rows, rowLength, b, 'packed'),
    });
    const dq = q.layers.find((l) => l.name === 'dw') as QDepthwise;
    const values = decodeWeights(dq.weights).values;
    // Row o = c*M + m holds the k taps of w[., c, m] (src/qmodel/model.ts).
    for (let t = 0; t < k; t++)
      for (let o = 0; o < C * M; o++) {
        const f = dq.wFrac.length === 1 ? dq.wFrac[0] : dq.wFrac[o];
        expect(fake[t * C * M + o], `tap ${t} channel ${o}`).toBe(values[o * k + t] / 2 ** f);
      }
  });
});
