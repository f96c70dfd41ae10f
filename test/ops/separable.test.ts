// SeparableConv1D and SeparableConv2D: one layer in training and in model.json, two layers once
// deployed. The float forward against a brute-force definition; the expansion (depthwise + pointwise)
// keeps the float outputs exactly; a BatchNormalization after one folds into the pointwise conv;
// training on the wasm backend moves both kernels and tfjs agrees with the float forward; the model
// directory round-trips through model.json; compression gives the expanded quantized layers.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/prng.js';
import { archToGraph, type ArchSpec } from '../../src/graph/arch.js';
import { deployableGraph, expandComposites } from '../../src/graph/fold.js';
import { inferShapes } from '../../src/graph/ir.js';
import type { FloatModel, LayerParams, ModelGraph } from '../../src/graph/types.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { DEFAULT_COMPRESS_OPTIONS } from '../../src/compress/compress.js';
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

const { dataset, data } = syntheticData(11, 200, 60);
const shapeOf = { inputShape: [128, 9] as [number, number], classNames: dataset.classNames };

/** Every parameter drawn at random (biases and BatchNorm statistics too, so nothing is trivial). */
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

/** Geometry of one separable layer as the brute force reads it. */
interface Sep {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  M: number;
  F: number;
  padding: 'same' | 'valid' | 'causal';
  relu: boolean;
}

/** Padding before one axis and its output length, Keras semantics, written out here. */
function axisOf(n: number, k: number, s: number, d: number, padding: Sep['padding']) {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((n - span) / s) + 1, before: 0 };
  const out = Math.ceil(n / s);
  if (padding === 'causal') return { out, before: span - 1 };
  return { out, before: Math.floor(Math.max((out - 1) * s + span - n, 0) / 2) };
}

/** The definition: pad explicitly, depthwise sum over taps, then the pointwise product. */
function bruteSeparable(x: Float32Array, [H, W, C]: number[], g: Sep, p: LayerParams): Float32Array {
  const ah = axisOf(H, g.k[0], g.s[0], g.d[0], g.padding === 'causal' ? 'valid' : g.padding);
  const aw = axisOf(W, g.k[1], g.s[1], g.d[1], g.padding);
  const at = (y: number, xx: number, c: number) =>
    y < 0 || y >= H || xx < 0 || xx >= W ? 0 : x[(y * W + xx) * C + c];
  const out = new Float32Array(ah.out * aw.out * g.F);
  const dw = p.depthwiseKernel!; // [kh, kw, C, M]
  const pw = p.pointwiseKernel!; // [C*M, F]
  for (let oy = 0; oy < ah.out; oy++)
    for (let ox = 0; ox < aw.out; ox++) {
      const mid = new Float64Array(C * g.M);
      for (let c = 0; c < C; c++)
        for (let m = 0; m < g.M; m++)
          for (let i = 0; i < g.k[0]; i++)
            for (let j = 0; j < g.k[1]; j++)
              mid[c * g.M + m] +=
                at(oy * g.s[0] + i * g.d[0] - ah.before, ox * g.s[1] + j * g.d[1] - aw.before, c) *
                dw[((i * g.k[1] + j) * C + c) * g.M + m];
      for (let f = 0; f < g.F; f++) {
        let acc = p.bias ? p.bias[f] : 0;
        for (let cm = 0; cm < C * g.M; cm++) acc += mid[cm] * pw[cm * g.F + f];
        out[(oy * aw.out + ox) * g.F + f] = g.relu ? Math.max(0, acc) : acc;
      }
    }
  return out;
}

const CASES1D: Sep[] = [
  { k: [1, 5], s: [1, 1], d: [1, 1], M: 1, F: 6, padding: 'same', relu: true },
  { k: [1, 3], s: [1, 2], d: [1, 1], M: 2, F: 5, padding: 'valid', relu: false },
  { k: [1, 3], s: [1, 1], d: [1, 4], M: 3, F: 4, padding: 'causal', relu: true },
  { k: [1, 4], s: [1, 3], d: [1, 1], M: 1, F: 7, padding: 'same', relu: false },
];
const CASES2D: Sep[] = [
  { k: [3, 3], s: [1, 1], d: [1, 1], M: 1, F: 6, padding: 'same', relu: true },
  { k: [5, 2], s: [2, 1], d: [1, 1], M: 2, F: 3, padding: 'valid', relu: false },
  { k: [3, 2], s: [1, 1], d: [2, 3], M: 2, F: 4, padding: 'same', relu: true },
];

/** A graph of one separable layer after the input (2D: reshaped to [T, C, 1]) and a classifier. */
function sepGraph(g: Sep, rank: 2 | 3, extra: ArchSpec['layers'] = []): ModelGraph {
  const common = {
    filters: g.F,
    depthMultiplier: g.M,
    padding: g.padding,
    activation: g.relu ? 'relu' : 'linear',
  };
  const layers: ArchSpec['layers'] =
    rank === 2
      ? [
          {
            type: 'separable1d',
            name: 'sep',
            kernelSize: g.k[1],
            stride: g.s[1],
            dilation: g.d[1],
            ...common,
          },
          ...extra,
          { type: 'gap1d' },
        ]
      : [
          { type: 'reshape', targetShape: [128, 9, 1] },
          { type: 'separable2d', name: 'sep', kernelSize: g.k, strides: g.s, dilation: g.d, ...common },
          ...extra,
          { type: 'gap2d' },
        ];
  return archToGraph({ layers: [...layers, { type: 'dense', units: 'classes' }] }, shapeOf);
}

