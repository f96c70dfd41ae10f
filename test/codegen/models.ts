// Hand-built models for the corners random models do not reach: a ReLU writing the logits in
// place, Flatten straight off the input, a model that is only a view of its input, a kernel as long
// as the sequence, long zero runs split at MAX_RUN, a one-symbol Huffman code, 8-bit direct weights.
import { encodeWeights, type CodingChoice } from '../../src/qmodel/coding/weights.js';
import type { CompressedModel, QLayer } from '../../src/qmodel/model.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import type { QDense } from '../../src/ops/dense.js';
import type { QAvgPool1D } from '../../src/ops/avgpool1d.js';
import type { QMaxPool1D } from '../../src/ops/maxpool1d.js';
import type { QFormatKeeping } from '../../src/ops/formatKeeping.js';
import { outLength, padLeft, type Padding } from '../../src/graph/ir.js';
import { checkModel } from '../../src/qmodel/check.js';
import { makeRng, randInt } from '../helpers/randomModel.js';

type Shape = [number, number];

export interface WeightSpec {
  bits: number;
  coding: CodingChoice;
  /** Fraction of zero weights. */
  sparsity?: number;
  seed: number;
}

function values(n: number, spec: WeightSpec): Int8Array {
  const rng = makeRng(spec.seed);
  const hi = 2 ** (spec.bits - 1) - 1;
  return Int8Array.from({ length: n }, () => (rng() < (spec.sparsity ?? 0) ? 0 : randInt(rng, -hi - 1, hi)));
}

export function conv(
  name: string,
  inShape: Shape,
  o: {
    filters: number;
    k: number;
    stride: number;
    padding: Padding;
    relu?: boolean;
    frac: number;
    outFrac: number;
  },
  w: WeightSpec,
  wFrac: number[] = [3],
): QConv1D {
  const [T, C] = inShape;
  const L = outLength(T, o.k, o.stride, o.padding);
  return {
    kind: 'conv1d',
    name,
    inShape,
    outShape: [L, o.filters],
    filters: o.filters,
    kernelSize: o.k,
    stride: o.stride,
    padding: o.padding,
    padLeft: padLeft(T, o.k, o.stride, o.padding),
    relu: o.relu ?? false,
    inFrac: o.frac,
    outFrac: o.outFrac,
    wFrac,
    bias: Int32Array.from({ length: o.filters }, (_, i) => (i % 3) * 37 - 40),
    weights: encodeWeights(values(o.filters * o.k * C, w), o.filters, o.k * C, w.bits, w.coding),
  };
}

export function dense(
  name: string,
  inShape: Shape,
  o: { units: number; relu?: boolean; frac: number; outFrac: number },
  w: WeightSpec,
  wFrac: number[] = [3],
): QDense {
  const F = inShape[0] * inShape[1];
  return {
    kind: 'dense',
    name,
    inShape,
    outShape: [1, o.units],
    units: o.units,
    relu: o.relu ?? false,
    inFrac: o.frac,
    outFrac: o.outFrac,
    wFrac,
    bias: Int32Array.from({ length: o.units }, (_, i) => i * 11 - 20),
    weights: encodeWeights(values(o.units * F, w), o.units, F, w.bits, w.coding),
  };
}

export function pool(
  kind: 'maxpool1d' | 'avgpool1d',
  name: string,
  inShape: Shape,
  o: { size: number; stride: number; padding: Padding; frac: number },
): QMaxPool1D | QAvgPool1D {
  const [T, C] = inShape;
  return {
    kind,
    name,
    inShape,
    outShape: [outLength(T, o.size, o.stride, o.padding), C],
    poolSize: o.size,
    stride: o.stride,
    padding: o.padding,
    padLeft: padLeft(T, o.size, o.stride, o.padding),
    frac: o.frac,
  };
}

export function simple(
  kind: 'gap1d' | 'flatten' | 'relu',
  name: string,
  inShape: Shape,
  frac: number,
): QFormatKeeping {
  const [T, C] = inShape;
  const outShape: Shape = kind === 'gap1d' ? [1, C] : kind === 'flatten' ? [1, T * C] : [T, C];
  return { kind, name, inShape, outShape, frac };
}

export function model(inputShape: Shape, inputFrac: number, layers: QLayer[]): CompressedModel {
  const [, C] = inputShape;
  const last = layers[layers.length - 1].outShape;
  const m: CompressedModel = {
    inputShape,
    classNames: Array.from({ length: last[0] * last[1] }, (_, i) => `c${i}`),
    normalization: { mean: new Array<number>(C).fill(0.5), std: new Array<number>(C).fill(2) },
    inputFrac,
    layers,
    meta: {},
  };
  checkModel(m);
  return m;
}

