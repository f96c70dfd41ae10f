// Conv2D: the integer reference against a brute-force definition, the generated C on the host (gcc
// and clang, several optimization levels) and on the Cortex-M4 under QEMU against the reference over
// many random layers (every coding, widths 2..8, per-layer and per-channel formats, odd sizes, both
// paddings, strides 1..2, dilation 1..3, pointwise), and training on the wasm backend.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { initBackend } from '../../src/train/backend.js';
import { initParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { decodeWeights } from '../../src/qmodel/coding/index.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';
import { quantizedOps } from '../../src/ops/registry.js';
import { tempDir } from '../helpers/temp.js';
import { pruneFilters } from '../../src/compress/prune.js';
import { conv2dCustomGrad, padInput2d } from '../../src/train/conv2d.js';
import { makeRng, randInt } from '../helpers/randomModel.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { CODINGS } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { randomInput } from '../helpers/randomModel.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { buildView } from '../../src/codegen/view.js';
import type { QConv2D } from '../../src/ops/conv2d.js';
import { expectTrainsAndAgrees, syntheticData, trainAndCompress } from '../helpers/trainCompress.js';
import { convBitExactTests, randomWindows } from './bitexactRuns.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Random models around Conv2D layers: every coding and width. */
function models(n: number, seed0: number): CompressedModel[] {
  return Array.from({ length: n }, (_, s) =>
    randomOpModel(seed0 + s, ['conv2d', 'conv2d'], { codings: [CODINGS[s % 3]], bits: [2 + (s % 7)] }),
  );
}

describe('Conv2D generated C', () => {
  const ms = models(42, 8200);
  const inputs = ms.map((m, i) => randomWindows(m, i, 6));

  it('draws every kind of window: strided, dilated, padded, pointwise, odd segments', () => {
    const seen = new Set<string>();
    for (const m of ms)
      for (const l of buildView(m).view.layers) {
        if (l.kind !== 'conv2d') continue;
        const q = m.layers[l.index] as QConv2D;
        const mac = l.mac as {
          pointwise: boolean;
          grid: { respace: boolean; rowCopy: boolean; unrolled: boolean } | null;
        };
        if (mac.pointwise) seen.add('pointwise-fast');
        seen.add(q.padding).add(mac.grid ? 'grid' : 'pointwise');
        if (q.strides.some((s) => s > 1)) seen.add('strided');
        if (q.dilation.some((d) => d > 2)) seen.add('dilation3');
        if (mac.grid?.respace) seen.add('respace');
        if (mac.grid) seen.add(mac.grid.unrolled ? 'grid-unrolled' : 'grid-loop');
        if (mac.grid && !mac.grid.rowCopy) seen.add('phases');
        seen.add((l.weights as { coding: string }).coding);
      }
    const want = [
      'same',
      'valid',
      'grid',
      'pointwise',
      'strided',
      'dilation3',
      'respace',
      'phases',
      ...CODINGS,
    ];
    for (const w of want) expect(seen).toContain(w);
  });

  convBitExactTests('conv2d', ms, inputs, dirs);
});

/** The definition, spelt out: an explicitly zero-padded input, every tap, a rounding shift (ties up). */
function bruteForce(q: QConv2D, x: Int8Array): Int8Array {
  const [H, W, C] = q.inShape;
  const [OH, OW, F] = q.outShape;
  const [kh, kw] = q.kernelSize;
  const Hp = H + 2 * (kh * q.dilation[0] + q.strides[0]);
  const Wp = W + 2 * (kw * q.dilation[1] + q.strides[1]);
  const padded = new Float64Array(Hp * Wp * C);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let c = 0; c < C; c++)
        padded[((h + q.pad[0]) * Wp + w + q.pad[1]) * C + c] = x[(h * W + w) * C + c];
  const wts = decodeWeights(q.weights).values;
  const n = kh * kw * C;
  const y = new Int8Array(OH * OW * F);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let o = 0; o < F; o++) {
        let acc = q.bias[o];
        for (let r = 0; r < kh; r++)
          for (let s = 0; s < kw; s++)
            for (let c = 0; c < C; c++) {
              const v =
                padded[
                  ((oy * q.strides[0] + r * q.dilation[0]) * Wp + ox * q.strides[1] + s * q.dilation[1]) * C +
                    c
                ];
              acc += v * wts[o * n + (r * kw + s) * C + c];
            }
        const shift = q.inFrac + (q.wFrac.length === 1 ? q.wFrac[0] : q.wFrac[o]) - q.outFrac;
        let v = Math.floor(acc / 2 ** shift + 0.5);
        v = Math.max(q.relu ? 0 : -128, Math.min(127, v));
        y[(oy * OW + ox) * F + o] = v;
      }
  return y;
}

