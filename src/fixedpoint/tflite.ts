// THE definition of TensorFlow Lite's int8 arithmetic in tinyforge: the second quantization scheme
// beside the power-of-two one of semantics.ts. docs/fixed-point.md ("TFLite int8") explains it;
// templates/fixedpoint_tflite.h.hbs is its one C implementation and
// test/codegen/fixedpointTflite.test.ts checks the two bit for bit, and
// test/codegen/tfliteInt8Fixtures.test.ts this file against the interpreter's own outputs
// (test/fixtures/import/expected/*.int8.json).
//
// Everything here follows TFLite's reference kernels (tensorflow/lite/kernels/internal/common.h,
// common.cc, quantization_util.cc, kernel_util.cc, reference_integer_ops/*) as tensorflow-cpu 2.21's
// interpreter runs them with the reference op resolver (BUILTIN_REF), with the one difference found
// by measuring it: its int8 FullyConnected rounds once (TFLITE_2_21_ROUNDING). The scheme: a real value
// r is scale * (q - zeroPoint); activations int8 per tensor, weights int8 symmetric (zero point 0) per
// output channel or per tensor, biases int32 with scale inputScale * weightScale. An int32 accumulator
// goes to the output scale by a multiplier M = inputScale * weightScale / outputScale, represented as
// an int32 "quantized multiplier" m (Q0.31, in [2^30, 2^31)) and a power-of-two exponent `shift`
// (TFLite's sign convention: positive = left shift), M ~ m * 2^(shift - 31).
//
// The multipliers come from float scales and are computed here, at compile time, in double precision
// exactly as TFLite computes them (the same IEEE operations in the same order); the C side only gets
// the int32 multipliers and shifts. Every integer function is exact on int32 values (no float
// rounding anywhere: the 64-bit products are split into parts that doubles hold exactly).

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const TWO_31 = 2147483648;

/**
 * How MultiplyByQuantizedMultiplier rounds. 'double': gemmlowp's SaturatingRoundingDoublingHighMul
 * (to nearest, ties up, to the high 32 bits of 2*x*m) then RoundingDivideByPOT (to nearest, ties away
 * from zero): two roundings. 'single': (x * m + 2^(30 - shift)) >> (31 - shift)
 * on 64 bits, TFLite's build with TFLITE_SINGLE_ROUNDING=1 (ties up). They differ by one on
 * 0.1-1% of the outputs of real layers. TFLITE_2_21_ROUNDING says which operator uses which.
 */
export type Rounding = 'double' | 'single';

/**
 * The default of every function here: the double rounding of TFLite's default build
 * (TFLITE_SINGLE_ROUNDING not defined), which tensorflow-cpu 2.21 is: QuantizeMultiplier without the
 * single-rounding cap, and the rounding its reference Conv2D and DepthwiseConv2D kernels apply.
 */
export const TFLITE_ROUNDING: Rounding = 'double';

/**
 * The rounding each int8 operator of tensorflow-cpu 2.21's interpreter (BUILTIN_REF) applies, as
 * measured against it (test/codegen/tfliteInt8Fixtures.test.ts; docs/fixed-point.md has the counts):
 * Conv2D and DepthwiseConv2D round twice, FullyConnected once (per channel and per tensor alike;
 * the reference FullyConnected source rounds twice, the interpreter's int8 FullyConnected does not).
 * Add and Softmax follow the reference source (double); there the two variants almost never differ
 * (Add: 8 of 2.6 million input pairs at random scales; Softmax: only in the multiplier's cap for
 * input scales above 16), so the interpreter's outputs cannot tell them apart.
 */
export const TFLITE_2_21_ROUNDING = {
  conv2d: 'double',
  depthwiseConv2d: 'double',
  fullyConnected: 'single',
  add: 'double',
  softmax: 'double',
} as const satisfies Record<string, Rounding>;

/** An int32 multiplier in Q0.31 and TFLite's shift (positive: left). 0/0 means "multiply by 0". */
export interface QuantizedMultiplier {
  multiplier: number;
  shift: number;
}

// ---- Compile time: double scales to int32 multipliers (quantization_util.cc) ---------------------

const f64 = new DataView(new ArrayBuffer(8));

