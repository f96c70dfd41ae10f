// Pooling (1D and 2D, max and average), Add and Softmax under TFLite's int8 scheme: the generated C
// against the host reference (which equals TFLite's interpreter, test/import/tfliteInt8.test.ts),
// layer by layer, on hand-built models that reach every path of their templates: four-channel groups
// and leftover channels, window edges ('same') and none, strides, average windows too large for the
// 16-bit lanes, every fused clamp with zero points that make it bite; Adds with different scales and
// zero points on the two inputs, in place and not, one input read twice, and parameters without the
// exact SMMLAR form (tfl_add per element); Softmax over one row and over many, small and large input
// scales (the multiplier's cap). The int8 fixtures have no 1D pools and only NONE clamps on pools;
// test/codegen/tfliteInt8C.test.ts covers the imported ones. Host gcc and clang (portable C), QEMU
// (DSP and portable), and the Add's exact form checked on its own over every input pair.
import { describe, expect, it } from 'vitest';
import { add8Plan, type Add8Plan } from '../../src/ops/add.js';
import type { Int8Q } from '../../src/ops/int8.js';
import {
  add as tfliteAdd,
  addParams,
  type AddParams,
  type FusedActivation,
} from '../../src/fixedpoint/tflite.js';
import { axisWindows } from '../../src/ops/window.js';
import { checkModel } from '../../src/qmodel/check.js';
import type { AffineQuant, CompressedModel, QLayer } from '../../src/qmodel/model.js';
import type { Padding } from '../../src/graph/types.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { generateC } from '../../src/codegen/index.js';
import { everyBuild, referenceCrcs, type LayerCase } from '../kernels/layerChecks.js';
import { makeRng } from '../helpers/randomModel.js';

type Layer8 = QLayer & Int8Q & Record<string, unknown>;

function model(
  name: string,
  inputShape: [number, number],
  input: AffineQuant,
  layers: Layer8[],
): CompressedModel {
  const last = layers[layers.length - 1];
  const m: CompressedModel = {
    scheme: 'tflite-int8',
    affine: { input, output: last.output },
    inputShape,
    // The whole output tensor is the logits (as for the imported fixtures).
    classNames: Array.from({ length: last.outShape.reduce((a, b) => a * b, 1) }, (_, i) => `y${i}`),
    normalization: {
      mean: new Array<number>(inputShape[1]).fill(0),
      std: new Array<number>(inputShape[1]).fill(1),
    },
    inputFrac: 0,
    layers,
    meta: { test: name },
  };
  checkModel(m);
  return m;
}

const reshape = (name: string, from: number[], to: number[], q: AffineQuant, inputs?: string[]): Layer8 => ({
  kind: 'reshape',
  name,
  inShape: [...from],
  outShape: [...to],
  input: q,
  output: q,
  activation: 'NONE',
  ...(inputs ? { inputs } : {}),
});

// ---- Pools ---------------------------------------------------------------------------------------

interface PoolCase {
  max: boolean;
  /** [T, C]: a 1D pool on the input; [H, W, C]: a Reshape, then a 2D pool. */
  shape: number[];
  k: number[];
  stride: number[];
  padding: Padding;
  zeroPoint: number;
  activation: FusedActivation;
}

const pool = (
  max: boolean,
  shape: number[],
  k: number[],
  stride: number[],
  padding: Padding,
  zeroPoint: number,
  activation: FusedActivation,
): PoolCase => ({ max, shape, k, stride, padding, zeroPoint, activation });

