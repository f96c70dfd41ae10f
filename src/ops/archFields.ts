// Fields every architecture-file entry may have (src/graph/arch.ts documents the format).
import { z } from 'zod';
import type { ConvPadding, Padding } from '../graph/types.js';
import { padding as paddingSchema, posInt } from '../qmodel/schemaParts.js';

/** A layer name in an architecture file: letters, digits, - . _ (starting with a letter or digit). */
export const archName = z
  .string()
  .regex(/^[A-Za-z0-9][-A-Za-z0-9._]*$/, 'letters, digits, - . _ (starting with a letter or digit)')
  .optional();

/** Two sizes along (H, W). */
export type Pair = [number, number];

/** A 2D size in an architecture file: one int for both axes, or [rows, columns]. */
export const sizePair = z.union([posInt, z.tuple([posInt, posInt])]);

/** Both axes of an architecture-file size. */
export const both = (v: number | Pair): Pair => (Array.isArray(v) ? [v[0], v[1]] : [v, v]);

/** The window of a 2D kernel: sizes along (H, W) and same/valid padding. */
export interface Window2D {
  kernelSize: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Padding;
}

/** The window of a 1D kernel: size, stride, dilation and padding. */
export interface Window1D {
  kernelSize: number;
  stride: number;
  dilation: number;
  padding: ConvPadding;
}

/** Architecture-file window fields of a 2D kernel (Conv2D, DepthwiseConv2D, SeparableConv2D). */
export const window2dArchFields = {
  kernelSize: sizePair,
  strides: sizePair.default(1),
  dilation: sizePair.default(1),
  padding: paddingSchema.default('valid'),
};

/** The paddings of a 1D depthwise or separable kernel. */
export const paddings1d = ['same', 'valid', 'causal'] as const;

/** Architecture-file window fields of a 1D depthwise or separable kernel. */
export const window1dArchFields = {
  kernelSize: posInt,
  stride: posInt.default(1),
  dilation: posInt.default(1),
  padding: z.enum(paddings1d).default('valid'),
};

/** A layer's 2D window from its parsed architecture-file entry. */
export function window2dLayer(a: {
  kernelSize: number | Pair;
  strides: number | Pair;
  dilation: number | Pair;
  padding: Padding;
}): Window2D {
  return {
    kernelSize: both(a.kernelSize),
    strides: both(a.strides),
    dilation: both(a.dilation),
    padding: a.padding,
  };
}

/** A layer's 1D window from its parsed architecture-file entry. */
export function window1dLayer(a: Window1D): Window1D {
  return { kernelSize: a.kernelSize, stride: a.stride, dilation: a.dilation, padding: a.padding };
}
