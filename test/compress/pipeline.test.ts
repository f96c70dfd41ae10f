// Compression end to end on synthetic data: a briefly trained model, pruned + 4-bit QAT + rle-huffman,
// written as .tfm and read back. Checks what the report claims against independent recomputation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { prepareData } from '../../src/data/load.js';
import { archToGraph } from '../../src/graph/arch.js';
import type { FloatModel } from '../../src/graph/ir.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, initParams, readParams } from '../../src/train/forward.js';
import {
  compressModel,
  DEFAULT_COMPRESS_OPTIONS,
  fixedAccuracy,
  floatAccuracy,
  type CompressData,
} from '../../src/compress/compress.js';
import { readTfm, writeTfm } from '../../src/qmodel/index.js';
import { decodeWeights } from '../../src/qmodel/coding/index.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import type { QDense } from '../../src/ops/dense.js';
import { evaluateTfm } from '../../src/cli/commands/evaluate.js';

/** The library baseline with this small model's fine-tuning settings. */
const BASE = { ...DEFAULT_COMPRESS_OPTIONS, lr: 1e-3, batchSize: 32 };

let trained: FloatModel;
let data: CompressData;
let norm: { mean: number[]; std: number[] };

beforeAll(async () => {
  await initBackend({ quiet: true });
  const ds = generateSynthetic({ seed: 3, train: 600, test: 240, subjects: 12 });
  const p = prepareData(ds);
  norm = p.normalization;
  data = { train: p.train, val: p.val, eval: p.test, evalName: 'test' };
  const graph = archToGraph(
    {
      format: 'tinyforge-arch/1',
      name: 'tiny',
      layers: [
        { type: 'conv1d', filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' },
        { type: 'maxpool1d', poolSize: 4 },
        { type: 'conv1d', filters: 12, kernelSize: 5, padding: 'same', activation: 'relu' },
        { type: 'gap1d' },
        { type: 'dense', units: 'classes' },
      ],
    },
    { inputShape: [128, 9], classNames: ds.classNames },
  );
  const model: FloatModel = { graph, params: initParams(graph, 1) };
  const vars = createVars(model);
  await fit(graph, vars, p.train, {
    epochs: 4,
    batchSize: 32,
    lr: 3e-3,
    seed: 1,
    progress: 'none',
    validation: p.val,
    earlyStopping: false,
  });
  trained = { graph, params: readParams(vars) };
  disposeVars(vars);
}, 300_000);

describe('compressModel on a trained model', () => {
  it('8-bit per-channel post-training quantization keeps accuracy close to float', async () => {
    const { report } = await compressModel(trained, norm, data, {
      ...BASE,
    });
    expect(report.floatAccuracy).toBeGreaterThan(0.5); // the model learned something
    expect(Math.abs(report.fixedAccuracy - report.floatAccuracy)).toBeLessThanOrEqual(0.03);
  });

  it('prune 60% + 4-bit QAT + rle-huffman: sparsity reached, zeros coded cheaply, .tfm round trip', async () => {
    const { model, report } = await compressModel(trained, norm, data, {
      ...BASE,
      prune: 0.6,
      bits: 4,
      coding: 'rle-huffman',
      finetuneEpochs: 2,
    });
    for (const l of model.layers.filter(
      (l): l is QConv1D | QDense => l.kind === 'conv1d' || l.kind === 'dense',
    )) {
      const { values, corrupt } = decodeWeights(l.weights);
      expect(corrupt).toBe(false);
      const zeros = values.filter((v) => v === 0).length;
      expect(zeros).toBeGreaterThanOrEqual(Math.floor(values.length * 0.6)); // masks kept through fine-tuning
      expect(Math.max(...values)).toBeLessThanOrEqual(7);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-8);
    }
    // The report's fixed-point accuracy is what the host reference gives on the eval split.
    expect(report.fixedAccuracy).toBe(fixedAccuracy(model, data.eval).accuracy);
    // With a fraction s of zeros and 4-bit values, the value entropy is at most H2(s) + (1 - s) * 4
    // bits per weight (zeros vs the rest, then at most 4 bits for the rest): the stream must not
    // exceed that upper bound by more than 3% (decode tables aside, they dominate on a model this small).
    const sp = report.totals.sparsity;
    const h2 = -(sp * Math.log2(sp) + (1 - sp) * Math.log2(1 - sp));
    const streamBits = report.layers.reduce((s, l) => s + l.codedBits, 0);
    expect(streamBits).toBeLessThan(1.03 * (h2 + (1 - sp) * 4) * report.totals.weights);
    expect(streamBits).toBeLessThan(4 * report.totals.weights);
    const dir = mkdtempSync(join(tmpdir(), 'tf-compress-'));
    await writeTfm(join(dir, 'm.tfm'), model);
    const back = await readTfm(join(dir, 'm.tfm'));
    expect(fixedAccuracy(back, data.eval).accuracy).toBe(report.fixedAccuracy);
    // `tinyforge evaluate m.tfm` quantizes the raw test windows itself (as the target runner does);
    // normalizing in float32 first (the compressor's path) may move a rare value across a rounding edge.
    back.meta.source = { data: 'synthetic:seed=3,train=600,test=240,subjects=12' };
    await writeTfm(join(dir, 'm.tfm'), back);
    const ev = await evaluateTfm(join(dir, 'm.tfm'), undefined, 'test');
    expect(ev.n).toBe(240);
    expect(Math.abs(ev.accuracy - report.fixedAccuracy)).toBeLessThanOrEqual(2 / 240);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(240);
  });

  it('structured pruning removes filters and still runs', async () => {
    const { model, report } = await compressModel(trained, norm, data, {
      ...BASE,
      prune: 0.5,
      structured: true,
      coding: 'auto',
      finetuneEpochs: 1,
    });
    const convs = model.layers.filter((l): l is QConv1D => l.kind === 'conv1d');
    expect(convs.map((c) => c.filters)).toEqual([4, 6]);
    expect(report.fixedAccuracy).toBeGreaterThan(1 / 6);
    expect(floatAccuracy(trained, data.eval)).toBe(report.floatAccuracy);
  });
});