const POOLS: PoolCase[] = [
  // 2D: four-channel groups and a leftover, edges, strides, every clamp.
  pool(true, [9, 7, 6], [3, 3], [2, 2], 'same', -20, 'RELU'),
  pool(true, [8, 8, 8], [2, 2], [2, 2], 'valid', 10, 'RELU6'),
  pool(true, [7, 5, 3], [2, 3], [1, 2], 'same', 0, 'RELU_N1_TO_1'),
  pool(true, [6, 6, 4], [3, 2], [3, 1], 'valid', -128, 'NONE'),
  pool(false, [9, 7, 6], [3, 3], [2, 2], 'same', -20, 'RELU'),
  pool(false, [8, 8, 8], [2, 2], [2, 2], 'valid', 10, 'RELU6'),
  pool(false, [7, 5, 3], [2, 3], [1, 2], 'same', 5, 'RELU_N1_TO_1'),
  pool(false, [5, 5, 12], [5, 5], [1, 1], 'valid', -3, 'NONE'),
  // Windows of more than 256 positions: the sums leave the 16-bit lanes (no SIMD path).
  pool(false, [17, 16, 4], [17, 16], [1, 1], 'valid', 40, 'NONE'),
  pool(false, [18, 16, 2], [17, 16], [1, 1], 'same', -7, 'RELU'),
  // 1D.
  pool(true, [20, 6], [3], [2], 'same', -20, 'RELU'),
  pool(true, [16, 8], [4], [4], 'valid', 10, 'RELU6'),
  pool(true, [11, 3], [2], [1], 'same', 0, 'NONE'),
  pool(false, [20, 6], [3], [2], 'same', -20, 'RELU'),
  pool(false, [16, 8], [4], [4], 'valid', 10, 'RELU6'),
  pool(false, [11, 5], [4], [3], 'same', 7, 'RELU_N1_TO_1'),
];

function poolModel(c: PoolCase, i: number): CompressedModel {
  const q = { scale: c.activation === 'RELU_N1_TO_1' ? 0.012 : 0.05, zeroPoint: c.zeroPoint };
  const rank = c.shape.length - 1;
  const axes = axisWindows(c.shape.slice(0, rank), c.k, c.stride, c.padding);
  const outShape = [...axes.map((a) => a.outLen), c.shape[rank]];
  const T = rank === 2 ? c.shape[0] * c.shape[1] : c.shape[0];
  const C = c.shape[rank];
  const kind = `${c.max ? 'max' : 'avg'}pool${rank}d`;
  const window =
    rank === 2
      ? {
          poolSize: [c.k[0], c.k[1]],
          strides: [c.stride[0], c.stride[1]],
          padding: c.padding,
          pad: [axes[0].pad, axes[1].pad],
        }
      : { poolSize: c.k[0], stride: c.stride[0], padding: c.padding, padLeft: axes[0].pad };
  const layer: Layer8 = {
    kind,
    name: 'pool',
    inShape: [...c.shape],
    outShape,
    ...window,
    input: q,
    output: q,
    activation: c.activation,
  };
  const layers = rank === 2 ? [reshape('reshape', [T, C], c.shape, q), layer] : [layer];
  return model(`${kind} ${i}`, [T, C], q, layers);
}

// ---- Add -----------------------------------------------------------------------------------------

const Q_IN = { scale: 0.05, zeroPoint: -10 };

const addLayer = (
  name: string,
  shape: number[],
  inputs: string[],
  a: AffineQuant,
  b: AffineQuant,
  output: AffineQuant,
  activation: FusedActivation = 'NONE',
): Layer8 => ({
  kind: 'add',
  name,
  inShape: [...shape],
  outShape: [...shape],
  inputs,
  input: a,
  input2: b,
  output,
  activation,
});

/**
 * Adds over the input: the input with itself, then each Add of the previous one and an earlier tensor
 * (different scales and zero points on the two sides; in place where the first input dies), one of a
 * tensor with itself, and clamps.
 */
function addChain(shape: [number, number], qs: AffineQuant[], acts: FusedActivation[]): CompressedModel {
  const q1 = qs[0];
  const layers: Layer8[] = [
    addLayer('a1', shape, ['<input>', '<input>'], Q_IN, Q_IN, q1, acts[0]),
    addLayer('a2', shape, ['a1', '<input>'], q1, Q_IN, qs[1], acts[1]),
    addLayer('a3', shape, ['a1', 'a2'], q1, qs[1], qs[2], acts[2]),
    addLayer('a4', shape, ['a3', 'a3'], qs[2], qs[2], qs[3], acts[3]),
    addLayer('a5', shape, ['a4', 'a2'], qs[3], qs[1], qs[4], acts[4]),
  ];
  return model('add chain', shape, Q_IN, layers);
}

