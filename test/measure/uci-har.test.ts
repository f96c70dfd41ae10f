// THE CI test of the target stage: the whole official UCI HAR test split (2947 windows) runs on the
// emulated Cortex-M4 in one QEMU run in under two minutes, and the firmware's logits equal the host
// reference's for every window (so the accuracies are equal exactly).
//
// For CI time the model is the default architecture trained for only a few epochs on the real data
// in this test (or the trained default model when $TINYFORGE_HAR_MODEL / out/har-default exists):
// the instruction counts are those of the real network, its accuracy is not the tuned one.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { loadCompressData } from '../../src/compress/data.js';
import { compressModel, DEFAULT_COMPRESS_OPTIONS } from '../../src/compress/compress.js';
import { loadDataset } from '../../src/data/load.js';
import { quantizeWindow, runReferenceBatch } from '../../src/reference/index.js';
import { buildModelFirmware, measureOnTarget } from '../../src/measure/index.js';
import { loadModelDir } from '../../src/train/modelDir.js';
import { trainModel } from '../../src/train/trainer.js';
import type { FloatModel } from '../../src/graph/ir.js';
import type { Normalization } from '../../src/data/normalize.js';
import { tempDir } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const realDir = process.env.UCI_HAR_DIR ?? resolve(here, '../../../shared/data/uci-har');
const haveReal = existsSync(realDir);
const trainedDir = process.env.TINYFORGE_HAR_MODEL ?? resolve(here, '../../out/har-default');

/** The trained default model if there is one, else the default architecture trained briefly. */
async function harModel(): Promise<{ model: FloatModel; normalization: Normalization; source: string }> {
  if (existsSync(join(trainedDir, 'graph.json'))) {
    const m = loadModelDir(trainedDir);
    return { model: m.model, normalization: m.normalization, source: trainedDir };
  }
  const t = await trainModel({
    data: realDir,
    epochs: 3,
    patience: 0,
    seed: 1,
    progress: 'none',
    quietBackend: true,
  });
  return {
    model: t.model,
    normalization: t.prepared.normalization,
    source: 'trained for 3 epochs in the test',
  };
}

describe('UCI HAR test split on the emulated Cortex-M4', () => {
  it.runIf(haveReal || process.env.CI === 'true')(
    'all 2947 test windows in one QEMU run under 2 minutes; logits and accuracy equal the host reference',
    async () => {
      expect(haveReal, `UCI HAR not found at ${realDir} (set UCI_HAR_DIR)`).toBe(true);
      const { model: float, normalization } = await harModel();
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
      expect(r.accuracy).toBeGreaterThan(0.6);
    },
    1_200_000,
  );
});
