// MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D: the integer
// reference against a brute-force definition of the windows (TF 'same' padding derived here, not
// taken from the code under test), the float forward against tfjs, gradients through the pools on
// the training backend against hand-counted ones, training, model.json round trips, and the
// generated C (gcc, clang, QEMU with TF_DSP) against the reference on many random layers: odd
// sizes, both paddings, strides and pool sizes 1..3, channel counts around multiples of four.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { inferShapes, type Layer, type ModelGraph, type Padding } from '../../src/graph/ir.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { importTfjsLayersModel } from '../../src/graph/importTfjs.js';
import { opOf } from '../../src/ops/registry.js';
import type { TfContext } from '../../src/ops/types.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { initBackend, needsCustomConvGrad } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { saveModelDir } from '../../src/train/modelDir.js';
import { buildView } from '../../src/codegen/view.js';
import { ModelBuilder } from '../helpers/randomOps/builder.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { makeRng, randInt } from '../helpers/randomModel.js';
import { tempDir } from '../helpers/temp.js';
import { bitExactSuite, windowsFor } from './bitexactRuns.js';
import { syntheticData } from '../helpers/trainCompress.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

type PoolKind = 'maxpool2d' | 'avgpool2d';

interface PoolCase {
  kind: PoolKind;
  shape: [number, number, number];
  k: [number, number];
  s: [number, number];
  padding: Padding;
}

/** TF's window geometry along one axis, from its documented definition. */
function tfAxis(n: number, k: number, s: number, padding: Padding): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.floor((n - k) / s) + 1, before: 0 };
  const out = Math.ceil(n / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - n, 0) / 2) };
}

/** For each output position (row major), the input positions h * W + w its window covers. */
function windowsOf(c: PoolCase): number[][] {
  const [H, W] = c.shape;
  const ah = tfAxis(H, c.k[0], c.s[0], c.padding);
  const aw = tfAxis(W, c.k[1], c.s[1], c.padding);
  const out: number[][] = [];
  for (let oh = 0; oh < ah.out; oh++)
    for (let ow = 0; ow < aw.out; ow++) {
      const cover: number[] = [];
      for (let i = 0; i < c.k[0]; i++)
        for (let j = 0; j < c.k[1]; j++) {
          const h = oh * c.s[0] - ah.before + i;
          const w = ow * c.s[1] - aw.before + j;
          if (h >= 0 && h < H && w >= 0 && w < W) cover.push(h * W + w);
        }
      out.push(cover);
    }
  return out;
}

/** Max, or the mean rounded half up, of each window per channel. */
function bruteForce(c: PoolCase, x: ArrayLike<number>): number[] {
  const C = c.shape[2];
  return windowsOf(c).flatMap((cover) =>
    Array.from({ length: C }, (_, ch) => {
      const vs = cover.map((p) => x[p * C + ch]);
      if (c.kind === 'maxpool2d') return Math.max(...vs);
      return Math.round(vs.reduce((a, b) => a + b, 0) / vs.length) + 0; // no -0
    }),
  );
}

/** Random cases with at most 256 outputs (the target harness's logits); the first ones walk every pool size and stride. */
function poolCases(n: number, seed: number): PoolCase[] {
  const rng = makeRng(seed);
  const draw = (i: number): PoolCase => {
    const shape: [number, number, number] = [
      randInt(rng, 3, 9),
      randInt(rng, 3, 9),
      [1, 3, 4, 5, 6, 7, 8, 9, 11][randInt(rng, 0, 8)],
    ];
    const k: [number, number] = [1 + (i % 3), randInt(rng, 1, 3)];
    const s: [number, number] = [1 + (Math.floor(i / 3) % 3), randInt(rng, 1, 3)];
    return { kind: i % 2 ? 'avgpool2d' : 'maxpool2d', shape, k, s, padding: i % 4 < 2 ? 'same' : 'valid' };
  };
  return Array.from({ length: n }, (_, i) => {
    let c = draw(i);
    while (windowsOf(c).length * c.shape[2] > 256) c = draw(i);
    return c;
  });
}

/** Input [H*W, C] -> Reshape [H, W, C] -> the pool: its output is the model's output. */
function poolModel(c: PoolCase, seed: number): CompressedModel {
  const [H, W, C] = c.shape;
  const b = new ModelBuilder(seed, [H * W, C]);
  b.reshape([H, W, C]);
  const ah = tfAxis(H, c.k[0], c.s[0], c.padding);
  const aw = tfAxis(W, c.k[1], c.s[1], c.padding);
  const layer = {
    ...b.base(c.kind, [ah.out, aw.out, C]),
    kind: c.kind,
    poolSize: c.k,
    strides: c.s,
    padding: c.padding,
    pad: [ah.before, aw.before],
    frac: b.current.frac,
  };
  b.push(layer, b.current.frac);
  return b.model({ test: 'pool2d', ...c });
}

