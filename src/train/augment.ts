// Training-time augmentation for HAR windows (normalized, channels last): people move with more or
// less vigour, so each window's motion (its deviation from the window mean) is scaled by a random
// factor per sensor, keeping the mean (the gravity direction, the posture cue) intact.
import type { Rng } from '../data/prng.js';

export interface AugmentOptions {
  /** Motion scale drawn from [1 - scale, 1 + scale] per window and sensor group. */
  scale: number;
  /** Gaussian noise (normalized units) added to every value. */
  noise: number;
  /** Channel groups that share a factor (default: HAR acc = body_acc + total_acc, gyro). */
  groups?: number[][];
}

export const HAR_GROUPS = [
  [0, 1, 2, 6, 7, 8],
  [3, 4, 5],
];

export function motionAugment(opts: AugmentOptions, steps: number, channels: number) {
  const groups =
    opts.groups ?? (channels === 9 ? HAR_GROUPS : [Array.from({ length: channels }, (_, c) => c)]);
  const mean = new Float64Array(channels);
  return (x: Float32Array, _y: Int32Array, n: number, rng: Rng): void => {
    for (let i = 0; i < n; i++) {
      const o = i * steps * channels;
      mean.fill(0);
      for (let t = 0; t < steps; t++) for (let c = 0; c < channels; c++) mean[c] += x[o + t * channels + c];
      for (let c = 0; c < channels; c++) mean[c] /= steps;
      for (const g of groups) {
        const a = 1 + rng.uniform(-opts.scale, opts.scale);
        for (const c of g)
          for (let t = 0; t < steps; t++) {
            const k = o + t * channels + c;
            x[k] = mean[c] + a * (x[k] - mean[c]);
          }
      }
      if (opts.noise > 0) for (let k = o; k < o + steps * channels; k++) x[k] += opts.noise * rng.normal();
    }
  };
}