const ADDS: CompressedModel[] = [
  addChain(
    [24, 5],
    [
      { scale: 0.08, zeroPoint: 5 },
      { scale: 0.11, zeroPoint: -30 },
      { scale: 0.13, zeroPoint: 17 },
      { scale: 0.3, zeroPoint: -128 },
      { scale: 0.2, zeroPoint: 3 },
    ],
    ['NONE', 'RELU', 'NONE', 'RELU6', 'RELU_N1_TO_1'],
  ),
  addChain(
    [37, 3],
    [
      { scale: 0.021, zeroPoint: 100 },
      { scale: 0.4, zeroPoint: 0 },
      { scale: 0.0371, zeroPoint: -77 },
      { scale: 0.05, zeroPoint: 127 },
      { scale: 0.9, zeroPoint: -1 },
    ],
    ['RELU6', 'NONE', 'RELU', 'NONE', 'NONE'],
  ),
  // An output scale 256 times the inputs' with a large zero point: the output step's constant
  // (zero point * 2^26) leaves int32, so there is no exact SMMLAR form and the kernel calls tfl_add.
  model('add without the exact form', [16, 4], Q_IN, [
    addLayer('a1', [16, 4], ['<input>', '<input>'], Q_IN, Q_IN, { scale: 12.8, zeroPoint: 100 }),
    addLayer('a2', [16, 4], ['a1', '<input>'], { scale: 12.8, zeroPoint: 100 }, Q_IN, {
      scale: 0.1,
      zeroPoint: 1,
    }),
  ]),
  // An output multiplier in [0.5, 1): the output step has no shift (most sums saturate).
  model('add with output shift 0', [8, 4], Q_IN, [
    addLayer('a1', [8, 4], ['<input>', '<input>'], Q_IN, Q_IN, { scale: 1.2716e-7, zeroPoint: 0 }),
  ]),
];

/** Two maxpool1d over the input: positions 2t and 2t + 1 (their max), and 2t alone. */
function pairPools(q: AffineQuant): Layer8[] {
  const mp = (name: string, k: number): Layer8 => ({
    kind: 'maxpool1d',
    name,
    inShape: [512, 4],
    outShape: [256, 4],
    inputs: ['<input>'],
    poolSize: k,
    stride: 2,
    padding: 'valid',
    padLeft: 0,
    input: q,
    output: q,
    activation: 'NONE',
  });
  return [mp('mx', 2), mp('x0', 1)];
}

/**
 * Every int8 pair (a, b) with a >= b reaches the Adds (which are symmetric with both inputs at one
 * quantization) on the 64 windows of everyPairWindows: a = max(x0, x1), b = x0.
 */
const EVERY_PAIR = model('add of every pair', [512, 4], Q_IN, [
  ...pairPools(Q_IN),
  addLayer('a1', [256, 4], ['mx', 'x0'], Q_IN, Q_IN, { scale: 0.07, zeroPoint: 9 }),
  addLayer('a2', [256, 4], ['x0', 'mx'], Q_IN, Q_IN, { scale: 0.0391, zeroPoint: -50 }, 'RELU6'),
]);

/** (x0, x1) of pair j of window w: j / 4 = t, j % 4 = channel, i = 1024 w + j over all 65536 pairs. */
function everyPairWindows(): Int8Array[] {
  return Array.from({ length: 64 }, (_, w) => {
    const x = new Int8Array(2048);
    for (let j = 0; j < 1024; j++) {
      const i = w * 1024 + j;
      const [t, c] = [j >> 2, j & 3];
      x[2 * t * 4 + c] = (i >> 8) - 128;
      x[(2 * t + 1) * 4 + c] = (i & 255) - 128;
    }
    return x;
  });
}

// ---- Softmax -------------------------------------------------------------------------------------