const x0 = data.test.x.subarray(0, 128 * 9);

describe.each([
  ['separable1d', 2, CASES1D],
  ['separable2d', 3, CASES2D],
] as const)('%s float forward and expansion', (kind, rank, cases) => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i: matches the definition', (i, g) => {
    const graph = sepGraph(g, rank);
    const model: FloatModel = { graph, params: randomParams(graph, 100 + i) };
    const at = graph.layers.findIndex((l) => l.name === 'sep');
    const info = inferShapes(graph)[at];
    const ours = floatForward(model, x0).outputs[at];
    const inShape = info.inShape.length === 3 ? info.inShape : [1, ...info.inShape];
    const want = bruteSeparable(x0, inShape, g, model.params.sep);
    expect(ours.length).toBe(want.length);
    for (let j = 0; j < want.length; j++) expect(ours[j]).toBeCloseTo(want[j], 4);
  });

  it.each(cases.map((c, i) => [i, c] as const))(
    'case %i: expands into depthwise + pointwise with exactly the same outputs',
    (i, g) => {
      const graph = sepGraph(g, rank);
      const model: FloatModel = { graph, params: randomParams(graph, 200 + i) };
      const expanded = expandComposites(model);
      const names = expanded.graph.layers.map((l) => `${l.kind}:${l.name}`);
      const dwKind = rank === 2 ? 'depthwise1d' : 'depthwise2d';
      const pwKind = rank === 2 ? 'conv1d' : 'conv2d';
      expect(names).toContain(`${dwKind}:sep_depthwise`);
      expect(names).toContain(`${pwKind}:sep`);
      expect(names.indexOf(`${pwKind}:sep`)).toBe(names.indexOf(`${dwKind}:sep_depthwise`) + 1);
      expect(expanded.params.sep_depthwise.bias).toBeUndefined();
      expect(expanded.graph.layers.some((l) => l.kind === kind)).toBe(false);
      const a = floatForward(model, x0).outputs;
      const b = floatForward(expanded, x0).outputs;
      // The pointwise conv carries the separable layer's name, bias and activation: same output.
      const sepAt = graph.layers.findIndex((l) => l.name === 'sep');
      expect(Array.from(b[sepAt + 1])).toEqual(Array.from(a[sepAt]));
      expect(Array.from(b[b.length - 1])).toEqual(Array.from(a[a.length - 1]));
    },
  );
});

