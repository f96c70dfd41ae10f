// Training on synthetic HAR: learnable, reproducible for a seed, hooks reach every weight and
// output, and a model directory round-trips through tfjs' own loader and ours.
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { prepareData } from '../../src/data/load.js';
import { archToGraph, type ArchSpec } from '../../src/graph/arch.js';
import type { Layer } from '../../src/graph/ir.js';
import { initBackend } from '../../src/train/backend.js';
import { evaluateSet, fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { evaluateFloatModel } from '../../src/train/evaluate.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';

let tmp: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  tmp = mkdtempSync(join(tmpdir(), 'tf-train-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SMALL: ArchSpec = {
  layers: [
    { type: 'conv1d', filters: 8, kernelSize: 7, stride: 2, padding: 'same', activation: 'relu' },
    { type: 'maxpool1d', poolSize: 2 },
    { type: 'conv1d', filters: 12, kernelSize: 5, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
};

const dataset = generateSynthetic({ seed: 11, train: 480, test: 240 });
const data = prepareData(dataset, { valFraction: 0.2 });
const graph = archToGraph(SMALL, { inputShape: [128, 9], classNames: dataset.classNames });

async function train(seed: number, epochs: number) {
  const vars = createVars({ graph, params: initParams(graph, seed) });
  const result = await fit(graph, vars, data.train, {
    epochs,
    batchSize: 32,
    lr: 0.005,
    seed,
    validation: data.val,
    earlyStopping: { patience: 5 },
    progress: 'none',
  });
  return { vars, result };
}

describe('training', () => {
  it('learns synthetic HAR far above chance on held-out subjects', async () => {
    const { vars, result } = await train(1, 6);
    const test = evaluateSet(graph, vars, data.test);
    expect(test.accuracy).toBeGreaterThan(0.6); // chance is 1/6
    expect(result.history.length).toBeGreaterThan(0);
    expect(result.history[0].loss).toBeGreaterThan(result.history[result.history.length - 1].loss);
    expect(result.windowsPerSecond).toBeGreaterThan(0);
    // Early stopping restored the weights of the best validation epoch.
    expect(evaluateSet(graph, vars, data.val).accuracy).toBe(result.bestValAccuracy);
    expect(result.history[result.bestEpoch - 1].valAccuracy).toBe(result.bestValAccuracy);
    disposeVars(vars);
  });

  it('with weight averaging (EMA) validates and returns the averaged weights', async () => {
    const vars = createVars({ graph, params: initParams(graph, 5) });
    const tensorsBefore = tf.memory().numTensors;
    const result = await fit(graph, vars, data.train, {
      epochs: 2,
      batchSize: 32,
      lr: 0.005,
      seed: 5,
      ema: 0.99,
      validation: data.val,
      earlyStopping: { patience: 3 },
      progress: 'none',
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensor leaked by training
    expect(evaluateSet(graph, vars, data.val).accuracy).toBe(result.bestValAccuracy);
    disposeVars(vars);
  });

  it('lets the event loop turn during an epoch (signals, IPC and timers are not held for minutes)', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    let turned = false;
    setImmediate(() => (turned = true));
    const seenAtBatch: boolean[] = [];
    await fit(graph, vars, data.train, {
      epochs: 1,
      batchSize: 8,
      lr: 0.005,
      seed: 3,
      progress: 'none',
      onBatchEnd: ({ batch }) => {
        seenAtBatch[batch] = turned;
      },
    });
    disposeVars(vars);
    // Batches of one epoch: more than enough for the loop to have turned before the epoch ends.
    expect(seenAtBatch.length - 1).toBeGreaterThan(20);
    expect(seenAtBatch[seenAtBatch.length - 1]).toBe(true);
  });

  it('is reproducible for a seed and differs for another seed', async () => {
    const a = await train(7, 1);
    const b = await train(7, 1);
    const c = await train(8, 1);
    const pa = readParams(a.vars);
    const pb = readParams(b.vars);
    const pc = readParams(c.vars);
    for (const name of Object.keys(pa))
      expect(Array.from(pb[name].kernel!)).toEqual(Array.from(pa[name].kernel!));
    expect(Array.from(pc.conv1d_1.kernel!)).not.toEqual(Array.from(pa.conv1d_1.kernel!));
    expect(b.result.history[0].loss).toBe(a.result.history[0].loss);
    [a, b, c].forEach((r) => disposeVars(r.vars));
  });

  it('calls weight hooks for every kernel and bias, activation hooks for every layer; hooks change the result', () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const seen: string[] = [];
    const acts: string[] = [];
    const x = tf.tensor3d(data.test.x.subarray(0, 4 * 128 * 9), [4, 128, 9]);
    const plain = tf.tidy(() => forward(graph, vars, x).dataSync());
    const zeroed = tf.tidy(() =>
      forward(graph, vars, x, {
        hooks: {
          weight: (l: Layer, name, w) => {
            seen.push(`${l.name}/${name}`);
            // A "pruning mask" that removes the last layer's kernel entirely.
            return l.name === 'dense_1' && name === 'kernel' ? tf.zerosLike(w) : w;
          },
          activation: (l, y) => {
            acts.push(l.name);
            return y;
          },
        },
      }).dataSync(),
    );
    expect(seen).toEqual([
      'conv1d_1/kernel',
      'conv1d_1/bias',
      'conv1d_2/kernel',
      'conv1d_2/bias',
      'dense_1/kernel',
      'dense_1/bias',
    ]);
    expect(acts).toEqual(graph.layers.map((l) => l.name));
    expect(Array.from(zeroed)).not.toEqual(Array.from(plain));
    // Zero kernel, zero bias: uniform probabilities.
    for (const v of zeroed) expect(v).toBeCloseTo(1 / 6, 5);
    x.dispose();
    disposeVars(vars);
  });

  it('saves a model directory that tfjs and loadModelDir both read back with the same outputs', async () => {
    const { vars } = await train(2, 1);
    const model = { graph, params: readParams(vars) };
    disposeVars(vars);
    const dir = join(tmp, 'model');
    await saveModelDir(dir, model, {
      normalization: data.normalization,
      training: { data: dataset.spec, seed: 2 },
    });
    for (const f of ['model.json', 'weights.bin', 'graph.json', 'normalization.json', 'training.json'])
      expect(existsSync(join(dir, f))).toBe(true);
    const loaded = loadModelDir(dir);
    expect(loaded.meta.origin).toBe('tinyforge');
    expect(loaded.model.graph).toEqual(graph);
    expect(loaded.normalization.mean).toEqual(data.normalization.mean);
    expect(loaded.meta.training).toMatchObject({ seed: 2 });
    for (const name of Object.keys(model.params))
      expect(Array.from(loaded.model.params[name].kernel!)).toEqual(Array.from(model.params[name].kernel!));
    // tfjs' own loader, from the files we wrote.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = readFileSync(join(dir, 'weights.bin'));
    const tfModel = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );
    const x = tf.tensor3d(data.test.x.subarray(0, 5 * 128 * 9), [5, 128, 9]);
    const theirs = (tfModel.predict(x) as tf.Tensor).dataSync();
    const v2 = createVars(loaded.model);
    const ours = tf.tidy(() => forward(loaded.model.graph, v2, x).dataSync());
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 5);
    // evaluateFloatModel normalizes raw windows itself: same accuracy as on the prepared test set.
    const ev = evaluateFloatModel(loaded.model, loaded.normalization, dataset.test);
    expect(ev.accuracy).toBeCloseTo(evaluateSet(graph, v2, data.test).accuracy, 10);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(dataset.test.n);
    expect(ev.perClass.map((c) => c.support)).toEqual([40, 40, 40, 40, 40, 40]);
    disposeVars(v2);
    x.dispose();
    tfModel.dispose();
  });
});
