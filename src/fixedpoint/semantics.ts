// THE definition of tinyforge's integer arithmetic. docs/fixed-point.md explains it; the host
// reference interpreter calls these functions and templates/fixedpoint.h.hbs implements the same
// operations in C. Change one, change all three, and the bit-exact tests will tell you if you did not.
//
// Number formats are power-of-two ("Qm.n"): an integer q with `frac` fractional bits means q * 2^-frac.
// Activations are int8, weights are signed b-bit (2..8) stored in int8, biases and accumulators int32.

export const INT8_MIN = -128;
export const INT8_MAX = 127;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** Largest |accumulator| the compiler accepts, so that acc + rounding constant never overflows int32. */
export const ACC_LIMIT = 2 ** 30;

/** Requantization shifts are always in this range (the quantizer chooses formats to make it so). */
export const MIN_SHIFT = 0;
export const MAX_SHIFT = 31;

export function sat8(v: number): number {
  return v < INT8_MIN ? INT8_MIN : v > INT8_MAX ? INT8_MAX : v;
}

/** Signed range of a b-bit weight: [-2^(b-1), 2^(b-1) - 1]. */
export function weightRange(bits: number): [number, number] {
  return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

/** Rounding arithmetic right shift, round half up: (acc + 2^(shift-1)) >> shift. shift in [0, 31]. */
export function roundShift(acc: number, shift: number): number {
  if (shift === 0) return acc;
  // Math.floor on exact doubles == C's arithmetic >> on int32 (gcc semantics), for |acc| < 2^30.
  return Math.floor((acc + 2 ** (shift - 1)) / 2 ** shift);
}

/** Accumulator (inFrac + wFrac fractional bits) to int8 (outFrac bits), optional fused ReLU. */
export function requantize(acc: number, shift: number, relu: boolean): number {
  const v = sat8(roundShift(acc, shift));
  return relu && v < 0 ? 0 : v;
}

/** Shift that takes an accumulator of (inFrac + wFrac) fractional bits to outFrac bits. */
export function requantShift(inFrac: number, wFrac: number, outFrac: number): number {
  return inFrac + wFrac - outFrac;
}

/**
 * The rounding of every float-to-integer conversion: to nearest, ties up (towards +infinity),
 * floor(x + 1/2). On doubles that is exact for every x of at most 24 significant bits (a float32
 * value times a power of two: weights, biases, activations). Float32 code (tensors) must not add
 * 1/2 in float32, which rounds (0.49999997 + 0.5 is 1 in float32); there the same function is
 * floor(x) + (x - floor(x) >= 1/2 ? 1 : 0), every step exact in binary floating point.
 */
export function roundHalfUp(x: number): number {
  return Math.floor(x + 0.5);
}

/** Bias in float to the accumulator's format, saturated to int32. */
export function quantizeBias(b: number, accFrac: number): number {
  const q = roundHalfUp(b * 2 ** accFrac);
  return q < INT32_MIN ? INT32_MIN : q > INT32_MAX ? INT32_MAX : q;
}

/** Float to a signed value of `bits` bits with `frac` fractional bits: round half up, saturate. */
export function quantizeValue(x: number, frac: number, bits: number): number {
  const [lo, hi] = weightRange(bits);
  const q = roundHalfUp(x * 2 ** frac);
  return q < lo ? lo : q > hi ? hi : q;
}

/** Input activations: float (already normalized) to int8 with `frac` fractional bits. */
export function quantizeInput(x: number, frac: number): number {
  return quantizeValue(x, frac, 8);
}

/** Average of `n` int8 values given their sum, rounded half up (floor((2*sum + n) / (2n))). */
export function roundedAverage(sum: number, n: number): number {
  return Math.floor((2 * sum + n) / (2 * n));
}

/** Index of the first maximum: the class the firmware reports. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Largest fractional-bit count f such that every value of magnitude up to `maxAbs` fits in
 * `bits` signed bits (round-half-up) — the format a tensor with that range gets.
 */
export function fracBitsFor(maxAbs: number, bits: number): number {
  if (!(maxAbs > 0)) return bits - 1;
  const hi = 2 ** (bits - 1) - 1;
  // 2^f * maxAbs <= hi  =>  f = floor(log2(hi / maxAbs))
  let f = Math.floor(Math.log2(hi / maxAbs));
  while (roundHalfUp(maxAbs * 2 ** f) > hi) f--;
  return f;
}

/**
 * The grid a tensor whose largest magnitude is `maxAbs` is quantized onto with `bits` bits: the
 * values q * 2^-frac for integers q in [lo, hi], frac = fracBitsFor(maxAbs, bits) and [lo, hi] =
 * weightRange(bits). quantizeValue(x, frac, bits) / 2^frac is x on that grid (what fake
 * quantization in fine-tuning computes with tensors).
 */
export interface QuantGrid {
  frac: number;
  lo: number;
  hi: number;
}

export function quantGrid(maxAbs: number, bits: number): QuantGrid {
  const [lo, hi] = weightRange(bits);
  return { frac: fracBitsFor(maxAbs, bits), lo, hi };
}

// ---- Merges and activations (Add, Concatenate, clipped ReLU, table activations) ----------------

/**
 * An int8 value with f fractional bits in a format with f - shift fractional bits (shift >= 0):
 * roundShift, which stays in int8 (|result| <= |x| rounded), so no saturation. Concatenate
 * brings each input to the common format with it; shift 0 is a plain copy.
 */
export function rescale8(x: number, shift: number): number {
  return roundShift(x, shift);
}

/**
 * Add: each input rescaled to the output format (shift = its frac - the output frac >= 0), the
 * int8 terms summed exactly, the sum saturated once. With two inputs this is QADD8 of two rescaled
 * int8 terms (the saturating byte add sees exactly this sum).
 */
export function addRescaled(xs: readonly number[], shifts: readonly number[]): number {
  let acc = 0;
  for (let k = 0; k < xs.length; k++) acc += rescale8(xs[k], shifts[k]);
  return sat8(acc);
}

/** Clamp to [lo, hi] (lo <= hi): the clipped ReLU with lo = 0, hi = the quantized maximum. */
export function clamp8(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * A table activation: a 256-entry int8 table indexed by the byte of x (x & 255: 0..127, then
 * -128..-1), as C indexes it with (uint8_t)x.
 */
export function lookup8(table: Int8Array, x: number): number {
  return table[x & 255];
}
