// Add (Keras Add): the elementwise sum of two or more tensors of one shape, e.g. a residual
// connection. Quantized, each input is rescaled to the output format by a rounding right shift and
// the int8 terms are summed and saturated once (semantics.ts addRescaled). The output frac is the
// calibrated range's, at most the coarsest input's: every shift is then a right shift, and two
// inputs take one QADD8 per four elements on the Cortex-M4. In place over its first input when
// the planner allows. No structured pruning through it: its inputs' channels must stay matched.
// Under TFLite's int8 scheme: TFLite's Add of two inputs with their own scales and zero points
// (templates/kernels/add8.c.hbs: SMMLAR and SSAT per element, in an exact form add8Plan checks on every
// input value and sum; tfl_add where there is none), in place over its first input too.
import * as tf from '@tensorflow/tfjs';
import { onnxAdd } from './onnxFields.js';
import { addRescaled, fracBitsFor } from '../fixedpoint/semantics.js';
import {
  checkMergeInputs,
  mergeArch,
  mergeFromKeras,
  mergeOps,
  mergeOutFrac,
  mergeShifts,
  mergeView,
  type QMerge,
} from './merge.js';
import { sizeOf, type Layer } from '../graph/types.js';
import type { Int8Ops, OpModule } from './types.js';
import { checkInt8Input, int8Base, int8Schema, type Int8Q } from './int8.js';
import {
  add as tfliteAdd,
  addParams,
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplier,
  TFLITE_2_21_ROUNDING,
  type AddParams,
} from '../fixedpoint/tflite.js';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';
import type { AffineQuant } from '../qmodel/model.js';
import { affineQuant } from '../qmodel/schemaParts.js';
import { ADD_OPTIONS, noConstantInputs } from './tfliteFields.js';

const KIND = 'add';

/** The most inputs one Add takes: the four-lane path sums them in 16-bit lanes without overflow. */
export const MAX_ADD_INPUTS = 64;

function addReference(q: QMerge, xs: Int8Array[]): Int8Array {
  const shifts = mergeShifts(q);
  const y = new Int8Array(xs[0].length);
  const terms = new Array<number>(xs.length);
  for (let i = 0; i < y.length; i++) {
    for (let k = 0; k < xs.length; k++) terms[k] = xs[k][i];
    y[i] = addRescaled(terms, shifts);
  }
  return y;
}

/** Under TFLite's int8 scheme: two inputs, each with its own quantization (ADD, no broadcasting). */
export interface QAdd8 extends Int8Q {
  input2: AffineQuant;
}

function addParamsOf(q: QAdd8): AddParams {
  const [a, b, o] = [q.input, q.input2, q.output];
  const rounding = TFLITE_2_21_ROUNDING.add;
  return addParams(a.scale, a.zeroPoint, b.scale, b.zeroPoint, o.scale, o.zeroPoint, q.activation, rounding);
}

/**
 * One input's step of the int8 Add as the kernel computes it (templates/kernels/add8.c.hbs):
 * X = a * 2^21 + k, t = SMMLAR(X, m, c) = floor((X * m + 2^31) / 2^32) + c, s = (t [+ (X >> 31)]) >> e.
 * For k = offset * 2^21 and c = 2^(e-1) this is MultiplyByQuantizedMultiplier((a + offset) * 2^20, m,
 * -e) with two roundings: SaturatingRoundingDoublingHighMul(x, m) is floor((2x * m + 2^31) / 2^32)
 * (SMMULR of 2x) whenever 2x fits int32, and RoundingDivideByPOT(v, e) is (v + 2^(e-1) + (v >> 31)) >>
 * e, where the sign of v is the sign of X or v is 0 (then the term changes nothing). The output step
 * is the same with X = 2 * (s1 + s2) and the output zero point folded into c (+ zp * 2^e).
 */
interface Add8Step {
  /** SMMLAR's multiplier and addend, the final shift, and whether the sign term is needed. */
  m: number;
  c: number;
  e: number;
  sign: boolean;
}

/**
 * floor((x * m + 2^31) / 2^32) + c, exactly for |x|, |m| <= 2^31: m split into 16-bit halves, so that
 * every partial product holds in a double, and floor((A * 2^16 + B) / 2^32) = floor((A +
 * floor(B / 2^16)) / 2^16) for integer A.
 */
