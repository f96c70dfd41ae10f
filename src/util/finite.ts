// NaN and Infinity stop at the door: every float that enters the data path from outside (windows
// through the API, imported and trained weights, normalization statistics, quantization inputs)
// is checked here, and the error names where the value sits. Once in, a NaN would quantize to 0
// (an Int8Array assignment), pick the widest format (fracBitsFor) or poison a whole training run,
// all silently.
import { TinyforgeError, type ErrorCategory } from './errors.js';

/** Index of the first value that is NaN or infinite, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * Throws TinyforgeError(category) when a value is NaN or infinite: "<where>: value <i> is NaN"
 * (`at(i)` may name the position better, e.g. "time step 3, channel 1").
 */
export function requireFinite(
  values: ArrayLike<number>,
  where: string,
  opts: { category?: ErrorCategory; hint?: string; at?: (i: number) => string } = {},
): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  const at = opts.at ? opts.at(i) : `value ${i}`;
  throw new TinyforgeError(`${where}: ${at} is ${String(values[i])}`, opts.category ?? 'input', opts.hint);
}

/** Every float array of every layer's parameters (kernel, bias, BatchNorm statistics, ...). */
export function requireFiniteParams(
  params: Record<string, object>,
  where: string,
  opts: { category?: ErrorCategory; hint?: string } = {},
): void {
  for (const [layer, p] of Object.entries(params)) {
    for (const [name, values] of Object.entries(p as Record<string, ArrayLike<number> | undefined>)) {
      if (values) requireFinite(values, `${where}: layer '${layer}' ${name}`, opts);
    }
  }
}

/** Per-channel normalization statistics: finite means, finite non-zero standard deviations. */
export function requireFiniteNormalization(
  norm: { mean: ArrayLike<number>; std: ArrayLike<number> },
  where: string,
  opts: { category?: ErrorCategory; hint?: string } = {},
): void {
  requireFinite(norm.mean, `${where}: normalization mean`, { ...opts, at: (c) => `channel ${c}` });
  requireFinite(norm.std, `${where}: normalization std`, { ...opts, at: (c) => `channel ${c}` });
  for (let c = 0; c < norm.std.length; c++)
    if (norm.std[c] === 0)
      throw new TinyforgeError(
        `${where}: normalization std: channel ${c} is 0`,
        opts.category ?? 'input',
        opts.hint,
      );
}