/**
 * C's frexp for finite x != 0: x = fraction * 2^exponent with 0.5 <= |fraction| < 1, both exact
 * (read from the bits, so no log2 rounding can put the exponent off by one).
 */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (!Number.isFinite(x) || x === 0) throw new Error(`frexp of ${x}`);
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  if (biased === 0) {
    // Subnormal: scale into the normal range first (exact, a power of two).
    const r = frexp(x * 2 ** 64);
    return { fraction: r.fraction, exponent: r.exponent - 64 };
  }
  // The same sign and mantissa with the biased exponent of [0.5, 1): 1022.
  f64.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return { fraction: f64.getFloat64(0), exponent: biased - 1022 };
}

/**
 * std::round / TfLiteRound: to nearest, ties away from zero. Exact for every double (no x + 0.5,
 * which rounds for x = 0.49999999999999994); also std::round(float) on float32 values.
 */
export function roundHalfAway(x: number): number {
  const a = Math.abs(x);
  const f = Math.floor(a);
  const r = a - f >= 0.5 ? f + 1 : f;
  return x < 0 ? -r : r;
}

/**
 * QuantizeMultiplier: frexp, the fraction rounded to Q0.31 (ties away from zero), a fraction that
 * rounds up to 1.0 renormalized to 2^30 with the exponent one up, multipliers below about 2^-31
 * (shift < -31) flushed to 0/0. With single rounding TFLite also caps shift at 30 (multiplier
 * 2^31 - 1); the double-rounding build has no cap.
 */
