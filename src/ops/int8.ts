// What the operators share under TFLite's int8 scheme (CompressedModel.scheme 'tflite-int8'): the
// .tfm fields (each tensor's scale and zero point, the fused activation), the check that a layer's
// input quantization is its producer's, and the weighted operators' parts: int8 rows recovered from
// the dequantized weights, per-channel multipliers, the requantization of reference_integer_ops.
// The arithmetic itself is src/fixedpoint/tflite.ts (and its C twin, fixedpoint_tflite.h).
import { z } from 'zod';
import {
  activationRange,
  convMultiplier,
  fullyConnectedMultiplier,
  quantizeMultiplier,
  requantize,
  type ActivationRange,
  type FusedActivation,
  type QuantizedMultiplier,
  type Rounding,
} from '../fixedpoint/tflite.js';
import type { AffineQuant, CodedWeights, QLayer } from '../qmodel/model.js';
import { codedWeightsProblem } from '../qmodel/coding/index.js';
import { affineQuant, biasSchema, codedWeightsSchema, layerBaseFields } from '../qmodel/schemaParts.js';
import type { CheckContext, Int8Context, QuantizedOps, RowSource } from './types.js';

export const FUSED_ACTIVATIONS = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'] as const;

/** Every int8 layer: its input's and output's quantization and the clamp of its fused activation. */
export interface Int8Q extends QLayer {
  input: AffineQuant;
  output: AffineQuant;
  activation: FusedActivation;
}

/** A weighted int8 layer: int8 rows (symmetric, 8-bit coded), their scales, int32 biases. */
export interface Int8WeightedQ extends Int8Q {
  /** One scale (per tensor) or one per output channel. */
  weightScales: number[];
  bias: Int32Array;
  weights: CodedWeights;
}

export const int8Fields = {
  input: affineQuant,
  output: affineQuant,
  activation: z.enum(FUSED_ACTIVATIONS),
};

export const int8WeightedFields = {
  ...int8Fields,
  weightScales: z.array(z.number().positive().finite()).min(1),
  bias: biasSchema,
  weights: codedWeightsSchema,
};

/** The .tfm entry of an int8 layer of `kind` with the operator's own fields. */
export function int8Schema(kind: string, own: z.ZodRawShape, weighted: boolean): z.ZodType {
  return z.strictObject({
    kind: z.literal(kind),
    ...layerBaseFields,
    ...own,
    ...(weighted ? int8WeightedFields : int8Fields),
  });
}

const sameQuant = (a: AffineQuant, b: AffineQuant): boolean =>
  a.scale === b.scale && a.zeroPoint === b.zeroPoint;

const show = (q: AffineQuant): string => `scale ${q.scale}, zero point ${q.zeroPoint}`;

/** The layer's recorded input quantization must be its producer's output quantization. */
export function checkInt8Input(q: Int8Q, ctx: CheckContext, input: AffineQuant = q.input): void {
  const from = ctx.inQuants[0];
  if (!sameQuant(input, from)) ctx.fail(`input (${show(input)}) differs from its producer's (${show(from)})`);
}

/** The int8 clamp of a layer's fused activation on its output. */
export function rangeOf(q: Int8Q): ActivationRange {
  return activationRange(q.activation, q.output.scale, q.output.zeroPoint);
}

/** The base fields of an int8 layer from the importer's context. */
export function int8Base(ctx: Int8Context): Omit<Int8Q, 'kind'> {
  return { ...ctx.base, input: ctx.inputs[0], output: ctx.output, activation: ctx.activation };
}

/** A layer that keeps its input's quantization (Reshape, Flatten, MaxPool): check it does. */
export function checkKeepsQuant(q: Int8Q, ctx: CheckContext): void {
  checkInt8Input(q, ctx);
  if (!sameQuant(q.input, q.output))
    ctx.fail(`output (${show(q.output)}) must keep its input's quantization (${show(q.input)})`);
}

// ---- Weighted operators (Conv1D, Conv2D, Dense, DepthwiseConv) ------------------------------------

/** Which TFLite kernel an operator is, for its multipliers and its rounding (TFLITE_2_21_ROUNDING). */
export interface WeightedFlavour {
  /** FullyConnected takes a per-tensor scale product in float32 (fullyConnectedMultiplier). */
  fullyConnected: boolean;
  rounding: Rounding;
}

/** Per output channel: multiplier and shift from the float32 scales, as TFLite's Prepare does. */
export function channelMultipliers(
  q: Int8WeightedQ,
  outs: number,
  f: WeightedFlavour,
): QuantizedMultiplier[] {
  const perTensor = q.weightScales.length === 1;
  return Array.from({ length: outs }, (_, o) => {
    const ws = q.weightScales[perTensor ? 0 : o];
    const m =
      f.fullyConnected && perTensor
        ? fullyConnectedMultiplier(q.input.scale, ws, q.output.scale)
        : convMultiplier(q.input.scale, ws, q.output.scale);
    return quantizeMultiplier(m);
  });
}

/**
 * The loop of a weighted operator's reference, shared with its pow2 form: x as given (here the
 * input minus its zero point, so that skipped padding taps count as the zero point), `start(o)` the
 * accumulator's first value, `finish(o, acc)` the output value.
 */
