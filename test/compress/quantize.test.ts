import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { FloatModel } from '../../src/graph/ir.js';
import { inferShapes } from '../../src/graph/ir.js';
import { isConv, isDense, type AnyLayer } from '../helpers/layers.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { fakeQuantRows, kernelRows, quantizeModel, weightFracs } from '../../src/compress/quantize.js';
import { fakeQuantKernel } from '../../src/compress/finetune.js';
import { encodeWeights, decodeWeights } from '../../src/qmodel/coding/index.js';
import { checkModel, runReference } from '../../src/reference/index.js';
import { quantizeInput } from '../../src/fixedpoint/semantics.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function model(seed: number): FloatModel {
  const r = rng(seed);
  const arr = (n: number, scale: number) => Float32Array.from({ length: n }, () => r() * scale);
  const layers: AnyLayer[] = [
    {
      kind: 'conv1d',
      name: 'c1',
      filters: 8,
      kernelSize: 5,
      stride: 1,
      padding: 'same',
      activation: 'linear',
      useBias: true,
    },
    { kind: 'relu', name: 'r1' },
    { kind: 'maxpool1d', name: 'p1', poolSize: 2, stride: 2, padding: 'valid' },
    {
      kind: 'conv1d',
      name: 'c2',
      filters: 12,
      kernelSize: 3,
      stride: 2,
      padding: 'valid',
      activation: 'relu',
      useBias: true,
    },
    { kind: 'gap1d', name: 'g' },
    { kind: 'dense', name: 'd', units: 4, activation: 'linear', useBias: true },
    { kind: 'softmax', name: 's' },
  ];
  return {
    graph: {
      inputShape: [32, 4],
      classNames: ['a', 'b', 'c', 'd'],
      layers,
    },
    params: {
      c1: { kernel: arr(5 * 4 * 8, 0.4), bias: arr(8, 0.1) },
      c2: { kernel: arr(3 * 8 * 12, 0.3), bias: arr(12, 0.1) },
      d: { kernel: arr(12 * 4, 0.5), bias: arr(4, 0.1) },
    },
  };
}

const inputs = (n: number, seed: number) => Float32Array.from({ length: n * 32 * 4 }, rng(seed));

describe('quantizeModel', () => {
  for (const [bits, perChannel] of [
    [8, true],
    [8, false],
    [4, true],
    [2, true],
  ] as const) {
    it(`${bits}-bit ${perChannel ? 'per-channel' : 'per-layer'}: valid model whose logits track the float logits`, () => {
      const m = model(bits * 10 + (perChannel ? 1 : 0));
      const cal = inputs(64, 5);
      const q = quantizeModel(m, {
        bits,
        perChannel,
        calibration: { windows: cal, n: 64 },
        normalization: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
        encode: (v, rows, len, b) => encodeWeights(v, rows, len, b, 'packed'),
      });
      checkModel(q); // shifts in range, accumulator bound, shapes chain
      expect(q.layers.map((l) => l.kind)).toEqual(['conv1d', 'maxpool1d', 'conv1d', 'gap1d', 'dense']);
      const first = q.layers[0];
      expect(isConv(first) && first.relu).toBe(true); // standalone ReLU fused
      const last = q.layers[4];
      if (!isDense(last)) throw new Error('expected dense');
      // Compare dequantized integer logits with float logits (pre-softmax) on fresh inputs.
      const infos = inferShapes(m.graph);
      const test = inputs(50, 77);
      let agree = 0;
      let err = 0;
      let scale = 0;
      for (let i = 0; i < 50; i++) {
        const x = test.subarray(i * 128, (i + 1) * 128);
        const f = floatForward(m, x, infos).outputs[5];
        const qi = Int8Array.from(x, (v) => quantizeInput(v, q.inputFrac));
        const r = runReference(q, qi);
        const outFrac = last.outFrac;
        for (let c = 0; c < 4; c++) {
          err += Math.abs(r.logits[c] / 2 ** outFrac - f[c]);
          scale += Math.abs(f[c]);
        }
        const fa = f.indexOf(Math.max(...f));
        if (fa === r.classIndex) agree++;
      }
      const rel = err / scale;
      // Post-training error grows as bits shrink; 2 bits needs fine-tuning, so only validity is checked there.
      if (bits >= 4) expect(rel).toBeLessThan(bits === 8 ? 0.08 : 0.35);
      if (bits === 8) expect(agree).toBeGreaterThanOrEqual(45);
    });
  }

  it('stored weights decode to the values rounded on the per-channel grid', () => {
    const m = model(3);
    const q = quantizeModel(m, {
      bits: 5,
      perChannel: true,
      calibration: { windows: inputs(16, 1), n: 16 },
      normalization: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
      encode: (v, rows, len, b) => encodeWeights(v, rows, len, b, 'huffman'),
    });
    const l = q.layers[0];
    if (!isConv(l)) throw new Error('expected conv1d');
    const info = inferShapes(m.graph)[0];
    const rows = kernelRows(info, m.params.c1.kernel!);
    const { values } = decodeWeights(l.weights);
    for (let o = 0; o < 8; o++)
      for (let i = 0; i < 20; i++) {
        const w = rows.data[o * 20 + i];
        expect(Math.abs(values[o * 20 + i] / 2 ** l.wFrac[o] - w)).toBeLessThanOrEqual(
          2 ** -l.wFrac[o] / 2 + 1e-9,
        );
      }
  });
});