describe('Conv2D integer reference', () => {
  it('is the definition on 300 random layers', () => {
    let layers = 0;
    for (let s = 0; s < 150; s++) {
      const m = randomOpModel(9100 + s, ['conv2d', 'conv2d']);
      const rng = makeRng(s);
      for (const l of m.layers) {
        if (l.kind !== 'conv2d') continue;
        const q = l as QConv2D;
        const size = q.inShape.reduce((a, b) => a * b, 1);
        const x = Int8Array.from({ length: size }, () => randInt(rng, -128, 127));
        const vals = decodeWeights(q.weights).values;
        const n = q.weights.rowLength;
        const got = quantizedOps('conv2d').reference(q, [x], (o) => vals.subarray(o * n, (o + 1) * n));
        expect(Array.from(got)).toEqual(Array.from(bruteForce(q, x)));
        layers++;
      }
    }
    expect(layers).toBe(300);
  });
});

describe('Conv2D training and compression (wasm backend)', () => {
  beforeAll(async () => {
    await initBackend({ quiet: true });
  });
  const { dataset, data } = syntheticData(5, 200, 80);
  const graph = archToGraph(
    {
      layers: [
        { type: 'reshape', targetShape: [32, 4, 9] },
        { type: 'conv2d', filters: 6, kernelSize: [3, 2], strides: [2, 1], padding: 'same' },
        { type: 'batchnorm' },
        { type: 'relu' },
        { type: 'conv2d', filters: 5, kernelSize: 3, dilation: [2, 1], padding: 'same', activation: 'relu' },
        { type: 'conv2d', filters: 7, kernelSize: 1, activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 'classes' },
      ],
    },
    { inputShape: [128, 9], classNames: dataset.classNames },
  );
  const convs = graph.layers.filter((l) => l.kind === 'conv2d').map((l) => l.name);

  it('trains (the custom gradient moves every kernel), and tfjs and the float forward agree', async () => {
    await expectTrainsAndAgrees(graph, data, convs);
  });

  it('saves as Conv2D in model.json and loads back with its attributes', async () => {
    const dir = join(tempDir(), 'conv2d');
    const model = { graph, params: initParams(graph, 4) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const loaded = loadModelDir(dir).model;
    const pick = (l: unknown) => {
      const c = l as {
        kind: string;
        kernelSize: unknown;
        strides: unknown;
        dilation: unknown;
        padding: unknown;
        filters: unknown;
      };
      return [c.kind, c.filters, c.kernelSize, c.strides, c.dilation, c.padding];
    };
    expect(loaded.graph.layers.filter((l) => l.kind === 'conv2d').map(pick)).toEqual(
      graph.layers.filter((l) => l.kind === 'conv2d').map(pick),
    );
    for (const n of convs)
      expect(Array.from(loaded.params[n].kernel!)).toEqual(Array.from(model.params[n].kernel!));
  });

  it('compresses (BatchNorm folded), and the reference agrees with the float model on most windows', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 6, epochs: 3 });
    expect(q.layers.map((l) => l.kind)).toEqual([
      'reshape',
      'conv2d',
      'conv2d',
      'conv2d',
      'flatten',
      'dense',
    ]);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.08);
  });
});