function softmaxModel(
  shape: [number, number],
  scale: number,
  zeroPoint: number,
  vector: boolean,
): CompressedModel {
  const q = { scale, zeroPoint };
  const outShape = vector ? [1, shape[0] * shape[1]] : [...shape];
  const layers: Layer8[] = [];
  if (vector) layers.push(reshape('flat', [...shape], outShape, q));
  layers.push({
    kind: 'softmax',
    name: 'softmax',
    inShape: [...outShape],
    outShape,
    input: q,
    output: { scale: 1 / 256, zeroPoint: -128 },
    activation: 'NONE',
    beta: 1,
  });
  return model('softmax', shape, q, layers);
}

const SOFTMAXES: CompressedModel[] = [
  softmaxModel([3, 4], 0.1, 5, true),
  softmaxModel([1, 12], 0.0625, -20, true),
  softmaxModel([2, 5], 0.02, 0, true),
  softmaxModel([10, 7], 0.25, -128, false),
  // Input scales above 16 cap the multiplier at 2^31 - 1.
  softmaxModel([4, 3], 20, 10, false),
  softmaxModel([1, 33], 1.3, 3, true),
  // In place over an Add's output in the arena (a Reshape of it is the model output).
  model('softmax in place', [6, 8], Q_IN, [
    addLayer('a1', [6, 8], ['<input>', '<input>'], Q_IN, Q_IN, { scale: 0.15, zeroPoint: -4 }),
    {
      kind: 'softmax',
      name: 'softmax',
      inShape: [6, 8],
      outShape: [6, 8],
      input: { scale: 0.15, zeroPoint: -4 },
      output: { scale: 1 / 256, zeroPoint: -128 },
      activation: 'NONE',
      beta: 1,
    },
    reshape('flat', [6, 8], [1, 48], { scale: 1 / 256, zeroPoint: -128 }),
  ]),
];

// ---- The runs ------------------------------------------------------------------------------------

const all: LayerCase[] = [
  ...POOLS.map((c, i) => ({
    name: `pool ${i} ${c.max ? 'max' : 'avg'} [${c.shape}]`,
    model: poolModel(c, i),
  })),
  ...ADDS.map((m, i) => ({ name: `add ${i}`, model: m })),
  { name: 'add of every pair', model: EVERY_PAIR },
  ...SOFTMAXES.map((m, i) => ({ name: `softmax ${i}`, model: m })),
].map((b, i) => {
  const size = b.model.inputShape[0] * b.model.inputShape[1];
  if (b.model === EVERY_PAIR) return { ...b, inputs: everyPairWindows() };
  const inputs = [
    ...Array.from({ length: 5 }, (_, s) => xorshiftInt8(size, 7919 * (s + 1) + i)),
    new Int8Array(size).fill(-128),
    new Int8Array(size).fill(127),
    new Int8Array(size),
  ];
  return { ...b, inputs };
});

const want = all.map(referenceCrcs);

/** The Add's exact form evaluated as the C does, independently of add8Plan's own check (BigInt). */
function runPlan(plan: Add8Plan, p: AddParams, a: number, b: number): number {
  const smmlar = (x: number, m: number, c: number): number =>
    Number((BigInt(x) * BigInt(m) + (1n << 31n)) >> 32n) + c;
  const step = (s: Add8Plan['out'], x: number): number =>
    (smmlar(x, s.m, s.c) + (s.sign && x < 0 ? -1 : 0)) >> s.e;
  const sa = plan.in1 && step(plan.in1, a * 2 ** 21 + plan.k1);
  const sb = plan.in2 && step(plan.in2, b * 2 ** 21 + plan.k2);
  const x =
    sa !== null
      ? b * 2 ** 20 + plan.k2 + sa * 2
      : sb !== null
        ? a * 2 ** 20 + plan.k1 + sb * 2
        : (a + b) * 2 ** 20 + plan.k1;
  const r = step(plan.out, x);
  return Math.min(p.range.max, Math.max(p.range.min, r));
}

