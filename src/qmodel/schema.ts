// The .tfm header JSON, version 1 (docs/format.md). Strict objects: a key this version does not
// know is an error, not something silently ignored (only `meta` is free-form). Each layer's entry
// is its operator module's schema (src/ops), selected by `kind`.
import { z } from 'zod';
import { quantizedOps, registeredOps } from '../ops/registry.js';
import { affineQuant, codedWeightsSchema, fracBits, inputShape } from './schemaParts.js';

export * from './schemaParts.js';

/** The layer entry of every operator that can be quantized, told apart by `kind`. */
export const layerSchema = z.discriminatedUnion(
  'kind',
  registeredOps()
    .filter((op) => op.quantized)
    .map((op) => quantizedOps(op.kind).schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** The layer entry of every operator with a TFLite int8 form. */
export const int8LayerSchema = z.discriminatedUnion(
  'kind',
  registeredOps()
    .filter((op) => op.int8)
    .map((op) => quantizedOps(op.kind, 'tflite-int8').schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const headerSchema = z.strictObject({
  inputShape,
  classNames: z.array(z.string()).min(1),
  normalization: z.strictObject({
    mean: z.array(z.number()),
    std: z.array(z.number().refine((s) => s !== 0, 'a standard deviation must not be 0')),
  }),
  inputFrac: fracBits,
  layers: z.array(layerSchema).min(1),
  meta: z.record(z.string(), z.unknown()),
});

/** The header of a model under TFLite's int8 scheme (`scheme: 'tflite-int8'`). */
export const int8HeaderSchema = headerSchema.extend({
  scheme: z.literal('tflite-int8'),
  affine: z.strictObject({ input: affineQuant, output: affineQuant }),
  layers: z.array(int8LayerSchema).min(1),
});

/** The header schema a header's `scheme` selects. */
export function headerSchemaOf(header: unknown): typeof headerSchema | typeof int8HeaderSchema {
  const scheme = (header as { scheme?: unknown } | null)?.scheme;
  return scheme === 'tflite-int8' ? int8HeaderSchema : headerSchema;
}

export type TfmHeader = z.infer<typeof headerSchema> & {
  scheme?: 'tflite-int8';
  affine?: z.infer<typeof int8HeaderSchema>['affine'];
};
export type TfmLayer = z.infer<typeof layerSchema>;
export type TfmCodedWeights = z.infer<typeof codedWeightsSchema>;
