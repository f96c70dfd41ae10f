// Built-in architectures and their training settings. Each architecture is a JSON file in this
// folder (also a starting point for --arch files), checked against the architecture format when
// this module loads and exported as written.
import { existsSync } from 'node:fs';
import { parseArch, readArchFile, type ArchSpec } from '../../graph/arch.js';
import harDefault from './har-default.json' with { type: 'json' };
import qemuReference from './qemu-reference.json' with { type: 'json' };
import dsCnn1d from './ds-cnn1d.json' with { type: 'json' };
import tcn from './tcn.json' with { type: 'json' };

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

/** A depthwise-separable 1D CNN (ds-cnn1d.json). */
export const DS_CNN1D_ARCH: ArchSpec = builtIn(dsCnn1d, 'ds-cnn1d.json');

/** A temporal convolutional network with residual blocks of dilated causal convolutions (tcn.json). */
export const TCN_ARCH: ArchSpec = builtIn(tcn, 'tcn.json');

/** The architectures `--arch` accepts by name (any other value is a file path). */
export const BUILT_IN_ARCHS: Readonly<Record<string, ArchSpec>> = {
  'har-default': HAR_DEFAULT_ARCH,
  'ds-cnn1d': DS_CNN1D_ARCH,
  tcn: TCN_ARCH,
  'qemu-reference': QEMU_REFERENCE_ARCH,
};

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

/** True when `--arch` names a built-in architecture rather than a file. */
export function isBuiltInArch(arch: string): boolean {
  return Object.hasOwn(BUILT_IN_ARCHS, arch) && !existsSync(arch);
}

/** An architecture by built-in name (har-default, ds-cnn1d, tcn, qemu-reference) or JSON file path. */
export function resolveArch(arch: string): ArchSpec {
  return isBuiltInArch(arch) ? BUILT_IN_ARCHS[arch] : readArchFile(arch);
}