describe('separable deploy rule', () => {
  it('a BatchNormalization after a separable conv folds into the pointwise conv, ReLU fuses', () => {
    const g: Sep = { ...CASES1D[2], relu: false };
    for (const rank of [2, 3] as const) {
      const gg = rank === 2 ? g : { ...CASES2D[0], relu: false };
      const graph = sepGraph(gg, rank, [{ type: 'batchnorm' }, { type: 'relu' }]);
      const model: FloatModel = { graph, params: randomParams(graph, 300 + rank) };
      const deployed = deployableGraph(model);
      const kinds = deployed.graph.layers.map((l) => l.kind);
      expect(kinds).not.toContain('batchnorm');
      expect(kinds).not.toContain('relu');
      const pw = deployed.graph.layers.find((l) => l.name === 'sep') as { activation?: string; kind: string };
      expect(pw.kind).toBe(rank === 2 ? 'conv1d' : 'conv2d');
      expect(pw.activation).toBe('relu');
      for (let w = 0; w < 3; w++) {
        const x = data.test.x.subarray(w * 128 * 9, (w + 1) * 128 * 9);
        const a = floatForward(model, x).outputs.at(-1)!;
        const b = floatForward(deployed, x).outputs.at(-1)!;
        for (let j = 0; j < a.length; j++) expect(b[j]).toBeCloseTo(a[j], 4);
      }
    }
  });

  it('layers that read the separable conv by name read the pointwise conv; explicit inputs carry over', () => {
    const graph = archToGraph(
      {
        layers: [
          { type: 'conv1d', name: 'a', filters: 6, kernelSize: 3, padding: 'same' },
          { type: 'separable1d', name: 'sep', filters: 6, kernelSize: 3, padding: 'same', inputs: ['a'] },
          { type: 'conv1d', name: 'b', filters: 6, kernelSize: 1, inputs: ['<input>'] },
          { type: 'add', name: 'sum', inputs: ['sep', 'b'] },
          { type: 'gap1d' },
          { type: 'dense', units: 'classes' },
        ],
      },
      shapeOf,
    );
    const model: FloatModel = { graph, params: randomParams(graph, 400) };
    const deployed = deployableGraph(model);
    const byName = new Map(deployed.graph.layers.map((l) => [l.name, l]));
    expect(byName.get('sep_depthwise')!.inputs).toEqual(['a']);
    expect(byName.get('sum')!.inputs).toEqual(['sep', 'b']);
    const a = floatForward(model, x0).outputs.at(-1)!;
    const b = floatForward(deployed, x0).outputs.at(-1)!;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('a derived name that is taken gets a suffix', () => {
    const graph = archToGraph(
      {
        layers: [
          { type: 'conv1d', name: 'sep_depthwise', filters: 4, kernelSize: 3 },
          { type: 'separable1d', name: 'sep', filters: 5, kernelSize: 3 },
          { type: 'gap1d' },
          { type: 'dense', units: 'classes' },
        ],
      },
      shapeOf,
    );
    const expanded = expandComposites({ graph, params: randomParams(graph, 5) });
    expect(expanded.graph.layers.map((l) => l.name).slice(0, 3)).toEqual([
      'sep_depthwise',
      'sep_depthwise_2',
      'sep',
    ]);
  });
});

describe.each([
  ['separable1d', 2, CASES1D[2]],
  ['separable2d', 3, CASES2D[1]],
] as const)('%s in tfjs', (kind, rank, g) => {
  const graph = sepGraph(g, rank);

  it('trains on the initBackend backend: both kernels and the bias move; tfjs == float forward', async () => {
    const vars = createVars({ graph, params: initParams(graph, 7) });
    const before = readParams(vars).sep;
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 7, progress: 'none' });
    const after = readParams(vars).sep;
    for (const key of ['depthwiseKernel', 'pointwiseKernel', 'bias'] as const)
      expect(Array.from(after[key]!), `${kind} ${key} on ${backend}`).not.toEqual(Array.from(before[key]!));
    const model = { graph, params: readParams(vars) };
    const ours = floatForward(model, x0).outputs.at(-1)!;
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x0, [1, 128, 9]), { logits: true }).dataSync(),
    );
    for (let j = 0; j < ours.length; j++) expect(ours[j]).toBeCloseTo(theirs[j], 4);
    disposeVars(vars);
  });

  it('the training forward (custom gradients) gives the gradients of the plain forward', () => {
    const vars = createVars({ graph, params: randomParams(graph, 8) });
    const x = tf.tensor3d(data.train.x.subarray(0, 2 * 128 * 9), [2, 128, 9]);
    const keys = ['depthwiseKernel', 'pointwiseKernel'] as const;
    const loss = (training: boolean) => () =>
      tf.sum(tf.square(forward(graph, vars, x, { training, logits: true }))) as tf.Scalar;
    const grads = (training: boolean) => {
      const { grads: g2 } = tf.variableGrads(
        loss(training),
        keys.map((k) => vars.sep[k]!),
      );
      return keys.map((k) => Array.from(g2[vars.sep[k]!.name].dataSync()));
    };
    // Training mode uses the hand-written depthwise gradient where the backend lacks one; central
    // differences of the inference forward (no gradient code at all) stand for the truth.
    const analytic = grads(true);
    keys.forEach((k, ki) => {
      const w = vars.sep[k]!;
      const base = w.dataSync().slice();
      const eps = 1e-2;
      for (const i of [0, 3, base.length - 1]) {
        const at = (v: number) => {
          const b2 = base.slice();
          b2[i] = v;
          w.assign(tf.tensor(b2, w.shape));
          return tf.tidy(() => loss(false)().dataSync()[0]);
        };
        const numeric = (at(base[i] + eps) - at(base[i] - eps)) / (2 * eps);
        expect(Math.abs(analytic[ki][i] - numeric), `${k}[${i}]`).toBeLessThan(
          0.03 * Math.max(1, Math.abs(numeric)),
        );
      }
      w.assign(tf.tensor(base, w.shape));
    });
    x.dispose();
    disposeVars(vars);
  });

  it('saves as a Keras separable conv in model.json and loads back with the same weights', async () => {
    const dir = join(tempDir(), kind);
    const model = { graph, params: randomParams(graph, 9) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const loaded = loadModelDir(dir);
    expect(loaded.model.graph.layers.map((l) => l.kind)).toEqual(graph.layers.map((l) => l.kind));
    for (const key of ['depthwiseKernel', 'pointwiseKernel', 'bias'] as const)
      expect(Array.from(loaded.model.params.sep[key]!)).toEqual(Array.from(model.params.sep[key]!));
    const json = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: { class_name: string }[] } };
    };
    const classes = json.modelTopology.config.layers.map((l) => l.class_name);
    expect(classes).toContain(rank === 2 ? 'SeparableConv1D' : 'SeparableConv2D');
  });

  it('compresses into the expanded quantized layers', async () => {
    const { q, report } = await trainAndCompress(graph, data, {
      seed: 10,
      epochs: 2,
      options: { ...DEFAULT_COMPRESS_OPTIONS, finetuneEpochs: 1 },
    });
    const kinds = q.layers.map((l) => `${l.kind}:${l.name}`);
    expect(kinds).toContain(`${rank === 2 ? 'depthwise1d' : 'depthwise2d'}:sep_depthwise`);
    expect(kinds).toContain(`${rank === 2 ? 'conv1d' : 'conv2d'}:sep`);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.1);
  });
});
