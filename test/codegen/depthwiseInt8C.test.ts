// DepthwiseConv1D and DepthwiseConv2D under TFLite's int8 scheme: the generated C against the host
// reference (which equals TFLite's interpreter, test/import/tfliteInt8.test.ts), layer by layer, on
// hand-built models that reach every path of templates/kernels/depthwise.c.hbs: the one-row direct
// path (its bias holding the input offset, the padding read as the zero point), the unit-stride
// blocks, the generic strided and dilated loop; odd and even kernels, same/valid/causal padding, depth
// multipliers, partial channel groups, zero points from -128 to 100 (and 0), per-tensor and
// per-channel scales, every fused clamp and every weight coding. The int8 fixtures have no
// DepthwiseConv1D (the TFLite converter lowers it to a 2D one); test/codegen/tfliteInt8C.test.ts
// covers the imported DepthwiseConv2D ones. Host gcc and clang (portable C), QEMU (DSP and portable).
import { describe, expect, it } from 'vitest';
import { dwGeometry, type DwSpec, type QDepthwise8 } from '../../src/ops/depthwise.js';
import type { Int8Q } from '../../src/ops/int8.js';
import type { FusedActivation } from '../../src/fixedpoint/tflite.js';
import { encodeWeights } from '../../src/qmodel/coding/index.js';
import { checkModel } from '../../src/qmodel/check.js';
import { CODINGS, type Coding, type CompressedModel, type QLayer } from '../../src/qmodel/model.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { generateC } from '../../src/codegen/index.js';
import { everyBuild, referenceCrcs, type LayerCase } from '../kernels/layerChecks.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { makeRng, randInt } from '../helpers/randomModel.js';

interface DwCase {
  name: string;
  /** [T, C] (a DepthwiseConv1D on the input) or [H, W, C] (a Reshape, then a DepthwiseConv2D). */
  shape: number[];
  spec: DwSpec;
  zeroPoint: number;
  activation: FusedActivation;
  perTensor?: boolean;
}

const dw1 = (
  k: number,
  padding: DwSpec['padding'],
  o: { s?: number; d?: number; m?: number } = {},
): DwSpec => ({
  kh: 1,
  kw: k,
  sh: 1,
  sw: o.s ?? 1,
  dh: 1,
  dw: o.d ?? 1,
  mult: o.m ?? 1,
  padding,
});

const dw2 = (
  [kh, kw]: [number, number],
  padding: DwSpec['padding'],
  o: { s?: number; d?: number; m?: number } = {},
): DwSpec => ({ kh, kw, sh: o.s ?? 1, sw: o.s ?? 1, dh: o.d ?? 1, dw: o.d ?? 1, mult: o.m ?? 1, padding });

const CASES: DwCase[] = [
  { name: '1d k3 same', shape: [37, 4], spec: dw1(3, 'same'), zeroPoint: -128, activation: 'RELU' },
  {
    name: '1d k5 valid m2',
    shape: [23, 3],
    spec: dw1(5, 'valid', { m: 2 }),
    zeroPoint: 5,
    activation: 'NONE',
    perTensor: true,
  },
  { name: '1d k4 causal', shape: [19, 5], spec: dw1(4, 'causal'), zeroPoint: -3, activation: 'RELU6' },
  {
    name: '1d k2 same m3',
    shape: [9, 2],
    spec: dw1(2, 'same', { m: 3 }),
    zeroPoint: 100,
    activation: 'RELU_N1_TO_1',
  },
  {
    name: '1d k3 stride 2',
    shape: [20, 4],
    spec: dw1(3, 'same', { s: 2 }),
    zeroPoint: -60,
    activation: 'NONE',
  },
  {
    name: '1d k3 dilation 2 causal',
    shape: [16, 4],
    spec: dw1(3, 'causal', { d: 2 }),
    zeroPoint: 33,
    activation: 'RELU',
  },
  { name: '1d k7 same zero point 0', shape: [40, 8], spec: dw1(7, 'same'), zeroPoint: 0, activation: 'NONE' },
  { name: '1d k1', shape: [6, 4], spec: dw1(1, 'valid'), zeroPoint: -128, activation: 'NONE' },
  {
    name: '2d 3x3 KWS-like',
    shape: [25, 5, 8],
    spec: dw2([3, 3], 'same'),
    zeroPoint: -128,
    activation: 'RELU',
  },
  {
    name: '2d 3x3 six rows',
    shape: [6, 4, 4],
    spec: dw2([3, 3], 'same'),
    zeroPoint: -128,
    activation: 'RELU6',
  },
  {
    name: '2d 3x3 seven rows',
    shape: [7, 3, 4],
    spec: dw2([3, 3], 'same'),
    zeroPoint: -1,
    activation: 'NONE',
  },
  { name: '2d 3x3 few rows', shape: [3, 9, 4], spec: dw2([3, 3], 'same'), zeroPoint: 7, activation: 'NONE' },
  {
    name: '2d 2x3 valid m2',
    shape: [6, 7, 5],
    spec: dw2([2, 3], 'valid', { m: 2 }),
    zeroPoint: 17,
    activation: 'RELU6',
  },
  {
    name: '2d 3x3 stride 2',
    shape: [9, 8, 4],
    spec: dw2([3, 3], 'same', { s: 2 }),
    zeroPoint: -128,
    activation: 'RELU',
  },
  { name: '2d 1x3 one row', shape: [5, 6, 4], spec: dw2([1, 3], 'same'), zeroPoint: -20, activation: 'NONE' },
  {
    name: '2d 3x3 dilation 2',
    shape: [8, 8, 3],
    spec: dw2([3, 3], 'same', { d: 2 }),
    zeroPoint: 90,
    activation: 'NONE',
    perTensor: true,
  },
];

