// Keras mapping helpers several operators share.
import type { KerasContext, KerasLayer } from './types.js';

/**
 * True when a Keras `axis` is the channels axis: -1, or the last axis of the layer's input (rank
 * with the batch: 2 for a feature vector, 3 for a sequence, 4 for an image). Without a known rank
 * (tfjs sequence models) the last axis is 2.
 */
export function isChannelsAxis(l: KerasLayer, k: KerasContext, axis: unknown): boolean {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === -1 || a === (k.inputRank?.(l) ?? 3) - 1;
}
