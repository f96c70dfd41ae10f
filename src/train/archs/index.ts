// Built-in architectures and their training settings. Each architecture is a JSON file in this
// folder (also a starting point for --arch files), checked against the architecture format when
// this module loads and exported as written.
import { parseArch, type ArchSpec } from '../../graph/arch.js';
import harDefault from './har-default.json' with { type: 'json' };
import qemuReference from './qemu-reference.json' with { type: 'json' };

function builtIn(json: unknown, file: string): ArchSpec {
  parseArch(json, file);
  return json as ArchSpec;
}

/** The default architecture (har-default.json). */
export const HAR_DEFAULT_ARCH: ArchSpec = builtIn(harDefault, 'har-default.json');

/**
 * The reference network of the QEMU measurement notes (qemu-reference.json), the kernel
 * benchmark's yardstick: 365,952 MACs per 128x9 window.
 */
export const QEMU_REFERENCE_ARCH: ArchSpec = builtIn(qemuReference, 'qemu-reference.json');

/** Training settings tuned for har-default on UCI HAR (see the report in training.json). */
export const HAR_DEFAULT_TRAINING = {
  epochs: 24,
  batchSize: 32,
  lr: 0.002,
  lrDecay: 0.9,
  patience: 8,
  startEpoch: 8,
  valFraction: 0.2,
  bnMomentum: 0.9,
  weightDecay: 0,
  labelSmoothing: 0.1,
  ema: 0.995 as number | undefined,
  augment: { scale: 0.15, noise: 0.03 } as { scale: number; noise: number } | undefined,
};
