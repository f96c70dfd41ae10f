// Reusable pieces of the .tfm header schema (docs/format.md): the operator modules build their
// layer entries from these, schema.ts the header around them.
import { z } from 'zod';
import { MAX_CODE_LENGTH } from './model.js';

export const int = z.number().int();
export const posInt = int.min(1);
export const natInt = int.min(0);
/** Fractional bits: any integer a power-of-two format can have; the shift checks bound them further. */
export const fracBits = int.min(-64).max(64);
/**
 * Bounds on what a header may declare (docs/format.md), so that a crafted file cannot make the
 * reference, the C generator or a caller allocate without bound: each dimension at most MAX_DIM,
 * each tensor at most MAX_TENSOR_VALUES values, each weight matrix at most MAX_MATRIX_WEIGHTS.
 */
export const MAX_DIM = 1 << 16;
export const MAX_TENSOR_VALUES = 1 << 24;
export const MAX_MATRIX_WEIGHTS = 1 << 24;
const dim = posInt.max(MAX_DIM);
const tensorBound = (s: readonly number[]): boolean => s.reduce((a, b) => a * b, 1) <= MAX_TENSOR_VALUES;
const tensorMessage = `a tensor holds at most ${MAX_TENSOR_VALUES} values`;
/** A tensor shape, channels last: [T, C] or [H, W, C]. */
export const shape = z.array(dim).min(2).max(3).refine(tensorBound, tensorMessage);
/** The input window [T, C]. */
export const inputShape = z.tuple([dim, dim]).refine(tensorBound, tensorMessage);
export const padding = z.enum(['same', 'valid']);

/** A byte range inside the payload. */
export const byteRangeSchema = z.strictObject({ offset: natInt, bytes: natInt });

export const huffmanTableSchema = z.strictObject({
  counts: z
    .array(natInt)
    .min(2)
    .max(MAX_CODE_LENGTH + 1),
  symbols: z.array(int.min(0).max(511)).min(1).max(512),
  maxLength: int.min(1).max(MAX_CODE_LENGTH),
});

export const codedWeightsSchema = z
  .strictObject({
    coding: z.enum(['packed', 'huffman', 'rle-huffman']),
    bits: int.min(2).max(8),
    rows: posInt,
    rowLength: posInt,
    bitLength: natInt,
    bitstream: byteRangeSchema,
    table: huffmanTableSchema.optional(),
  })
  .refine((w) => w.rows * w.rowLength <= MAX_MATRIX_WEIGHTS, {
    message: `a weight matrix holds at most ${MAX_MATRIX_WEIGHTS} weights`,
  });

/** int32 little-endian values in the payload. */
export const biasSchema = z.strictObject({ offset: natInt, count: natInt.max(MAX_DIM) });

/** A tensor's scale and zero point under TFLite's int8 scheme (real = scale * (q - zeroPoint)). */
export const affineQuant = z.strictObject({
  scale: z.number().positive().finite(),
  zeroPoint: int.min(-128).max(127),
});

/** Fields every quantized layer has; `inputs` names the tensors it reads (absent: the previous). */
export const layerBaseFields = {
  name: z.string().min(1),
  inputs: z.array(z.string().min(1)).min(1).optional(),
  inShape: shape,
  outShape: shape,
};
