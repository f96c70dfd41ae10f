// The built-in sweep (used without --config): the reference paper's axes on UCI HAR, at a size a
// 2-core machine finishes in an afternoon. sweeps/uci-har.json is the same sweep as a file to copy;
// a test keeps the two equal.
import type { SweepConfigInput } from './config.js';

export const UCI_HAR_SWEEP: SweepConfigInput = {
  format: 'tinyforge-sweep/1',
  name: 'uci-har',
  description:
    "The reference paper's axes on UCI HAR: 4 widths (16..96 filters per Conv1D) x weight bits 2..8 and float " +
    'x magnitude pruning 0..0.95, 2 fine-tuning epochs per point, plus structured pruning at the wider widths.',
  seed: 1,
  training: { epochs: 30, batchSize: 32, lr: 0.002, patience: 10 },
  compression: { lr: 0.0005, batchSize: 64, pruneScope: 'layer', calibrationWindows: 1024 },
  axes: {
    widths: [16, 32, 64, 96],
    bits: [2, 3, 4, 6, 8, 'float'],
    prune: [0, 0.5, 0.8, 0.95],
    structured: [false],
    perChannel: [true],
    coding: ['auto'],
    finetuneEpochs: [2],
  },
  points: [
    { width: 32, bits: 4, prune: 0.5, structured: true, finetuneEpochs: 2 },
    { width: 64, bits: 4, prune: 0.5, structured: true, finetuneEpochs: 2 },
    { width: 96, bits: 4, prune: 0.5, structured: true, finetuneEpochs: 2 },
    { width: 64, bits: 8, prune: 0.75, structured: true, finetuneEpochs: 2 },
    { width: 96, bits: 8, prune: 0.75, structured: true, finetuneEpochs: 2 },
  ],
};