describe('int8 pools, Add and Softmax: generated C equals the host reference', () => {
  it('reaches every kernel path', () => {
    const source = (m: CompressedModel) => generateC(m).files.find((f) => f.name === 'model.c')!.content;
    const pools = POOLS.map((c, i) => ({ c, s: source(poolModel(c, i)) }));
    const count = (re: RegExp, among = pools.map((p) => p.s)) => among.filter((s) => re.test(s)).length;
    // Averages round as TFLite does, in the 16-bit lanes and without them.
    expect(count(/tf_rounded_average/)).toBe(0);
    expect(count(/tfl_average\(tf_lo16\(even\)/)).toBeGreaterThanOrEqual(4);
    expect(count(/AvgPool2D[^\n]*\n[^\n]*\n[^\n]*\(tfl_average\)\. \*\//)).toBe(2);
    // Max pools clamp where the activation bites: the upper bound by SEL, both in 1D.
    expect(count(/ssub8 %\[ge\], %\[top\], %\[m\]/)).toBeGreaterThanOrEqual(3);
    expect(count(/uint32_t m = 0x01010101u \* \d+u;/)).toBe(3);
    const adds = ADDS.map(source);
    // The stepped input first, second, or neither (equal scales).
    expect(count(/const int32_t x = b \* 1048576 \+ k2 \+ sa \* 2;/, adds)).toBeGreaterThanOrEqual(1);
    expect(count(/const int32_t x = a \* 1048576 \+ k1 \+ sb \* 2;/, adds)).toBeGreaterThanOrEqual(1);
    expect(count(/const int32_t x = \(a \+ b\) \* 1048576 \+ k1;/, adds)).toBe(3);
    expect(count(/"ssat %0, #8, %1" :/, adds)).toBe(1);
    expect(count(/"ssat %0, #8, %1, asr #\d+" :/, adds)).toBe(3);
    expect(count(/tfl_add\(\(int8_t\)a/, adds)).toBe(1);
    expect(count(/in place over the first/, adds)).toBe(3);
    const softmaxes = SOFTMAXES.map(source);
    expect(count(/tfl_exp_on_negative_values\(tfl_softmax_diff\(diff, &p\)\)/, softmaxes)).toBe(
      SOFTMAXES.length,
    );
    expect(count(/, in place\./, softmaxes)).toBeGreaterThanOrEqual(1);
  });

  it("the Add's exact form equals TFLite's Add on every input pair", () => {
    const rng = makeRng(16);
    let signs = 0;
    let plans = 0;
    let affine = 0;
    let bothAffine = 0;
    for (let n = 0; n < 24; n++) {
      const q = (): [number, number] => [0.005 + rng() * rng() * 2, Math.floor(rng() * 256) - 128];
      const [s1, z1] = q();
      const [s2r, z2] = q();
      // Every fifth pair of inputs shares a scale: both are affine.
      const s2 = n % 5 === 0 ? s1 : s2r;
      const [so, zo] = q();
      const act = (['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'] as const)[n % 4];
      const p = addParams(s1, z1, s2, z2, so, zo, act);
      const plan = add8Plan(p);
      if (!plan) continue;
      plans++;
      affine += [plan.in1, plan.in2].filter((s) => s === null).length;
      bothAffine += plan.in1 === null && plan.in2 === null ? 1 : 0;
      signs += [plan.in1, plan.in2, plan.out].filter((s) => s?.sign).length;
      for (let a = -128; a < 128; a++)
        for (let b = -128; b < 128; b++) {
          const got = runPlan(plan, p, a, b);
          if (got !== tfliteAdd(a, b, p)) expect(`${n}: ${a} + ${b} = ${got}`).toBe(tfliteAdd(a, b, p));
        }
    }
    expect(plans).toBeGreaterThanOrEqual(22);
    // Some steps need the sign correction, some do not.
    expect(signs).toBeGreaterThan(0);
    expect(signs).toBeLessThan(2 * plans);
    // The input with the larger scale is affine (both when the scales are equal).
    expect(affine).toBe(plans + bothAffine);
    expect(bothAffine).toBeGreaterThanOrEqual(4);
  });

  everyBuild(
    'pas8',
    () => all,
    () => want,
  );
});
