// Reusable pieces of the .tfm header schema (docs/format.md): the operator modules build their
// layer entries from these, schema.ts the header around them.
import { z } from 'zod';
import { MAX_CODE_LENGTH } from './model.js';

export const int = z.number().int();
export const posInt = int.min(1);
export const natInt = int.min(0);
/** Fractional bits: any integer a power-of-two format can have; the shift checks bound them further. */
export const fracBits = int.min(-64).max(64);
/** A tensor shape, channels last: [T, C] or [H, W, C]. */
export const shape = z.array(posInt).min(2).max(3);
/** The input window [T, C]. */
export const inputShape = z.tuple([posInt, posInt]);
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

export const codedWeightsSchema = z.strictObject({
  coding: z.enum(['packed', 'huffman', 'rle-huffman']),
  bits: int.min(2).max(8),
  rows: posInt,
  rowLength: posInt,
  bitLength: natInt,
  bitstream: byteRangeSchema,
  table: huffmanTableSchema.optional(),
});

/** int32 little-endian values in the payload. */
export const biasSchema = z.strictObject({ offset: natInt, count: natInt });

/** Fields every quantized layer has; `inputs` names the tensors it reads (absent: the previous). */
export const layerBaseFields = {
  name: z.string().min(1),
  inputs: z.array(z.string().min(1)).min(1).optional(),
  inShape: shape,
  outShape: shape,
};
