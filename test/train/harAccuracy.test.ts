// The acceptance figures of training and of the target stage, CI only (minutes), on one trained model:
// 1. the default architecture trained with the default settings on UCI HAR reaches >= 92% float
//    accuracy on the official test split with <= 20k parameters;
// 2. that model, compressed with the default settings, runs all 2947 test windows on the emulated
//    Cortex-M4 in one QEMU run in under two minutes, its logits equal the host reference's for every
//    window (so the accuracies are equal exactly).
// They share one training run (the CI's longest job) instead of training twice.
// Locally: TINYFORGE_SLOW_TESTS=1 npx vitest run test/train/harAccuracy.test.ts
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCompressData } from '../../src/compress/data.js';
import { compressModel, DEFAULT_COMPRESS_OPTIONS } from '../../src/compress/compress.js';
import { loadDataset } from '../../src/data/load.js';
import type { Normalization } from '../../src/data/normalize.js';
import type { FloatModel } from '../../src/graph/ir.js';
import { buildModelFirmware, measureOnTarget } from '../../src/measure/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { quantizeWindow, runReferenceBatch } from '../../src/reference/index.js';
import { trainModel } from '../../src/train/trainer.js';
import { tempDir } from '../measure/helpers.js';

const realDir = process.env.UCI_HAR_DIR ?? resolve(__dirname, '../../../shared/data/uci-har');
const enabled = process.env.CI === 'true' || process.env.TINYFORGE_SLOW_TESTS === '1';

/** The trained model, for the target stage (set by the first test). */
let trained: { model: FloatModel; normalization: Normalization } | undefined;

describe('default HAR model on UCI HAR', () => {
  it.runIf(enabled)(
    'reaches >= 92% test accuracy with <= 20k parameters',
    async () => {
      expect(existsSync(realDir), `UCI HAR not found at ${realDir} (set UCI_HAR_DIR)`).toBe(true);
      const { summary, model, prepared } = await trainModel({
        data: realDir,
        progress: 'log',
        quietBackend: true,
      });
      trained = { model, normalization: prepared.normalization };
      expect(summary.testWindows).toBe(2947);
      expect(summary.params).toBeLessThanOrEqual(20_000);
      expect(summary.testAccuracy).toBeGreaterThanOrEqual(0.92);
    },
    30 * 60_000,
  );

  it.runIf(enabled)(
    'all 2947 test windows in one QEMU run under 2 minutes; logits and accuracy equal the host reference',
    async () => {
      expect(trained, 'the training test above did not produce a model').toBeDefined();
      const { model: float, normalization } = trained!;
      const data = loadCompressData(realDir, normalization, 'test');
      // Calibration and the compressor's own accuracy on a slice: the full split is measured below.
      const w = data.eval.steps * data.eval.channels;
      const evalSlice = {
        ...data.eval,
        n: 64,
        x: data.eval.x.subarray(0, 64 * w),
        y: data.eval.y.subarray(0, 64),
      };
      const { model }: { model: CompressedModel } = await compressModel(
        float,
        normalization,
        { ...data, eval: evalSlice },
        {
          ...DEFAULT_COMPRESS_OPTIONS,
        },
      );

      const test = loadDataset(realDir).test; // raw sensor values, as a device would see them
      expect(test.n).toBe(2947);
      const dir = tempDir('tf-target-har-');
      await buildModelFirmware({ model, outDir: dir });
      const r = await measureOnTarget({ buildDir: dir, model, windows: test.x, labels: test.y });

      expect(r.windows).toBe(test.n);
      expect(r.wallMs.qemu).toBeLessThan(120_000);

      // The host reference, independently of measureOnTarget.
      const size = test.steps * test.channels;
      const inputs = new Int8Array(test.n * size);
      for (let i = 0; i < test.n; i++) {
        inputs.set(quantizeWindow(model, test.x.subarray(i * size, (i + 1) * size)), i * size);
      }
      const ref = runReferenceBatch(model, inputs, test.n);
      let correct = 0;
      for (let i = 0; i < test.n; i++) if (ref.classIndex[i] === test.y[i]) correct++;

      expect(r.agreement).toMatchObject({ equal: true, mismatching: 0, matching: test.n });
      expect(Buffer.compare(Buffer.from(r.targetLogits.buffer), Buffer.from(ref.logits.buffer))).toBe(0);
      expect(r.accuracy).toBe(correct / test.n);
      // Even briefly trained, the network must have learned the task (six classes: chance is ~17%).
      // The trained model on the chip: well above chance (six classes: ~17%).
      expect(r.accuracy).toBeGreaterThan(0.85);
    },
    1_200_000,
  );
});
