// Hand-computed cases per layer kind: every expected number below is worked out in the comments.
import { describe, expect, it } from 'vitest';
import { encodeWeights } from '../../src/qmodel/coding/weights.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import type { QDense } from '../../src/ops/dense.js';
import type { AnyQLayer, QKeeping } from '../helpers/layers.js';
import type { Coding } from '../../src/qmodel/model.js';
import { CODINGS } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/interpreter.js';

/** A model made of the given layers (the last layer's outputs are the logits). */
function modelOf(inputShape: [number, number], inputFrac: number, layers: AnyQLayer[]): CompressedModel {
  const [T, C] = layers[layers.length - 1].outShape;
  return {
    inputShape,
    classNames: Array.from({ length: T * C }, (_, i) => `c${i}`),
    normalization: {
      mean: new Array<number>(inputShape[1]).fill(0),
      std: new Array<number>(inputShape[1]).fill(1),
    },
    inputFrac,
    layers,
    meta: {},
  };
}

function conv(
  p: Partial<QConv1D> & {
    inShape: [number, number];
    outShape: [number, number];
    w: number[];
    bits: number;
    coding?: Coding;
  },
): QConv1D {
  const [, Cin] = p.inShape;
  const filters = p.outShape[1];
  const k = p.kernelSize ?? 1;
  return {
    kind: 'conv1d',
    name: 'conv',
    inShape: p.inShape,
    outShape: p.outShape,
    filters,
    kernelSize: k,
    stride: p.stride ?? 1,
    padding: p.padding ?? 'valid',
    padLeft: p.padLeft ?? 0,
    relu: p.relu ?? false,
    inFrac: p.inFrac ?? 0,
    outFrac: p.outFrac ?? 0,
    wFrac: p.wFrac ?? [0],
    bias: p.bias ?? new Int32Array(filters),
    weights: encodeWeights(p.w, filters, k * Cin, p.bits, p.coding ?? 'packed'),
  };
}

const run = (m: CompressedModel, x: number[]): number[] => [...runReference(m, Int8Array.from(x)).logits];