/** Input [H*W, C] -> Reshape [H, W, C] -> global pooling: [1, C] logits. */
function globalModel(kind: 'gap2d' | 'gmp2d', [H, W, C]: number[], seed: number): CompressedModel {
  const b = new ModelBuilder(seed, [H * W, C]);
  b.reshape([H, W, C]);
  b.push(
    { ...b.base(kind, [1, C]), kind, frac: b.current.frac } as CompressedModel['layers'][0],
    b.current.frac,
    true,
  );
  return b.model({ test: 'global2d', kind });
}

const cases = poolCases(60, 41);

describe('2D pooling: the integer reference', () => {
  it('is the brute-force window definition (max, mean rounded half up) on every case', () => {
    cases.forEach((c, i) => {
      const m = poolModel(c, 500 + i);
      const p = prepareReference(m);
      for (const x of windowsFor(m, i, 3))
        expect(Array.from(runPrepared(p, x).logits)).toEqual(bruteForce(c, x));
    });
  });

  it('global pooling is the max / rounded mean of each channel over all positions', () => {
    for (const [i, shape] of [
      [3, 5, 7],
      [9, 9, 4],
      [17, 17, 6],
      [1, 4, 1],
    ].entries())
      for (const kind of ['gap2d', 'gmp2d'] as const) {
        const m = globalModel(kind, shape, 70 + i);
        const p = prepareReference(m);
        const C = shape[2];
        for (const x of windowsFor(m, i, 3)) {
          const want = Array.from({ length: C }, (_, c) => {
            const vs = Array.from(x).filter((_, j) => j % C === c);
            return kind === 'gmp2d'
              ? Math.max(...vs)
              : Math.round(vs.reduce((a, b) => a + b, 0) / vs.length) + 0;
          });
          expect(Array.from(runPrepared(p, x).logits)).toEqual(want);
        }
      }
  });

  it('rejects a pool whose padding is not the one its shape implies', () => {
    const c: PoolCase = { kind: 'maxpool2d', shape: [5, 6, 3], k: [3, 2], s: [2, 2], padding: 'same' };
    const m = poolModel(c, 1);
    (m.layers[1] as unknown as { pad: number[] }).pad = [0, 0];
    expect(() => prepareReference(m)).toThrow(/pad\[0\] \(top\) 0, expected 1/);
  });
});

/** A float graph [H*W, C] -> Reshape -> the layer, and its nodes. */
function floatGraph(layer: Layer, [H, W, C]: number[]): ModelGraph {
  return {
    inputShape: [H * W, C],
    classNames: ['a', 'b'],
    layers: [{ kind: 'reshape', name: 'r', targetShape: [H, W, C] } as Layer, layer],
  };
}

const ctx: TfContext = {
  training: false,
  customGrad: false,
  logitsOut: false,
  bnMomentum: 0.99,
  param: () => undefined,
  variable: () => undefined,
};

function poolLayer(c: PoolCase): Layer {
  return { kind: c.kind, name: 'p', poolSize: c.k, strides: c.s, padding: c.padding } as Layer;
}