export function quantizeMultiplier(m: number, rounding: Rounding = TFLITE_ROUNDING): QuantizedMultiplier {
  if (!Number.isFinite(m)) throw new Error(`quantizeMultiplier of ${m}`);
  if (m === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(m);
  let q = roundHalfAway(fraction * TWO_31);
  let shift = exponent;
  // Only +2^31 is renormalized (TFLite checks q_fixed == 1 << 31); a negative multiplier that
  // rounds to -2^31 stays, as an int32 it is representable.
  if (q === TWO_31) {
    q /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (rounding === 'single' && shift > 30) return { multiplier: INT32_MAX, shift: 30 };
  return { multiplier: q, shift };
}

/** QuantizeMultiplierSmallerThanOneExp: 0 < m < 1, shift <= 0. */
export function quantizeMultiplierSmallerThanOne(
  m: number,
  rounding: Rounding = TFLITE_ROUNDING,
): QuantizedMultiplier {
  if (!(m > 0 && m < 1)) throw new Error(`quantizeMultiplierSmallerThanOne of ${m}: needs 0 < m < 1`);
  const q = quantizeMultiplier(m, rounding);
  if (q.shift > 0) throw new Error(`quantizeMultiplierSmallerThanOne of ${m}: shift ${q.shift} > 0`);
  return q;
}

/** QuantizeMultiplierGreaterThanOne: m > 1, shift >= 0. */
export function quantizeMultiplierGreaterThanOne(
  m: number,
  rounding: Rounding = TFLITE_ROUNDING,
): QuantizedMultiplier {
  if (!(m > 1)) throw new Error(`quantizeMultiplierGreaterThanOne of ${m}: needs m > 1`);
  return quantizeMultiplier(m, rounding);
}

/**
 * Conv2D and DepthwiseConv2D (PopulateConvolutionQuantizationParams, per channel even with one
 * scale): double(inputScale) * double(filterScale) / double(outputScale). Scales are float32 values.
 */
export function convMultiplier(inputScale: number, filterScale: number, outputScale: number): number {
  return (Math.fround(inputScale) * Math.fround(filterScale)) / Math.fround(outputScale);
}

/**
 * FullyConnected with one filter scale (GetQuantizedConvolutionMultipler): the scale product is
 * taken in float32 (`input->params.scale * filter->params.scale`), then divided in double. Not
 * always the same multiplier as convMultiplier.
 */
export function fullyConnectedMultiplier(
  inputScale: number,
  filterScale: number,
  outputScale: number,
): number {
  return Math.fround(Math.fround(inputScale) * Math.fround(filterScale)) / Math.fround(outputScale);
}

// ---- Run time: the integer primitives (gemmlowp fixedpoint.h, common.h, common.cc) ---------------

/** x as a signed 32-bit value (C's int32 wrap-around). */
const i32 = (x: number): number => x | 0;

/**
 * floor(a * b / 2^31) and the remainder, exactly, for int32 a and b: b split into 16-bit halves so
 * that every partial product (< 2^47) is exact in a double.
 */
function mulDiv31(a: number, b: number): { q: number; r: number } {
  const bh = Math.floor(b / 65536); // in [-2^15, 2^15)
  const bl = b - bh * 65536; // in [0, 2^16)
  const hi = a * bh; // a*b = hi * 2^16 + a * bl
  const q1 = Math.floor(hi / 32768); // hi = q1 * 2^15 + r1, so hi * 2^16 = q1 * 2^31 + r1 * 2^16
  const r1 = hi - q1 * 32768;
  const s = r1 * 65536 + a * bl; // |s| < 2^48, exact
  const q2 = Math.floor(s / TWO_31);
  return { q: q1 + q2, r: s - q2 * TWO_31 };
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b rounded to nearest,
 * (a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31 truncated towards zero, on 64 bits. The negative
 * nudge is one short of 2^30, so a negative tie goes towards zero: every tie rounds up. The one
 * overflow, a = b = INT32_MIN, saturates to INT32_MAX.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // (a*b + nudge) / 2^31 with a*b = q * 2^31 + r (0 <= r < 2^31): add the nudge to the remainder.
  const { q, r } = mulDiv31(a, b);
  const negative = q < 0; // a*b < 0 exactly when its floor quotient is negative
  const t = r + (negative ? 1 - 2 ** 30 : 2 ** 30); // in (-2^30, 2^31 + 2^30)
  const carry = Math.floor(t / TWO_31);
  const quotient = q + carry; // floor((a*b + nudge) / 2^31)
  const rest = t - carry * TWO_31;
  // C's division truncates: a negative non-integral quotient goes one up.
  return quotient < 0 && rest !== 0 ? quotient + 1 : quotient;
}

/**
 * gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero, for
 * exponent in [0, 31]: (x >> e) + (remainder > threshold), remainder = x & (2^e - 1), threshold =
 * (2^e - 1) >> 1, one more for negative x.
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (!(exponent >= 0 && exponent <= 31)) throw new Error(`roundingDivideByPOT exponent ${exponent}`);
  const mask = exponent === 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** floor((x * m + 2^(t-1)) / 2^t) for int32 x and m, t in [1, 62]: single rounding, exact. */
function roundedMulShift(x: number, m: number, t: number): number {
  const { q, r } = mulDiv31(x, m); // x*m = q * 2^31 + r
  if (t <= 31) {
    // (q * 2^31 + r + 2^(t-1)) / 2^t = q * 2^(31-t) + (r + 2^(t-1)) / 2^t, the first term integral.
    // Both terms are reduced mod 2^32 (i32 is exact on any double) so that a result outside int32
    // wraps as C's conversion from int64 does instead of losing bits in a double.
    return i32(i32(q * 2 ** (31 - t)) + Math.floor((r + 2 ** (t - 1)) / 2 ** t));
  }
  // t > 31: r + 2^(t-1) = 2^(t-32) * 2^31 + r with r < 2^31, so the rounding constant only adds
  // 2^(t-32) to q, and floor((n + f) / 2^k) = floor(n / 2^k) for an integer n and 0 <= f < 1.
  return Math.floor((q + 2 ** (t - 32)) / 2 ** (t - 31));
}

/**
 * MultiplyByQuantizedMultiplier(x, m, shift): x * m * 2^(shift - 31) rounded to an int32.
 * Double rounding (TFLite's default build): RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
 * x * 2^max(shift, 0), m), max(-shift, 0)), shift in [-31, 31]; the left shift wraps around in int32
 * as the compiled C does (TFLite marks the function TFLITE_NO_SANITIZE_INTEGER_OVERFLOW).
 * Single rounding: floor((x * m + 2^(30 - shift)) / 2^(31 - shift)), shift in [-31, 30], m >= 0.
 */
export function multiplyByQuantizedMultiplier(
  x: number,
  m: number,
  shift: number,
  rounding: Rounding = TFLITE_ROUNDING,
): number {
  if (rounding === 'single') {
    if (!(shift >= -31 && shift <= 30)) throw new Error(`single-rounding shift ${shift}`);
    return i32(roundedMulShift(x, m, 31 - shift));
  }
  if (!(shift >= -31 && shift <= 31)) throw new Error(`double-rounding shift ${shift}`);
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(i32(x << left), m), right);
}

// ---- Operators' integer steps (reference_integer_ops) ---------------------------------------------

/** TFLite's ActivationFunctionType, by its schema names. */
export type FusedActivation = 'NONE' | 'RELU' | 'RELU6' | 'RELU_N1_TO_1';

/** [min, max] an int8 output is clamped to. */
export interface ActivationRange {
  min: number;
  max: number;
}

/**
 * CalculateActivationRangeQuantized for int8: the fused activation's bounds quantized with the
 * output's scale and zero point, zeroPoint + round(f / scale) with the division in float32 and
 * std::round (ties away from zero), intersected with [-128, 127].
 */
export function activationRange(
  activation: FusedActivation,
  scale: number,
  zeroPoint: number,
): ActivationRange {
  const q = (f: number): number => zeroPoint + roundHalfAway(Math.fround(f / Math.fround(scale)));
  switch (activation) {
    case 'NONE':
      return { min: -128, max: 127 };
    case 'RELU':
      return { min: Math.max(-128, q(0)), max: 127 };
    case 'RELU6':
      return { min: Math.max(-128, q(0)), max: Math.min(127, q(6)) };
    case 'RELU_N1_TO_1':
      return { min: Math.max(-128, q(-1)), max: Math.min(127, q(1)) };
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The output step of Conv2D, DepthwiseConv2D and FullyConnected: the accumulator (bias + sum of
 * (x - inputZeroPoint) * w) to the output scale, plus the output zero point, clamped to the
 * activation range.
 */
export function requantize(
  acc: number,
  m: number,
  shift: number,
  outZeroPoint: number,
  range: ActivationRange,
  rounding: Rounding = TFLITE_ROUNDING,
): number {
  return clamp(multiplyByQuantizedMultiplier(acc, m, shift, rounding) + outZeroPoint, range.min, range.max);
}

/** The Cortex-M4 form of one channel's requantization: its right shift, and what is added before it. */
export interface FastRequant {
  right: number;
  /** 2^(right - 1) (the rounding) + zeroPoint * 2^right (the output zero point, exactly). */
  offset: number;
}

/**
 * Where the Cortex-M4 form of the requantization (tfl_requant_double_fast / tfl_requant_single_fast in
 * fixedpoint_tflite.h) gives requantize's bits, and its numbers: null where it does not. It is the
 * same function computed with one SMMLAR or SMMLA and a right shift by `right`, `offset` added by that
 * instruction (adding zeroPoint * 2^right before a floor shift adds zeroPoint after it, exactly), then
 * SSAT and the activation's clamp:
 * - 'double', shift in [-31, -1] and every |acc| < 2^30: SaturatingRoundingDoublingHighMul(acc, m) is
 *   the high word of 2 * acc * m rounded (SMMLAR of 2 * acc, which must fit in an int32), and
 *   RoundingDivideByPOT(v, right) = (v + 2^(right - 1) - (v < 0)) >> right, where acc's sign may
 *   stand for v's (v is 0 when they differ, and 0 shifts to 0 either way). right = -shift.
 * - 'single', shift in [-31, -2], any acc: (acc * m + 2^(30 - shift)) >> (31 - shift) is
 *   (floor(acc * m / 2^32) + 2^(right - 1)) >> right (SMMLA), right = -shift - 1.
 * A multiplier of 0 (a flushed channel) gives 0 either way: right 1. The sum before the shift must
 * stay an int32: |v| <= |acc| <= maxAbsAcc (|acc * m / 2^32| <= 2^30 for 'single'), plus |offset|.
 * `maxAbsAcc` bounds |acc| (the compiler's bound: |bias| + row length * 255 * 127).
 */
export function fastRequant(
  q: QuantizedMultiplier,
  rounding: Rounding,
  maxAbsAcc: number,
  zeroPoint: number,
): FastRequant | null {
  let right: number | null;
  if (q.multiplier === 0) right = 1;
  else if (rounding === 'single') right = q.shift <= -2 && q.shift >= -31 ? -q.shift - 1 : null;
  else right = q.shift <= -1 && q.shift >= -31 && maxAbsAcc < 2 ** 30 ? -q.shift : null;
  if (right === null) return null;
  const offset = 2 ** (right - 1) + zeroPoint * 2 ** right;
  const v = rounding === 'single' ? Math.min(maxAbsAcc, 2 ** 30) + 1 : maxAbsAcc + 1;
  return v + Math.abs(offset) + 1 < 2 ** 31 ? { right, offset } : null;
}

/**
 * Average pooling (int8): the sum of the `count` window positions inside the input, divided
 * rounding to nearest with ties away from zero as integer C does it: (sum +- count/2) / count
 * (truncating), then clamped to the activation range. Input and output share scale and zero point.
 */
export function averagePool(sum: number, count: number, range: ActivationRange): number {
  const half = Math.floor(count / 2);
  const v = Math.trunc(sum > 0 ? (sum + half) / count : (sum - half) / count);
  return clamp(v, range.min, range.max);
}

/** The parameters of an int8 Add (add.cc Prepare, the general 8-bit path). */
export interface AddParams {
  input1Offset: number;
  input2Offset: number;
  /** 20 for int8: the inputs are scaled up before the rescaling multipliers (< 1). */
  leftShift: number;
  input1: QuantizedMultiplier;
  input2: QuantizedMultiplier;
  output: QuantizedMultiplier;
  outputOffset: number;
  range: ActivationRange;
}

export const ADD_LEFT_SHIFT_INT8 = 20;

/**
 * add.cc: twiceMax = 2 * max(s1, s2) in double, input k's multiplier s_k / twiceMax, the output's
 * twiceMax / (2^20 * outScale), each QuantizeMultiplierSmallerThanOneExp. The max is taken on the
 * float scales, everything after in double.
 */
export function addParams(
  s1: number,
  zp1: number,
  s2: number,
  zp2: number,
  sOut: number,
  zpOut: number,
  activation: FusedActivation = 'NONE',
  rounding: Rounding = TFLITE_ROUNDING,
): AddParams {
  const twiceMax = 2 * Math.max(Math.fround(s1), Math.fround(s2));
  const left = ADD_LEFT_SHIFT_INT8;
  return {
    input1Offset: -zp1,
    input2Offset: -zp2,
    leftShift: left,
    input1: quantizeMultiplierSmallerThanOne(Math.fround(s1) / twiceMax, rounding),
    input2: quantizeMultiplierSmallerThanOne(Math.fround(s2) / twiceMax, rounding),
    output: quantizeMultiplierSmallerThanOne(twiceMax / (2 ** left * Math.fround(sOut)), rounding),
    outputOffset: zpOut,
    range: activationRange(activation, sOut, zpOut),
  };
}

/**
 * reference_integer_ops Add on one element pair: each input offset and scaled up by 2^leftShift,
 * rescaled by its multiplier (MultiplyByQuantizedMultiplierSmallerThanOneExp, which is
 * MultiplyByQuantizedMultiplier for shift <= 0), summed, rescaled to the output, offset, clamped.
 */
export function add(a: number, b: number, p: AddParams, rounding: Rounding = TFLITE_ROUNDING): number {
  const x1 = i32((a + p.input1Offset) * 2 ** p.leftShift);
  const x2 = i32((b + p.input2Offset) * 2 ** p.leftShift);
  const s1 = multiplyByQuantizedMultiplier(x1, p.input1.multiplier, p.input1.shift, rounding);
  const s2 = multiplyByQuantizedMultiplier(x2, p.input2.multiplier, p.input2.shift, rounding);
  const raw = multiplyByQuantizedMultiplier(i32(s1 + s2), p.output.multiplier, p.output.shift, rounding);
  return clamp(raw + p.outputOffset, p.range.min, p.range.max);
}

// ---- Float ends (QUANTIZE / DEQUANTIZE) -----------------------------------------------------------

/** AffineQuantize to int8: round(x / scale) (float32 division, ties away) + zeroPoint, saturated. */
export function quantizeInt8(x: number, scale: number, zeroPoint: number): number {
  return clamp(roundHalfAway(Math.fround(Math.fround(x) / Math.fround(scale))) + zeroPoint, -128, 127);
}

/** Dequantize: float32(double(scale) * (q - zeroPoint)). */
export function dequantizeInt8(q: number, scale: number, zeroPoint: number): number {
  return Math.fround(Math.fround(scale) * (q - zeroPoint));
}

// ---- Softmax (reference_ops::Softmax, int8 in and out: gemmlowp's fixed-point exp) --------------
// The 2.21 interpreter's reference int8 Softmax (kReference) is not the lookup table of its optimized
// kernel: the differences to the row maximum are scaled into Q5.26, exp() is gemmlowp's
// exp_on_negative_values, the sum of the exps is accumulated in Q12.19, its reciprocal comes from
// gemmlowp's Newton-Raphson one_over_one_plus_x_for_x_in_0_1, and each output is exp * reciprocal
// rounded to 1/256 (output scale 1/256, zero point -128, which the kernel requires).

/** Integer bits of the scaled differences (Q5.26) and of the sum of exps (Q12.19). */
const SOFTMAX_DIFF_BITS = 5;
const SOFTMAX_ACCUM_BITS = 12;

/**
 * gemmlowp SaturatingRoundingMultiplyByPOT: x * 2^exponent, a saturating left shift for exponent
 * > 0, RoundingDivideByPOT for exponent < 0.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = 2 ** (31 - exponent) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/** gemmlowp RoundingHalfSum on int32: (a + b) / 2 to nearest, ties away from zero, on 64 bits. */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/** exp(a) for a in [-1/4, 0), Q0.31 in and out: a Taylor expansion around -1/8. */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const oneThird = 715827883;
  const x = i32(a + 2 ** 28); // a + 1/8
  const x2 = saturatingRoundingDoublingHighMul(x, x);
  const x3 = saturatingRoundingDoublingHighMul(x2, x);
  const x4 = saturatingRoundingDoublingHighMul(x2, x2);
  const x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2);
  const poly = saturatingRoundingMultiplyByPOT(
    i32(saturatingRoundingDoublingHighMul(i32(x4Over4 + x3), oneThird) + x2),
    -1,
  );
  return i32(constantTerm + saturatingRoundingDoublingHighMul(constantTerm, i32(x + poly)));
}

/** exp(x) of gemmlowp's exp_on_negative_values for a Q5.26 input a <= 0; Q0.31 out. */
export function expOnNegativeValues(a: number): number {
  const fractional = 31 - SOFTMAX_DIFF_BITS;
  const quarter = 2 ** (fractional - 2);
  const aModQuarterMinusQuarter = i32((a & (quarter - 1)) - quarter);
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(
    saturatingRoundingMultiplyByPOT(aModQuarterMinusQuarter, SOFTMAX_DIFF_BITS), // Rescale<0>
  );
  const remainder = i32(aModQuarterMinusQuarter - a);
  // exp(-2^k) for k = -2..4, applied for each bit of the remaining multiple of 1/4.
  const barrel: [number, number][] = [
    [-2, 1672461947],
    [-1, 1302514674],
    [0, 790015084],
    [1, 290630308],
    [2, 39332535],
    [3, 720401],
    [4, 242],
  ];
  for (const [exponent, multiplier] of barrel) {
    if (SOFTMAX_DIFF_BITS > exponent && remainder & (1 << (fractional + exponent)))
      result = saturatingRoundingDoublingHighMul(result, multiplier);
  }
  return a === 0 ? INT32_MAX : result;
}

/** 1 / (1 + x) for x in [0, 1), Q0.31 in and out: three Newton-Raphson steps in Q2.29. */
function oneOverOnePlusXForXIn01(a: number): number {
  const halfDenominator = roundingHalfSum(a, INT32_MAX);
  const c48over17 = 1515870810;
  const cNeg32over17 = -1010580540;
  const one = 2 ** 29; // 1.0 in Q2.29
  let x = i32(c48over17 + saturatingRoundingDoublingHighMul(halfDenominator, cNeg32over17));
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x);
    const oneMinus = i32(one - halfDenominatorTimesX);
    x = i32(x + saturatingRoundingMultiplyByPOT(saturatingRoundingDoublingHighMul(x, oneMinus), 2));
  }
  return saturatingRoundingMultiplyByPOT(x, 1);
}

