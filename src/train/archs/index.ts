// Built-in architectures and their training settings. The architecture is also in
// har-default.json (same folder) as a starting point for --arch files; a test keeps both equal.
import type { ArchSpec } from '../../graph/arch.js';

export const HAR_DEFAULT_ARCH: ArchSpec = {
  format: 'tinyforge-arch/1',
  name: 'har-default',
  description:
    'Three Conv1D+ReLU blocks (24/32/48 filters, kernels 9/7/5, same padding, max-pooling by 2 between), global average pooling, dense softmax: 15.4k parameters, 0.84M MACs per 128x9 window.',
  layers: [
    { type: 'conv1d', filters: 24, kernelSize: 9, padding: 'same', activation: 'relu' },
    { type: 'maxpool1d', poolSize: 2 },
    { type: 'conv1d', filters: 32, kernelSize: 7, padding: 'same', activation: 'relu' },
    { type: 'maxpool1d', poolSize: 2 },
    { type: 'conv1d', filters: 48, kernelSize: 5, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
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