describe('a channel with tiny weights and a large bias', () => {
  // A channel BatchNorm all but switched off (MLPerf Tiny's VWW has them): its weights alone would
  // take ~30 fraction bits, and its bias at that scale would overflow the int32 accumulator.
  for (const perChannel of [true, false])
    it(`${perChannel ? 'per channel' : 'per layer'}: takes fewer weight bits, keeps its bias and the bound`, () => {
      const m = model(5);
      const c2 = m.params.c2;
      for (let i = 0; i < c2.kernel!.length; i += 12) c2.kernel![i] = 1e-9 * (i % 7);
      c2.bias![0] = 3.5;
      const q = quantizeModel(m, {
        bits: 8,
        perChannel,
        calibration: { windows: inputs(32, 5), n: 32 },
        normalization: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
        encode: (v, rows, len, b) => encodeWeights(v, rows, len, b, 'packed'),
      });
      checkModel(q);
      const conv = q.layers[2];
      if (!isConv(conv)) throw new Error('expected conv');
      const accFrac = conv.inFrac + conv.wFrac[0];
      expect(conv.bias[0] / 2 ** accFrac).toBeCloseTo(3.5, 3);
      expect(Math.abs(conv.bias[0])).toBeLessThan(2 ** 30);
    });
});

describe('fake quantization for fine-tuning', () => {
  it('puts the weights on the same grid as deployment quantization', async () => {
    await tf.setBackend('cpu');
    const m = model(9);
    const info = inferShapes(m.graph)[3];
    const w = m.params.c2.kernel!;
    for (const bits of [2, 4, 8]) {
      for (const perChannel of [true, false]) {
        const fq = tf.tidy(
          () => fakeQuantKernel(tf.tensor3d(w, [3, 8, 12]), bits, perChannel).dataSync() as Float32Array,
        );
        const rows = kernelRows(info, w);
        const fr = weightFracs(rows.data, rows.rows, rows.rowLength, bits, perChannel);
        const expected = fakeQuantRows(rows.data, rows.rows, rows.rowLength, bits, fr);
        const got = kernelRows(info, fq).data;
        for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i], 6);
      }
    }
  });
  it('passes gradients straight through', async () => {
    await tf.setBackend('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuantKernel(x, 4, true), 3)));
    const grad = g(tf.tensor2d([0.1, -0.3, 0.25, 0.7], [2, 2])).dataSync();
    expect(Array.from(grad)).toEqual([3, 3, 3, 3]);
  });
});