/**
 * TFLite's GetReciprocal: 1 / x for a positive Q12.19 x, as a Q0.31 value and the number of bits
 * the result is to be shifted by (numBitsOverUnit).
 */
export function getReciprocal(x: number, integerBits: number): { reciprocal: number; bitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  const shiftedSumMinusOne = i32((x << headroomPlusOne) - INT32_MIN); // minus 2^31, wrapping
  return {
    reciprocal: oneOverOnePlusXForXIn01(shiftedSumMinusOne),
    bitsOverUnit: integerBits - headroomPlusOne,
  };
}

export interface SoftmaxParams {
  /** The input scale times beta in Q5.26 per int8 step: MultiplyByQuantizedMultiplierGreaterThanOne. */
  multiplier: number;
  leftShift: number;
  /** Differences to the row maximum below this give exp = 0 (output -128). */
  diffMin: number;
}

/**
 * PreprocessSoftmaxScaling (beta * inputScale * 2^26, capped at 2^31 - 1, or 2^30 - 1 with single
 * rounding, through QuantizeMultiplierGreaterThanOne) and diffMin = -CalculateInputRadius(5,
 * leftShift) = -floor(31 * 2^26 / 2^leftShift).
 */
export function softmaxParams(
  inputScale: number,
  beta = 1,
  rounding: Rounding = TFLITE_ROUNDING,
): SoftmaxParams {
  const cap = rounding === 'single' ? 2 ** 30 - 1 : 2 ** 31 - 1;
  const real = Math.min(Math.fround(beta) * Math.fround(inputScale) * 2 ** (31 - SOFTMAX_DIFF_BITS), cap);
  const q = quantizeMultiplierGreaterThanOne(real, rounding);
  const radius = Math.floor(((2 ** SOFTMAX_DIFF_BITS - 1) * 2 ** (31 - SOFTMAX_DIFF_BITS)) / 2 ** q.shift);
  return { multiplier: q.multiplier, leftShift: q.shift, diffMin: -radius };
}

/** MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(x * 2^leftShift, m) when rounding twice. */
function multiplyGreaterThanOne(x: number, m: number, leftShift: number, rounding: Rounding): number {
  if (rounding === 'single') return multiplyByQuantizedMultiplier(x, m, leftShift, 'single');
  return saturatingRoundingDoublingHighMul(i32(x << leftShift), m);
}

/** reference_ops::Softmax on one row of int8 values (the last dimension); int8 out (scale 1/256, zp -128). */
export function softmaxRow(
  row: ArrayLike<number>,
  p: SoftmaxParams,
  rounding: Rounding = TFLITE_ROUNDING,
): number[] {
  let max = -128;
  for (let c = 0; c < row.length; c++) max = Math.max(max, row[c]);
  const exps: (number | undefined)[] = [];
  let sum = 0; // Q12.19
  for (let c = 0; c < row.length; c++) {
    const diff = row[c] - max;
    if (diff < p.diffMin) {
      exps.push(undefined);
      continue;
    }
    const e = expOnNegativeValues(multiplyGreaterThanOne(diff, p.multiplier, p.leftShift, rounding));
    exps.push(e);
    sum = i32(sum + saturatingRoundingMultiplyByPOT(e, -SOFTMAX_ACCUM_BITS)); // Rescale<12>
  }
  const { reciprocal, bitsOverUnit } = getReciprocal(sum, SOFTMAX_ACCUM_BITS);
  const exponent = bitsOverUnit + 31 - 8;
  return exps.map((e) => {
    if (e === undefined) return -128;
    const unsaturated = roundingDivideByPOT(saturatingRoundingDoublingHighMul(reciprocal, e), exponent);
    return clamp(unsaturated - 128, -128, 127);
  });
}