/** Every corner case, each a small valid model. */
export function edgeModels(): { name: string; model: CompressedModel }[] {
  const f = 4;
  return [
    {
      // Conv then standalone ReLU: the ReLU runs in place on the caller's logits.
      name: 'relu-in-place-on-logits',
      model: model([7, 2], f, [
        conv(
          'conv',
          [7, 2],
          { filters: 2, k: 3, stride: 2, padding: 'valid', frac: f, outFrac: 5 },
          { bits: 4, coding: 'packed', seed: 1 },
        ),
        simple('relu', 'relu', [3, 2], 5),
      ]),
    },
    {
      // Flatten is a view of the input: the Dense reads the caller's buffer.
      name: 'flatten-off-the-input',
      model: model([5, 3], f, [
        simple('flatten', 'flatten', [5, 3], f),
        dense('dense', [1, 15], { units: 4, frac: f, outFrac: 5 }, { bits: 5, coding: 'huffman', seed: 2 }),
      ]),
    },
    {
      // Nothing computes: tf_model_run copies the input to the logits.
      name: 'only-a-view',
      model: model([3, 1], f, [simple('flatten', 'flatten', [3, 1], f)]),
    },
    {
      // A ReLU of the input must not overwrite it (it is const): the output goes to the arena.
      name: 'relu-of-the-input',
      model: model([6, 3], f, [simple('relu', 'relu', [6, 3], f), simple('gap1d', 'gap', [6, 3], f)]),
    },
    {
      // Kernel as long as the sequence ('valid'), even kernel with 'same' and stride 2 (pad goes right).
      name: 'kernel-as-long-as-the-input',
      model: model([6, 3], f, [
        conv(
          'conv_same',
          [6, 3],
          { filters: 3, k: 4, stride: 2, padding: 'same', relu: true, frac: f, outFrac: 4 },
          { bits: 3, coding: 'rle-huffman', sparsity: 0.5, seed: 3 },
          [2, 3, 4],
        ),
        conv(
          'conv_full',
          [3, 3],
          { filters: 2, k: 3, stride: 1, padding: 'valid', frac: 4, outFrac: 4 },
          { bits: 6, coding: 'huffman', seed: 4 },
        ),
        simple('flatten', 'flatten', [1, 2], 4),
      ]),
    },
    {
      // Long zero runs (split at MAX_RUN = 256, trailing runs) and rows that are all zero.
      name: 'long-zero-runs',
      model: model([40, 15], f, [
        simple('flatten', 'flatten', [40, 15], f),
        dense(
          'dense_sparse',
          [1, 600],
          { units: 3, frac: f, outFrac: 3 },
          { bits: 7, coding: 'rle-huffman', sparsity: 0.995, seed: 5 },
        ),
      ]),
    },
    {
      // All-zero weights in 'huffman': a one-symbol code (length 1), and in 'rle-huffman' only runs.
      name: 'one-symbol-codes',
      model: model([9, 2], f, [
        conv(
          'conv_zero',
          [9, 2],
          { filters: 2, k: 2, stride: 1, padding: 'same', frac: f, outFrac: 4 },
          { bits: 2, coding: 'huffman', sparsity: 1, seed: 6 },
        ),
        conv(
          'conv_zero_rle',
          [9, 2],
          { filters: 3, k: 3, stride: 2, padding: 'same', frac: 4, outFrac: 4 },
          { bits: 2, coding: 'rle-huffman', sparsity: 1, seed: 7 },
        ),
        simple('gap1d', 'gap', [5, 3], 4),
      ]),
    },
    {
      // 8-bit packed weights are whole bytes: kernels read them straight from flash (no scratch).
      name: 'direct-8-bit',
      model: model([11, 3], f, [
        conv(
          'conv8',
          [11, 3],
          { filters: 5, k: 3, stride: 1, padding: 'same', relu: true, frac: f, outFrac: 2 },
          { bits: 8, coding: 'packed', seed: 8 },
          [7, 6, 5, 7, 6],
        ),
        pool('avgpool1d', 'avg', [11, 5], { size: 3, stride: 2, padding: 'same', frac: 2 }),
        pool('maxpool1d', 'max', [6, 5], { size: 2, stride: 1, padding: 'valid', frac: 2 }),
        simple('flatten', 'flatten', [5, 5], 2),
        dense(
          'dense8',
          [1, 25],
          { units: 3, frac: 2, outFrac: 1 },
          { bits: 8, coding: 'packed', seed: 9 },
          [6],
        ),
      ]),
    },
  ];
}