const IN_SCALE = 0.05;

/** The model of a case at a weight coding: random int8 weights, scales, biases (seeded by the case). */
function modelOf(c: DwCase, index: number, coding: Coding): CompressedModel {
  const rng = makeRng(1000 + index);
  const [T, C] = c.shape.length === 3 ? [c.shape[0] * c.shape[1], c.shape[2]] : [c.shape[0], c.shape[1]];
  const g = dwGeometry(c.spec, c.shape);
  const taps = g.kh * g.kw;
  const values = Int8Array.from({ length: g.OC * taps }, () => randInt(rng, -127, 127));
  const weightScales = Array.from({ length: c.perTensor ? 1 : g.OC }, () => 0.002 + 0.01 * rng());
  // Accumulators of about sqrt(taps) * 110 * 70; the output scale spreads them over about +-60 steps.
  const typical = Math.round(Math.sqrt(taps) * 110 * 70);
  const bias = Int32Array.from({ length: g.OC }, () => randInt(rng, -typical, typical));
  const output = { scale: (typical * IN_SCALE * 0.007) / 60, zeroPoint: randInt(rng, -20, 20) };
  const input = { scale: IN_SCALE, zeroPoint: c.zeroPoint };
  const kind = c.shape.length === 3 ? 'depthwise2d' : 'depthwise1d';
  const outShape = c.shape.length === 3 ? [g.OH, g.OW, g.OC] : [g.OW, g.OC];
  const layers: QLayer[] = [];
  if (c.shape.length === 3) {
    const reshape: Int8Q = {
      kind: 'reshape',
      name: 'reshape',
      inShape: [T, C],
      outShape: [...c.shape],
      input,
      output: input,
      activation: 'NONE',
    };
    layers.push(reshape);
  }
  const dw: QDepthwise8 = {
    kind,
    name: 'dw',
    inShape: [...c.shape],
    outShape,
    kernel: [g.kh, g.kw],
    strides: [g.sh, g.sw],
    dilation: [g.dh, g.dw],
    padding: g.padding,
    pad: [g.padTop, g.padLeft],
    depthMultiplier: g.mult,
    input,
    output,
    activation: c.activation,
    weightScales,
    bias,
    weights: encodeWeights(values, g.OC, taps, 8, coding),
  };
  layers.push(dw);
  const model: CompressedModel = {
    scheme: 'tflite-int8',
    affine: { input, output },
    inputShape: [T, C],
    // The whole output tensor is the logits (as for the imported fixtures).
    classNames: Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, (_, i) => `y${i}`),
    normalization: { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) },
    inputFrac: 0,
    layers,
    meta: { test: c.name, coding },
  };
  checkModel(model);
  return model;
}

const all: LayerCase[] = CASES.flatMap((c, i) =>
  CODINGS.map((coding) => {
    const model = modelOf(c, i, coding);
    const size = model.inputShape[0] * model.inputShape[1];
    const inputs = [
      ...Array.from({ length: 4 }, (_, s) => xorshiftInt8(size, 7919 * (s + 1) + i)),
      new Int8Array(size).fill(-128),
      new Int8Array(size).fill(127),
    ];
    return { name: `${c.name} ${coding}`, model, inputs };
  }),
);

const want = all.map(referenceCrcs);

describe('int8 DepthwiseConv1D/2D: generated C equals the host reference', () => {
  it('reaches every kernel path with and without the input offset', () => {
    const sources = all.map((b) => generateC(b.model).files.find((f) => f.name === 'model.c')!.content);
    const some = (re: RegExp) => sources.filter((s) => re.test(s)).length;
    // The direct path with the offset in the bias (padding read as the zero point), and without.
    expect(some(/#define TF_DW_PAD \(\(uint32_t\)-?[1-9]\d*\)/)).toBeGreaterThanOrEqual(5 * CODINGS.length);
    expect(some(/#define TF_DW_PAD \(\(uint32_t\)0\)/)).toBe(CODINGS.length);
    // Planes holding x + inOffset (SXTAB16 on the Cortex-M4).
    expect(some(/__sxtab16\(-?[1-9]\d*, /)).toBeGreaterThanOrEqual(6 * CODINGS.length);
    // The unit-stride blocks (rows, and columns with a tail).
    expect(some(/TF_DW_Y\(a3\)/)).toBeGreaterThanOrEqual(3 * CODINGS.length);
    // Blocks of five and six rows (int8: they divide the rows where four does not).
    expect(some(/TF_DW_Y\(a4\)/)).toBeGreaterThanOrEqual(3 * CODINGS.length);
    expect(some(/TF_DW_Y\(a5\)/)).toBe(CODINGS.length);
    // Strided along W: one output at a time; dilated: the generic loop.
    expect(some(/const int16_t \*p = prow \+ ox \* 2;/)).toBe(2 * CODINGS.length);
    expect(some(/for \(ki = 0; ki < \d+; ki\+\+\) \{\n\s+const int16_t \*pk/)).toBe(2 * CODINGS.length);
    expect(sources.every((s) => /tf_req8_/.test(s))).toBe(true);
    // Outputs spread over many values (not all clamped), so that a wrong accumulator shows.
    for (const b of all)
      expect(new Set(runPrepared(prepareReference(b.model), b.inputs[0]).logits).size).toBeGreaterThan(12);
  });

  everyBuild(
    'dw8',
    () => all,
    () => want,
  );
});
