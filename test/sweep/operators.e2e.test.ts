// Every operator through `tinyforge sweep` (issue 14): sweeps/ci-operators.json trains the
// every-operator network (sweeps/every-operator.arch.json) on synthetic data, compresses it at two
// points and measures each on QEMU with the real target stage, bit-exact with the host reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registeredOps } from '../../src/ops/registry.js';
import { readTfm } from '../../src/qmodel/index.js';
import { loadSweepConfig } from '../../src/sweep/config.js';
import type { PointResult } from '../../src/sweep/result.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { targetStage } from '../../src/sweep/target.js';
import { REPO, tempDir } from './helpers.js';

const CONFIG = loadSweepConfig(join(REPO, 'sweeps', 'ci-operators.json'));

describe('sweeps/ci-operators.json: every operator on the target', () => {
  const out = tempDir('tf-sweep-ops-');
  const results: PointResult[] = [];

  beforeAll(async () => {
    await runSweep({
      config: CONFIG.config,
      data: CONFIG.data!,
      archPath: CONFIG.archPath,
      out,
      jobs: 1,
      progress: 'none',
      log: () => {},
      onPoint: (r) => results.push(r),
    });
  }, 900_000);

  it('uses every registered operator in the architecture', () => {
    const arch = JSON.parse(readFileSync(CONFIG.archPath!, 'utf8')) as { layers: { type: string }[] };
    const used = new Set(arch.layers.map((l) => l.type));
    for (const op of registeredOps())
      expect(used, `every-operator.arch.json lacks ${op.kind}`).toContain(op.kind);
  });

  it('compresses to a model with every quantized operator, measured bit-exact on QEMU', async () => {
    const quantized = results.filter((r) => r.point.bits !== 'float');
    expect(quantized.map((r) => r.status)).toEqual(['ok', 'ok']);
    for (const r of quantized) {
      const t = r.target!;
      expect(t.stageId).toBe(targetStage!.id);
      expect(t.extra?.logitsBitExact).toBe(true);
      expect(t.agreement).toBe(1);
      const model = await readTfm(join(out, 'points', r.hash, 'model.tfm'));
      const kinds = new Set(model.layers.map((l) => l.kind));
      for (const op of registeredOps().filter((o) => o.quantized))
        expect(kinds, `${r.label} lacks ${op.kind}`).toContain(op.kind);
    }
  });
});