describe('2D pooling in float', () => {
  it('the float forward is tfjs (forward and model.json layer) on every case', () => {
    const rng = makeRng(9);
    for (const c of cases) {
      const graph = floatGraph(poolLayer(c), c.shape);
      const x = Float32Array.from({ length: c.shape[0] * c.shape[1] * c.shape[2] }, () => rng() * 4 - 2);
      const ours = floatForward({ graph, params: {} }, x).outputs[1];
      const op = opOf(c.kind);
      tf.tidy(() => {
        const x4 = tf.tensor4d(x, [1, ...c.shape]);
        const viaForward = op.tfjs.forward(graph.layers[1], [x4], ctx).dataSync();
        const viaLayer = (op.tfjs.layer(graph.layers[1]).apply(x4) as tf.Tensor).dataSync();
        expect(viaForward.length).toBe(ours.length);
        for (let i = 0; i < ours.length; i++) {
          expect(viaForward[i]).toBeCloseTo(ours[i], 5);
          expect(viaLayer[i]).toBeCloseTo(ours[i], 5);
        }
      });
      // The float forward is the same window definition as the brute force.
      const want = windowsOf(c).flatMap((cover) =>
        Array.from({ length: c.shape[2] }, (_, ch) => {
          const vs = cover.map((p) => x[p * c.shape[2] + ch]);
          return c.kind === 'maxpool2d' ? Math.max(...vs) : vs.reduce((a, b) => a + b, 0) / vs.length;
        }),
      );
      for (let i = 0; i < want.length; i++) expect(ours[i]).toBeCloseTo(want[i], 5);
    }
  });

  it('gradients reach the input as the windows route them (the training path of this backend)', () => {
    const train = { ...ctx, training: true, customGrad: needsCustomConvGrad() };
    const rng = makeRng(10);
    for (const c of cases) {
      const [H, W, C] = c.shape;
      const x = Float32Array.from({ length: H * W * C }, () => rng() * 4 - 2);
      const layer = poolLayer(c);
      const g = tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => opOf(c.kind).tfjs.forward(layer, [t], train).sum())(
            tf.tensor4d(x, [1, H, W, C]),
          )
          .dataSync(),
      );
      const want = new Float64Array(H * W * C);
      for (const cover of windowsOf(c))
        for (let ch = 0; ch < C; ch++) {
          if (c.kind === 'avgpool2d') for (const p of cover) want[p * C + ch] += 1 / cover.length;
          else {
            const best = cover.reduce((a, p) => (x[p * C + ch] > x[a * C + ch] ? p : a), cover[0]);
            want[best * C + ch] += 1;
          }
        }
      for (let i = 0; i < want.length; i++) expect(g[i]).toBeCloseTo(want[i], 5);
    }
  });
});

describe('1D pooling on the same training path', () => {
  it('routes gradients as the windows do (MaxPooling1D, AveragePooling1D)', () => {
    const train = { ...ctx, training: true, customGrad: needsCustomConvGrad() };
    const rng = makeRng(11);
    for (const c of cases) {
      // A sequence [T, C] is a one-row image: the same windows along W.
      const [, T, C] = c.shape;
      const c1: PoolCase = { ...c, shape: [1, T, C], k: [1, c.k[1]], s: [1, c.s[1]] };
      const kind = c.kind === 'maxpool2d' ? 'maxpool1d' : 'avgpool1d';
      const layer = { kind, name: 'p', poolSize: c.k[1], stride: c.s[1], padding: c.padding } as Layer;
      const x = Float32Array.from({ length: T * C }, () => rng() * 4 - 2);
      const g = tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => opOf(kind).tfjs.forward(layer, [t], train).sum())(tf.tensor3d(x, [1, T, C]))
          .dataSync(),
      );
      const want = new Float64Array(T * C);
      for (const cover of windowsOf(c1))
        for (let ch = 0; ch < C; ch++) {
          if (kind === 'avgpool1d') for (const p of cover) want[p * C + ch] += 1 / cover.length;
          else want[cover.reduce((a, p) => (x[p * C + ch] > x[a * C + ch] ? p : a), cover[0]) * C + ch] += 1;
        }
      for (let i = 0; i < want.length; i++) expect(g[i]).toBeCloseTo(want[i], 5);
    }
  });
});