export type WeightedLoop<Q> = (
  q: Q,
  x: ArrayLike<number>,
  row: RowSource,
  start: (o: number) => number,
  finish: (o: number, acc: number) => number,
) => Int8Array;

/** reference_integer_ops: bias + sum (x - inZeroPoint) * w, requantized, plus the output zero point, clamped. */
export function weightedInt8Reference<Q extends Int8WeightedQ>(
  q: Q,
  x: Int8Array,
  row: RowSource,
  outs: number,
  f: WeightedFlavour,
  loop: WeightedLoop<Q>,
): Int8Array {
  const zp = q.input.zeroPoint;
  const offset = Int16Array.from(x, (v) => v - zp);
  const mult = channelMultipliers(q, outs, f);
  const range = rangeOf(q);
  return loop(
    q,
    offset,
    row,
    (o) => q.bias[o],
    (o, acc) => requantize(acc, mult[o].multiplier, mult[o].shift, q.output.zeroPoint, range, f.rounding),
  );
}

/** int8 weight rows from the dequantized float rows: w / scale is an integer (w = scale * q in float32). */
export function int8Rows(
  rows: { rows: number; rowLength: number; data: Float32Array },
  scales: readonly number[],
  fail: (why: string) => never,
): Int8Array {
  const out = new Int8Array(rows.rows * rows.rowLength);
  for (let o = 0; o < rows.rows; o++) {
    const s = scales[scales.length === 1 ? 0 : o];
    for (let i = 0; i < rows.rowLength; i++) {
      const w = rows.data[o * rows.rowLength + i];
      const v = Math.round(w / s);
      if (v < -127 || v > 127 || Math.fround(s * v) !== w)
        fail(`weight ${w} of output channel ${o} is not a symmetric int8 multiple of its scale ${s}`);
      out[o * rows.rowLength + i] = v;
    }
  }
  return out;
}

/** The weighted int8 fields from the importer's context: rows, scales, bias. */
export function weightedFromTflite(
  ctx: Int8Context,
  rows: { rows: number; rowLength: number; data: Float32Array },
): Pick<Int8WeightedQ, 'weightScales' | 'bias' | 'weights'> {
  const scales = ctx.weightScales ?? ctx.fail('no int8 weights tensor with scales');
  if (scales.length !== 1 && scales.length !== rows.rows)
    ctx.fail(`${scales.length} weight scales for ${rows.rows} output channels`);
  if (ctx.inputs[0] === undefined) ctx.fail('no input quantization');
  const bias = ctx.bias ?? new Int32Array(rows.rows);
  if (bias.length !== rows.rows) ctx.fail(`${bias.length} biases for ${rows.rows} output channels`);
  const values = int8Rows(rows, scales, ctx.fail);
  return { weightScales: [...scales], bias, weights: ctx.encode(values, rows.rows, rows.rowLength) };
}

/** The validity rules of a weighted int8 layer with `outs` rows of `rowLength`. */
export function checkInt8Weighted(
  q: Int8WeightedQ,
  outs: number,
  rowLength: number,
  ctx: CheckContext,
): void {
  checkInt8Input(q, ctx);
  const { fail } = ctx;
  if (q.weightScales.length !== 1 && q.weightScales.length !== outs)
    fail(`${q.weightScales.length} weight scales, expected 1 or ${outs}`);
  if (!(q.bias instanceof Int32Array) || q.bias.length !== outs)
    fail(`bias has ${q.bias?.length} entries, expected ${outs}`);
  const w = q.weights;
  if (w.bits !== 8) fail(`int8 weights are coded at ${w.bits} bits, expected 8`);
  if (w.rows !== outs || w.rowLength !== rowLength)
    fail(`weights are ${w.rows} x ${w.rowLength}, expected ${outs} rows of ${rowLength}`);
  const problem = codedWeightsProblem(w);
  if (problem) fail(`weights: ${problem}`);
  // Worst case |acc| = |bias| + rowLength * 255 * 127 must stay an int32 (TFLite has no guard either).
  for (let o = 0; o < outs; o++)
    if (Math.abs(q.bias[o]) + rowLength * 255 * 127 >= 2 ** 31)
      fail(`output channel ${o}: the accumulator may overflow int32`);
}

/** The quantized parts every weighted int8 operator shares (the operator adds check, reference, toIr). */
export function weightedInt8Quantized<Q extends Int8WeightedQ>(
  kind: string,
  own: z.ZodRawShape,
): Pick<QuantizedOps<Q>, 'schema' | 'outFrac' | 'outQuant' | 'coded'> {
  return {
    schema: int8Schema(kind, own, true),
    outFrac: () => 0,
    outQuant: (q) => q.output,
    coded: (q) => ({ weights: q.weights, bias: q.bias }),
  };
}

/** The IR activation an int8 layer stands for (its clamp is the fused activation; shapes ignore it). */
export function irActivation(q: Int8Q): 'relu' | 'linear' {
  return q.activation === 'RELU' ? 'relu' : 'linear';
}
