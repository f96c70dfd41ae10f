// The .tfm header JSON, version 1 (docs/format.md). Strict objects: a key this version does not
// know is an error, not something silently ignored (only `meta` is free-form). Each layer's entry
// is its operator module's schema (src/ops), selected by `kind`.
import { z } from 'zod';
import { quantizedOps, registeredOps } from '../ops/registry.js';
import { codedWeightsSchema, fracBits, inputShape } from './schemaParts.js';

export * from './schemaParts.js';

/** The layer entry of every operator that can be quantized, told apart by `kind`. */
export const layerSchema = z.discriminatedUnion(
  'kind',
  registeredOps()
    .filter((op) => op.quantized)
    .map((op) => quantizedOps(op.kind).schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
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

export type TfmHeader = z.infer<typeof headerSchema>;
export type TfmLayer = z.infer<typeof layerSchema>;
export type TfmCodedWeights = z.infer<typeof codedWeightsSchema>;