describe('conv1d', () => {
  const x = [10, -20, 30, 40, -50];
  it('1 channel, k=3, stride 1, same (padLeft 1), shift 0 with saturation', () => {
    // y[t] = x[t-1]*1 + x[t]*2 + x[t+1]*(-1), zero outside:
    // y0 = 0 + 20 + 20 = 40; y1 = 10 - 40 - 30 = -60; y2 = -20 + 60 - 40 = 0;
    // y3 = 30 + 80 + 50 = 160 -> 127; y4 = 40 - 100 + 0 = -60
    for (const coding of CODINGS) {
      const m = modelOf([5, 1], 0, [
        conv({
          inShape: [5, 1],
          outShape: [5, 1],
          kernelSize: 3,
          padding: 'same',
          padLeft: 1,
          w: [1, 2, -1],
          bits: 3,
          coding,
        }),
      ]);
      expect(run(m, x)).toEqual([40, -60, 0, 127, -60]);
    }
  });

  it('rounds half up when shifting (bias 1, wFrac 1: s = 1)', () => {
    // acc = previous + 1 = 41, -59, 1, 161, -59; y = floor((acc + 1) / 2) = 21, -29, 1, 81, -29
    const m = modelOf([5, 1], 0, [
      conv({
        inShape: [5, 1],
        outShape: [5, 1],
        kernelSize: 3,
        padding: 'same',
        padLeft: 1,
        w: [1, 2, -1],
        bits: 3,
        wFrac: [1],
        bias: Int32Array.of(1),
      }),
    ]);
    expect(run(m, x)).toEqual([21, -29, 1, 81, -29]);
  });

  it('2 -> 2 channels, k=2, stride 2, valid, per-channel wFrac, fused relu', () => {
    // input [t][c]: t0 (1, 2), t1 (3, 4), t2 (5, 6), t3 (7, 8), t4 (9, 10); L = floor((5-2)/2)+1 = 2
    // row 0 = w[0][j][c]: (1, 0), (0, 1): acc = x[2t][0] + x[2t+1][1]       -> t0: 1+4 = 5,  t1: 5+8 = 13
    // row 1 = (-1, -1), (2, 0):            acc = -x[2t][0]-x[2t][1]+2x[2t+1][0] -> t0: -3+6 = 3, t1: -11+14 = 3
    // bias (0, -10): ch1 acc = -7, -7. inFrac 1, wFrac (1, 2), outFrac 1 -> s = (1, 2)
    // ch0: floor((5+1)/2) = 3, floor((13+1)/2) = 7; ch1: floor((-7+2)/4) = -2 -> relu 0
    const m = modelOf([5, 2], 1, [
      conv({
        inShape: [5, 2],
        outShape: [2, 2],
        kernelSize: 2,
        stride: 2,
        w: [1, 0, 0, 1, -1, -1, 2, 0],
        bits: 4,
        inFrac: 1,
        outFrac: 1,
        wFrac: [1, 2],
        bias: Int32Array.of(0, -10),
        relu: true,
      }),
    ]);
    expect(run(m, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([3, 0, 7, 0]);
  });
});

describe('dense', () => {
  it('uses channels-last features and per-channel shifts', () => {
    // x = (t0: 1, 2), (t1: 3, 4) flattened as 1, 2, 3, 4.
    // unit 0: w = (1, 1, 1, 1), bias 0: acc 10, s = 0 -> 10
    // unit 1: w = (0, 0, 0, -2), bias 3: acc = -5, s = 1 -> floor((-5 + 1)/2) = -2
    const dense: QDense = {
      kind: 'dense',
      name: 'fc',
      inShape: [1, 4],
      outShape: [1, 2],
      units: 2,
      relu: false,
      inFrac: 2,
      outFrac: 2,
      wFrac: [0, 1],
      bias: Int32Array.of(0, 3),
      weights: encodeWeights([1, 1, 1, 1, 0, 0, 0, -2], 2, 4, 3, 'rle-huffman'),
    };
    const flatten: QKeeping = { kind: 'flatten', name: 'flat', inShape: [2, 2], outShape: [1, 4], frac: 2 };
    const m = modelOf([2, 2], 2, [flatten, dense]);
    const r = runReference(m, Int8Array.of(1, 2, 3, 4), { keepLayerOutputs: true });
    expect([...r.logits]).toEqual([10, -2]);
    expect(r.classIndex).toBe(0);
    expect(r.layerOutputs!.map((o) => [...o])).toEqual([
      [1, 2, 3, 4],
      [10, -2],
    ]);
  });
});

describe('pooling, gap, relu', () => {
  const x = [4, -3, 7, 1, -8]; // T = 5, C = 1

  it('maxpool same ignores padded positions', () => {
    // pool 2 stride 2 same: L = 3, total pad = 1, padLeft 0: windows [4,-3], [7,1], [-8]
    const m = modelOf([5, 1], 0, [
      {
        kind: 'maxpool1d',
        name: 'p',
        inShape: [5, 1],
        outShape: [3, 1],
        poolSize: 2,
        stride: 2,
        padding: 'same',
        padLeft: 0,
        frac: 0,
      },
    ]);
    expect(run(m, x)).toEqual([4, 7, -8]);
    // A window of padding + negative values: padding is not a zero candidate.
    expect(run(m, [-5, -6, -7, -1, -9])).toEqual([-5, -1, -9]);
  });

  it('avgpool same does not count padded positions and rounds half up', () => {
    // pool 3 stride 1 same: padLeft 1. windows: [4,-3] sum 1 n 2 -> floor(4/4) = 1 (0.5 -> 1);
    // [4,-3,7] 8/3 -> floor(22/6) = 3; [-3,7,1] 5/3 -> floor(16/6) = 2; [7,1,-8] 0 -> 0;
    // [1,-8] -7/2 = -3.5 -> floor(-12/4) = -3
    const m = modelOf([5, 1], 0, [
      {
        kind: 'avgpool1d',
        name: 'p',
        inShape: [5, 1],
        outShape: [5, 1],
        poolSize: 3,
        stride: 1,
        padding: 'same',
        padLeft: 1,
        frac: 0,
      },
    ]);
    expect(run(m, x)).toEqual([1, 3, 2, 0, -3]);
  });

  it('avgpool valid, stride 2', () => {
    // pool 2 stride 2 valid: L = 2: [4,-3] 0.5 -> 1, [7,1] 4 -> 4
    const m = modelOf([5, 1], 0, [
      {
        kind: 'avgpool1d',
        name: 'p',
        inShape: [5, 1],
        outShape: [2, 1],
        poolSize: 2,
        stride: 2,
        padding: 'valid',
        padLeft: 0,
        frac: 0,
      },
    ]);
    expect(run(m, x)).toEqual([1, 4]);
  });

  it('gap averages each channel over time; relu clamps negatives', () => {
    // channels: c0 = 1, 2 -> 1.5 -> 2; c1 = -1, -2 -> -1.5 -> -1; c2 = 127, 127 -> 127
    const m = modelOf([2, 3], 0, [
      { kind: 'gap1d', name: 'g', inShape: [2, 3], outShape: [1, 3], frac: 0 },
      { kind: 'relu', name: 'r', inShape: [1, 3], outShape: [1, 3], frac: 0 },
    ]);
    const r = runReference(m, Int8Array.of(1, -1, 127, 2, -2, 127), { keepLayerOutputs: true });
    expect([...r.layerOutputs![0]]).toEqual([2, -1, 127]);
    expect([...r.logits]).toEqual([2, 0, 127]);
  });
});