describe('Conv2D custom gradient', () => {
  it('equals the autodiff gradients of tf.conv2d (cpu backend) on random geometries', async () => {
    const was = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const rng = makeRng(77);
      for (let i = 0; i < 24; i++) {
        const k: [number, number] = [randInt(rng, 1, 3), randInt(rng, 1, 3)];
        const dilated = i % 2 === 1;
        const strides: [number, number] = dilated ? [1, 1] : [randInt(rng, 1, 2), randInt(rng, 1, 2)];
        const dilation: [number, number] = dilated ? [randInt(rng, 1, 3), randInt(rng, 1, 3)] : [1, 1];
        const padding = i % 4 < 2 ? 'same' : 'valid';
        const shape: [number, number, number, number] = [
          2,
          randInt(rng, 7, 11),
          randInt(rng, 7, 11),
          randInt(rng, 1, 3),
        ];
        const x = tf.randomNormal(shape, 0, 1, 'float32', i) as tf.Tensor4D;
        const w = tf.randomNormal([k[0], k[1], shape[3], 3], 0, 1, 'float32', 100 + i) as tf.Tensor4D;
        // sum(sin(y)): dy = cos(y) differs at every output.
        const loss = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.sin(f(a as tf.Tensor4D, b as tf.Tensor4D)));
        const ours = tf.grads(loss((a, b) => conv2dCustomGrad(a, b, strides, padding, dilation)))([x, w]);
        // tfjs has no gradient for dilated conv2d: the same sum as an undilated conv with the kernel
        // spread by a 0/1 matrix (a matMul, differentiable) over the explicitly padded input.
        const spanH = (k[0] - 1) * dilation[0] + 1;
        const spanW = (k[1] - 1) * dilation[1] + 1;
        const spreadM = tf.tensor2d(
          Array.from({ length: k[0] * k[1] * spanH * spanW }, (_, e) => {
            const tap = Math.floor(e / (spanH * spanW));
            const at = e % (spanH * spanW);
            const r = Math.floor(tap / k[1]);
            const c = tap % k[1];
            return at === r * dilation[0] * spanW + c * dilation[1] ? 1 : 0;
          }),
          [k[0] * k[1], spanH * spanW],
        );
        const theirs = tf.grads(
          loss((a, b) => {
            const wd = tf
              .matMul(spreadM, b.reshape([k[0] * k[1], -1]), true, false)
              .reshape([spanH, spanW, shape[3], 3]) as tf.Tensor4D;
            return tf.conv2d(padInput2d(a, k, strides, padding, dilation), wd, strides, 'valid');
          }),
        )([x, w]);
        for (let j = 0; j < 2; j++) {
          const a = ours[j].dataSync();
          const b = theirs[j].dataSync();
          expect(a.length).toBe(b.length);
          for (let e = 0; e < a.length; e++) expect(a[e]).toBeCloseTo(b[e], 3);
        }
      }
    } finally {
      await tf.setBackend(was);
    }
  });
});

describe('Conv2D in a .tfm file', () => {
  it('round-trips with its kernel, strides, dilation and padding, and runs the same', () => {
    for (const m of models(12, 8600)) {
      const back = decodeTfm(encodeTfm(m));
      const fields = (mm: CompressedModel) =>
        mm.layers
          .filter((l) => l.kind === 'conv2d')
          .map((l) => {
            const q = l as QConv2D;
            return [q.kernelSize, q.strides, q.dilation, q.padding, q.pad, q.filters];
          });
      expect(fields(back)).toEqual(fields(m));
      const x = randomInput(m, 3);
      expect(Array.from(runPrepared(prepareReference(back), x).logits)).toEqual(
        Array.from(runPrepared(prepareReference(m), x).logits),
      );
    }
  });
});

describe('Conv2D structured pruning', () => {
  it('drops whole filters and the input channels that read them: the outputs do not change', () => {
    const graph = archToGraph(
      {
        layers: [
          { type: 'reshape', targetShape: [16, 8, 9] },
          { type: 'conv2d', name: 'a', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
          { type: 'conv2d', name: 'b', filters: 6, kernelSize: [2, 3], strides: 2, activation: 'relu' },
          { type: 'flatten' },
          { type: 'dense', units: 'classes' },
        ],
      },
      { inputShape: [128, 9], classNames: ['x', 'y', 'z'] },
    );
    const params = initParams(graph, 9);
    // Filters 1, 4, 6, 7 of 'a' and 0, 3, 5 of 'b' are zero: the weakest, so pruning half drops them,
    // and a zero filter (no bias) after ReLU adds nothing downstream.
    for (const [name, co, drop] of [
      ['a', 8, [1, 4, 6, 7]],
      ['b', 6, [0, 3, 5]],
    ] as const) {
      const k = params[name].kernel!;
      for (let i = 0; i < k.length; i++) if ((drop as readonly number[]).includes(i % co)) k[i] = 0;
    }
    const model = { graph, params };
    const pruned = pruneFilters(model, 0.5);
    const filters = pruned.graph.layers
      .filter((l) => l.kind === 'conv2d')
      .map((l) => (l as unknown as { filters: number }).filters);
    expect(filters).toEqual([4, 3]);
    const x = Float32Array.from({ length: 128 * 9 }, (_, i) => Math.sin(i * 0.37));
    const a = floatForward(model, x).outputs;
    const b = floatForward(pruned, x).outputs;
    const last = (o: Float32Array[]) => Array.from(o[o.length - 1]);
    last(b).forEach((v, i) => expect(v).toBeCloseTo(last(a)[i], 4));
  });
});
