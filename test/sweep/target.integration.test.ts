// The sweep with its real target stage (src/sweep/target.ts): every point is built for
// netduinoplus2, run on QEMU, and placed by model flash read from its own linker map.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSweepConfig } from '../../src/sweep/config.js';
import type { PointResult } from '../../src/sweep/result.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { targetStage } from '../../src/sweep/target.js';
import { tempDir } from './helpers.js';

const config = parseSweepConfig({
  format: 'tinyforge-sweep/1',
  name: 'target-integration',
  data: 'synthetic:seed=5,train=240,test=60,subjects=10',
  seed: 1,
  training: { epochs: 2, batchSize: 32, lr: 0.004, patience: 0 },
  compression: { lr: 0.001, batchSize: 32, pruneScope: 'layer', calibrationWindows: 64 },
  axes: { widths: [8], bits: [8], prune: [0], coding: ['packed'], finetuneEpochs: [0] },
  points: [{ width: 8, bits: 4, prune: 0.5, coding: 'rle-huffman', finetuneEpochs: 0 }],
});

describe('sweep with the QEMU target stage', () => {
  const out = tempDir('tf-sweep-target-');
  const results: PointResult[] = [];

  beforeAll(async () => {
    expect(targetStage).toBeDefined();
    await runSweep({
      config,
      data: config.data!,
      out,
      jobs: 1,
      progress: 'none',
      log: () => {},
      onPoint: (r) => results.push(r),
    });
  }, 600_000);

  it('measures every quantized point on the target, bit-exact with the host reference', () => {
    const quantized = results.filter((r) => r.target);
    expect(quantized.length).toBe(2);
    for (const r of quantized) {
      const t = r.target!;
      expect(t.stageId).toBe(targetStage!.id);
      expect(t.extra?.logitsBitExact).toBe(true);
      expect(t.agreement).toBe(1);
      expect(t.instructionsPerInference).toBeGreaterThan(0);
      // Model flash is the map's weights + tables + kernels of that point's own build.
      const size = JSON.parse(readFileSync(join(String(t.extra?.build), 'size.json'), 'utf8'));
      const c = size.flash.categories;
      expect(t.modelFlash).toBe(c.weights + c.tables + c.kernels);
      expect(t.totalFlash).toBe(size.flash.total);
    }
  });

  it('plots and tables use linked model flash as the memory axis', () => {
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/model flash/i);
    expect(md).not.toMatch(/NOT linked flash/);
  });
});