function smmlar(x: number, m: number, c: number): number {
  const mh = Math.floor(m / 65536);
  const ml = m - mh * 65536;
  return Math.floor((x * mh + Math.floor((x * ml + 2 ** 31) / 65536)) / 65536) + c;
}

const fitsInt32 = (v: number): boolean => v >= INT32_MIN && v <= INT32_MAX;

/** The step's value for X, or undefined where an intermediate would leave int32. */
function runStep(st: Add8Step, x: number): number | undefined {
  const t = smmlar(x, st.m, st.c);
  const u = t + (st.sign && x < 0 ? -1 : 0);
  return fitsInt32(x) && fitsInt32(t) && fitsInt32(u) ? u >> st.e : undefined;
}

/**
 * The step for X values `xs` that must give `want(x)`: the cheapest form that gives it for every one
 * (without the sign term when no negative tie occurs), or null (the kernel then calls tfl_add).
 */
function fitStep(
  m: number,
  shift: number,
  extra: number,
  xs: Iterable<number>,
  want: (x: number) => number,
): Add8Step | null {
  if (shift > 0 || shift < -31 || m < 0) return null;
  const e = -shift;
  const c = (e > 0 ? 2 ** (e - 1) : 0) + extra * 2 ** e;
  if (!fitsInt32(c)) return null;
  const list = [...xs];
  for (const sign of [false, true]) {
    const st = { m, c, e, sign };
    if (list.every((x) => runStep(st, x) === want(x))) return st;
  }
  return null;
}

/**
 * The kernel's exact form of an int8 Add. The input with the larger scale has the multiplier 1/2
 * exactly (m = 2^30, no shift) and rescales to (a + offset) * 2^19: it is affine (no step). The
 * kernel's x = 2 * (s1 + s2) is then 2 * s1 + b * 2^20 + k2, 2 * s2 + a * 2^20 + k1, or, when both
 * scales are equal and both inputs affine, (a + b) * 2^20 + k1.
 */
export interface Add8Plan {
  /** An input with a step: a * 2^21 + k is its X. An affine one: a * 2^20 + k is its part of x. */
  k1: number;
  k2: number;
  /** Null: the input is affine (at most one of the two is not). */
  in1: Add8Step | null;
  in2: Add8Step | null;
  out: Add8Step;
}

const HALF = 2 ** 30;

/**
 * Finds the kernel's form of TFLite's int8 Add with parameters p and checks it against
 * multiplyByQuantizedMultiplier on every input value and every sum of the two rescaled inputs, so
 * it is exact by exhaustion, not only by the algebra above. Null: no exact form (the kernel calls
 * tfl_add).
 */
export function add8Plan(p: AddParams): Add8Plan | null {
  if (p.leftShift !== 20 || TFLITE_2_21_ROUNDING.add !== 'double') return null;
  const values = Array.from({ length: 256 }, (_, i) => i - 128);
  const input = (offset: number, q: { multiplier: number; shift: number }) => {
    const k = offset * 2 ** 21;
    const xs = values.map((a) => a * 2 ** 21 + k);
    // What TFLite's Add computes for each input value: MultiplyByQuantizedMultiplier((a + offset) * 2^20).
    const want = xs.map((x) => multiplyByQuantizedMultiplier(x / 2, q.multiplier, q.shift, 'double'));
    const affine =
      q.multiplier === HALF && q.shift === 0 && want.every((v, i) => v === (values[i] + offset) * 2 ** 19);
    const step = affine ? null : fitStep(q.multiplier, q.shift, 0, xs, (x) => want[(x - k) / 2 ** 21 + 128]);
    return { k: affine ? offset * 2 ** 20 : k, want, step, affine };
  };
  const a = input(p.input1Offset, p.input1);
  const b = input(p.input2Offset, p.input2);
  // The larger scale's multiplier is its scale over twice itself: one input at least is affine.
  if (!(a.affine || b.affine) || !(a.affine || a.step) || !(b.affine || b.step)) return null;
  const both = a.affine && b.affine;
  const sums = new Set<number>();
  for (const s1 of a.want) for (const s2 of b.want) sums.add(2 * (s1 + s2));
  if (![...sums].every(fitsInt32)) return null;
  const out = fitStep(
    p.output.multiplier,
    p.output.shift,
    p.outputOffset,
    sums,
    (x) =>
      multiplyByQuantizedMultiplier(x / 2, p.output.multiplier, p.output.shift, 'double') + p.outputOffset,
  );
  if (!out) return null;
  return { k1: both ? a.k + b.k : a.k, k2: both ? 0 : b.k, in1: a.step, in2: b.step, out };
}

