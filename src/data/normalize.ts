// Per-channel standardization. Statistics come from training windows only and travel with the
// model (normalization.json), because the deployed firmware must apply exactly the same scaling.
import type { WindowSet } from './dataset.js';
import { requireFiniteNormalization } from '../util/finite.js';

export interface Normalization {
  mean: number[];
  std: number[];
  /** Channel names, when known. */
  channels?: string[];
  /** Where the statistics came from (data set and split). */
  source?: string;
}

/** Smallest std used, so that a constant channel does not blow up. */
const MIN_STD = 1e-6;

export function computeNormalization(set: WindowSet, channels?: string[], source?: string): Normalization {
  const C = set.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  const count = set.n * set.steps;
  for (let i = 0; i < set.x.length; i++) sum[i % C] += set.x[i];
  const mean = Array.from(sum, (s) => s / count);
  for (let i = 0; i < set.x.length; i++) {
    const d = set.x[i] - mean[i % C];
    sq[i % C] += d * d;
  }
  const std = Array.from(sq, (s) => Math.max(Math.sqrt(s / count), MIN_STD));
  // NaN in the data would make NaN statistics (Math.max(NaN, MIN_STD) is NaN) and every window NaN.
  requireFiniteNormalization(
    { mean, std },
    `normalization statistics of ${source ?? 'the training windows'}`,
    {
      hint: 'the data holds NaN or infinite values: repair or drop those samples',
    },
  );
  return { mean, std, channels, source };
}

export function identityNormalization(channels: number): Normalization {
  return {
    mean: new Array<number>(channels).fill(0),
    std: new Array<number>(channels).fill(1),
    source: 'identity',
  };
}

/** A normalized copy of the set. */
export function applyNormalization(set: WindowSet, norm: Normalization): WindowSet {
  const C = set.channels;
  if (norm.mean.length !== C || norm.std.length !== C)
    throw new RangeError(`normalization has ${norm.mean.length} channels, data has ${C}`);
  const x = new Float32Array(set.x.length);
  const inv = norm.std.map((s) => 1 / s);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    x[i] = (set.x[i] - norm.mean[c]) * inv[c];
  }
  return { ...set, x };
}