describe('2D pooling through training and model.json', () => {
  const { dataset, data } = syntheticData(5, 240, 60);
  const graph = archToGraph(
    {
      layers: [
        { type: 'conv1d', filters: 8, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
        { type: 'reshape', targetShape: [8, 8, 8] },
        { type: 'maxpool2d', poolSize: [2, 3], strides: [2, 1], padding: 'same' },
        { type: 'avgpool2d', poolSize: 2, padding: 'valid' },
        { type: 'gmp2d' },
        { type: 'dense', units: 'classes' },
      ],
    },
    { inputShape: [128, 9], classNames: dataset.classNames },
  );

  it('infers the Keras shapes', () => {
    expect(inferShapes(graph).map((n) => n.outShape)).toEqual([
      [64, 8],
      [8, 8, 8],
      [4, 8, 8],
      [2, 4, 8],
      [1, 8],
      [1, dataset.classNames.length],
    ]);
  });

  it('trains (gradients pass the pools to the convolution), and tfjs equals the float forward', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars).conv1d_1.kernel!.slice();
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    expect(Array.from(model.params.conv1d_1.kernel!)).not.toEqual(Array.from(before));
    expect(model.params.conv1d_1.kernel!.every(Number.isFinite)).toBe(true);
    const x = data.test.x.subarray(0, 128 * 9);
    const ours = floatForward(model, x).outputs[5];
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 4);
    disposeVars(vars);
  });

  it('saves as MaxPooling2D / AveragePooling2D / GlobalMaxPooling2D in model.json and imports back', async () => {
    for (const last of ['gmp2d', 'gap2d']) {
      const g = {
        ...graph,
        layers: graph.layers.map((l) => (l.kind === 'gmp2d' ? { kind: last, name: l.name } : l)),
      };
      const dir = join(tempDir(), `pool2d-${last}`);
      await saveModelDir(dir, { graph: g, params: initParams(g, 4) }, { normalization: data.normalization });
      const imported = importTfjsLayersModel(join(dir, 'model.json'));
      expect(imported.graph.layers).toEqual(g.layers);
    }
  });

  it('maps Keras configs: int sizes, strides null (= the pool size), pair sizes', () => {
    const k = {
      unsupported: (_l: unknown, what: string): never => {
        throw new Error(what);
      },
      one: (v: unknown) => (Array.isArray(v) ? v[0] : v) as number,
      padding: (l: { config: { padding?: Padding } }) => l.config.padding ?? 'valid',
      checkChannelsLast: () => {},
      activation: () => ({ activation: 'linear', after: [] }),
    };
    const map = (className: string, config: object) =>
      opOf(className.startsWith('Max') ? 'maxpool2d' : 'avgpool2d').keras!.fromKeras(
        { className, name: 'p', config, inbound: [] },
        k,
      ).layers[0];
    expect(map('MaxPooling2D', { pool_size: 3, strides: null, padding: 'same' })).toEqual({
      kind: 'maxpool2d',
      name: 'p',
      poolSize: [3, 3],
      strides: [3, 3],
      padding: 'same',
    });
    expect(map('AveragePooling2D', { pool_size: [2, 1], strides: [1, 2] })).toEqual({
      kind: 'avgpool2d',
      name: 'p',
      poolSize: [2, 1],
      strides: [1, 2],
      padding: 'valid',
    });
    expect(() => map('MaxPooling2D', { pool_size: [2, 0] })).toThrow(/pool_size/);
  });
});

/** Every case as a model, global pools past the 16-bit lane limit, and random mixed models. */
function cModels(): CompressedModel[] {
  const ms = cases.map((c, i) => poolModel(c, 900 + i));
  for (const [i, shape] of [
    [3, 5, 7],
    [9, 9, 5],
    [17, 17, 6],
    [16, 17, 3],
    [2, 2, 8],
  ].entries())
    for (const kind of ['gap2d', 'gmp2d'] as const) ms.push(globalModel(kind, shape, 80 + i));
  // A 16x17 average window: more than 256 values, past the SXTAB16 lanes (the portable loop).
  ms.push(poolModel({ kind: 'avgpool2d', shape: [17, 17, 5], k: [16, 17], s: [1, 1], padding: 'valid' }, 3));
  for (let s = 0; s < 6; s++) {
    ms.push(randomOpModel(3000 + s, ['maxpool2d', 'avgpool2d', 'gap2d']));
    ms.push(randomOpModel(3100 + s, ['avgpool2d', 'maxpool2d', 'gmp2d']));
  }
  return ms;
}

describe('2D pooling generated C', () => {
  it('draws every pool size, stride, padding, edge and channel tail', () => {
    const seen = new Set<string>();
    for (const m of cModels())
      for (const l of buildView(m).view.layers) {
        if (l.kind !== 'maxpool2d' && l.kind !== 'avgpool2d') continue;
        const v = l as unknown as Record<string, number | boolean>;
        seen.add(`k${v.ph}`).add(`k${v.pw}`).add(`s${v.sh}`).add(`s${v.sw}`);
        seen.add(`edges ${v.edgesH || v.edgesW}`).add(`simd ${v.simd}`);
        seen.add(`C mod 4 = ${(v.C as number) % 4}${(v.C as number) > 4 ? ' (> 4)' : ''}`);
      }
    for (const w of [
      'k1',
      'k2',
      'k3',
      's1',
      's2',
      's3',
      'edges true',
      'edges false',
      'simd true',
      'simd false',
    ])
      expect(seen).toContain(w);
    for (const r of [1, 2, 3]) expect(seen).toContain(`C mod 4 = ${r} (> 4)`);
    expect(seen).toContain('C mod 4 = 0 (> 4)');
  });

  bitExactSuite('pool2d', cModels);
});