/** The int8 Add's view: the kernel's exact form (or TFLite's parameters for tfl_add), the clamp. */
function add8View(q: QAdd8, base: LayerViewBase): LayerView {
  const p = addParamsOf(q);
  const { min, max } = p.range;
  return {
    ...base,
    kernel: 'kernels/add8',
    x0: base.inputs[0],
    x1: base.inputs[1],
    size: sizeOf(q.outShape),
    fast: add8Plan(p),
    p,
    full: min === -128 && max === 127,
    min,
    max,
  };
}

const addInt8: Int8Ops<Layer, QAdd8> = {
  fromTflite(_l, ctx) {
    if (ctx.inputs.length !== 2) ctx.fail(`${ctx.inputs.length} inputs (the int8 Add takes 2)`);
    return { ...int8Base(ctx), kind: KIND, input2: ctx.inputs[1] };
  },
  quantized: {
    schema: int8Schema(KIND, { input2: affineQuant }, false),
    toIr: (q) => ({ kind: KIND, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: () => 0,
    outQuant: (q) => q.output,
    check(q, ctx) {
      if (ctx.inQuants.length !== 2) ctx.fail(`${ctx.inQuants.length} inputs (the int8 Add takes 2)`);
      checkInt8Input(q, ctx);
      checkInt8Input(q, { ...ctx, inQuants: [ctx.inQuants[1]] }, q.input2);
    },
    reference(q, [a, b]) {
      const p = addParamsOf(q);
      return a.map((v, i) => tfliteAdd(v, b[i], p, TFLITE_2_21_ROUNDING.add));
    },
  },
  codegen: { alias: 'inplace', view: add8View },
};

export const add: OpModule<Layer, QMerge> = {
  kind: KIND,
  title: 'Add',
  infer(_l, xs, fail) {
    checkMergeInputs(xs, fail, false);
    if (xs.length > MAX_ADD_INPUTS) fail(`has ${xs.length} inputs, at most ${MAX_ADD_INPUTS}`);
    return { shape: [...xs[0].shape], flat: xs[0].flat };
  },
  arch: mergeArch(KIND),
  keras: { classNames: ['Add'], fromKeras: (l) => mergeFromKeras(KIND, l) },
  tflite: {
    opNames: ['ADD', 'ADD_N'],
    nary: true,
    fromTflite(ctx) {
      if (noConstantInputs(ctx) < 2) ctx.unsupported('adding a constant');
      const act = ctx.opName === 'ADD' ? ctx.activation(ADD_OPTIONS.activation, false) : { after: [] };
      return { layers: [{ kind: KIND, name: ctx.name }, ...act.after] };
    },
  },
  onnx: onnxAdd(KIND),
  tfjs: {
    layer: (l) => tf.layers.add({ name: l.name }),
    forward: (_l, xs) => tf.addN(xs),
  },
  floatForward(_l, _i, _p, xs) {
    const y = Float32Array.from(xs[0]);
    for (const x of xs.slice(1)) for (let i = 0; i < y.length; i++) y[i] += x[i];
    return y;
  },
  requantizes: true,
  quantize(_l, ctx) {
    const outFrac = mergeOutFrac(ctx.inFracs, fracBitsFor(ctx.outRange, 8));
    const layer: QMerge = { ...ctx.base, kind: KIND, inFracs: [...ctx.inFracs], outFrac };
    return { layer, outFrac };
  },
  quantized: mergeOps(KIND, addReference),
  codegen: {
    alias: 'inplace',
    view: (q, base) => mergeView(q, base, { two: q.inFracs.length === 2 }),
  },
  int8: addInt8,
};
