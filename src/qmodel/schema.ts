// The .tfm header JSON, version 1 (docs/format.md). Strict objects: a key this version does not
// know is an error, not something silently ignored (only `meta` is free-form).
import { z } from 'zod';
import { MAX_CODE_LENGTH } from './model.js';

const int = z.number().int();
const posInt = int.min(1);
const natInt = int.min(0);
/** Fractional bits: any integer a power-of-two format can have; the shift checks bound them further. */
const fracBits = int.min(-64).max(64);
const shape = z.tuple([posInt, posInt]);
const padding = z.enum(['same', 'valid']);

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

const base = { name: z.string().min(1), inShape: shape, outShape: shape };
const weighted = {
  relu: z.boolean(),
  inFrac: fracBits,
  outFrac: fracBits,
  wFrac: z.array(fracBits).min(1),
  bias: biasSchema,
  weights: codedWeightsSchema,
};

export const layerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('conv1d'),
    ...base,
    filters: posInt,
    kernelSize: posInt,
    stride: posInt,
    padding,
    padLeft: natInt,
    ...weighted,
  }),
  z.strictObject({ kind: z.literal('dense'), ...base, units: posInt, ...weighted }),
  z.strictObject({
    kind: z.enum(['maxpool1d', 'avgpool1d']),
    ...base,
    poolSize: posInt,
    stride: posInt,
    padding,
    padLeft: natInt,
    frac: fracBits,
  }),
  z.strictObject({ kind: z.enum(['gap1d', 'flatten', 'relu']), ...base, frac: fracBits }),
]);

export const headerSchema = z.strictObject({
  inputShape: shape,
  classNames: z.array(z.string()).min(1),
  normalization: z.strictObject({
    mean: z.array(z.number()),
    std: z.array(z.number().refine((s) => s !== 0, 'a standard deviation must not be 0')),
  }),
  inputFrac: fracBits,
  layers: z.array(layerSchema).min(1),
  meta: z.record(z.string(), z.unknown()),
});

export type TfmHeader = z.infer<typeof headerSchema>;
export type TfmLayer = z.infer<typeof layerSchema>;
export type TfmCodedWeights = z.infer<typeof codedWeightsSchema>;
