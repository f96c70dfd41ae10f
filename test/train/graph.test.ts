// Architecture files -> graphs, and the deployable transformations (BatchNorm folding, Dropout
// removal, ReLU fusion) checked numerically against the functional forward pass.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph, parseArch } from '../../src/graph/arch.js';
import { deployableGraph, foldBatchNorm, removeDropout } from '../../src/graph/fold.js';
import { totalParams, type FloatModel, type ModelGraph } from '../../src/graph/ir.js';
import { HAR_DEFAULT_ARCH } from '../../src/train/archs/index.js';
import { initBackend } from '../../src/train/backend.js';
import { createVars, disposeVars, forward, initParams } from '../../src/train/forward.js';
import { Rng } from '../../src/data/prng.js';
import { TinyforgeError } from '../../src/util/errors.js';

const HAR = { inputShape: [128, 9] as [number, number], classNames: ['a', 'b', 'c', 'd', 'e', 'f'] };

beforeAll(async () => {
  await initBackend({ quiet: true });
});

function run(model: FloatModel, x: tf.Tensor): Float32Array {
  const vars = createVars(model);
  const y = tf.tidy(() => forward(model.graph, vars, x).dataSync() as Float32Array);
  disposeVars(vars);
  return y;
}

/** Random weights and BatchNorm statistics far from identity. */
function randomModel(graph: ModelGraph, seed: number): FloatModel {
  const params = initParams(graph, seed);
  const r = new Rng(seed + 100);
  for (const p of Object.values(params)) {
    if (p.bias) p.bias = p.bias.map(() => r.uniform(-0.3, 0.3));
    if (p.gamma) {
      p.gamma = p.gamma.map(() => r.uniform(0.3, 2));
      p.beta = p.beta!.map(() => r.uniform(-1, 1));
      p.movingMean = p.movingMean!.map(() => r.uniform(-0.5, 0.5));
      p.movingVariance = p.movingVariance!.map(() => r.uniform(0.2, 3));
    }
  }
  return { graph, params };
}

describe('architecture files', () => {
  it('reads other layers and the model input where an entry names its inputs', () => {
    const graph = archToGraph(
      {
        layers: [
          { type: 'conv1d', name: 'a', filters: 4, kernelSize: 3, padding: 'same' },
          { type: 'conv1d', name: 'b', filters: 5, kernelSize: 1, inputs: ['<input>'] },
          { type: 'gap1d', inputs: ['a'] },
          { type: 'dense', units: 'classes' },
        ],
      },
      HAR,
    );
    expect(graph.layers.map((l) => l.inputs)).toEqual([undefined, ['<input>'], ['a'], undefined]);
    expect(() =>
      archToGraph(
        {
          layers: [
            { type: 'gap1d', inputs: ['nowhere'] },
            { type: 'dense', units: 'classes' },
          ],
        },
        HAR,
      ),
    ).toThrow(/reads 'nowhere', which no earlier layer produces/);
  });

  it('the shipped har-default.json equals the built-in default and fits a microcontroller budget', () => {
    const file = JSON.parse(
      readFileSync(resolve(__dirname, '../../src/train/archs/har-default.json'), 'utf8'),
    );
    expect(file).toEqual(HAR_DEFAULT_ARCH);
    const g = archToGraph(HAR_DEFAULT_ARCH, HAR);
    expect(totalParams(g)).toBeLessThanOrEqual(20_000);
    expect(totalParams(g)).toBeGreaterThanOrEqual(3_000);
    expect(g.layers.some((l) => l.kind === 'gap1d')).toBe(true);
  });

  it('applies defaults and names layers', () => {
    const g = archToGraph(
      {
        layers: [
          { type: 'conv1d', filters: 4, kernelSize: 3 },
          { type: 'maxpool1d', poolSize: 2 },
          { type: 'conv1d', filters: 4, kernelSize: 3, name: 'mine' },
          { type: 'flatten' },
          { type: 'dense', units: 'classes' },
        ],
      },
      HAR,
    );
    expect(g.layers[0]).toEqual({
      kind: 'conv1d',
      name: 'conv1d_1',
      filters: 4,
      kernelSize: 3,
      stride: 1,
      padding: 'valid',
      activation: 'linear',
      useBias: true,
    });
    expect(g.layers[1]).toMatchObject({ kind: 'maxpool1d', stride: 2, padding: 'valid' });
    expect(g.layers[2].name).toBe('mine');
    expect(g.layers[4]).toMatchObject({ kind: 'dense', units: 6 });
  });

  it('rejects malformed architectures with the path of the problem', () => {
    expect(() => parseArch({ layers: [{ type: 'lstm', units: 3 }] }, 'x.json')).toThrow(
      /x\.json.*layers\[0\]/,
    );
    expect(() => parseArch({ layers: [{ type: 'conv1d', filters: 0, kernelSize: 3 }] })).toThrow(
      /layers\[0\]\.filters/,
    );
    expect(() =>
      parseArch({ layers: [{ type: 'conv1d', filters: 2, kernelSize: 3, activation: 'tanh' }] }),
    ).toThrow(TinyforgeError);
    expect(() => parseArch({ layers: [{ type: 'dense', units: 3, bogus: 1 }] })).toThrow(/bogus/);
  });

  it('rejects graphs whose shapes do not work, naming the layer', () => {
    const bad = () =>
      archToGraph(
        {
          layers: [
            { type: 'conv1d', filters: 4, kernelSize: 200 },
            { type: 'gap1d' },
            { type: 'dense', units: 'classes' },
          ],
        },
        HAR,
      );
    expect(bad).toThrow(/conv1d_1/);
    expect(() =>
      archToGraph({ layers: [{ type: 'conv1d', filters: 4, kernelSize: 3 }, { type: 'gap1d' }] }, HAR),
    ).toThrow(/one score per class/);
  });
});

describe('deployable graph', () => {
  const graph = archToGraph(
    {
      layers: [
        { type: 'conv1d', filters: 8, kernelSize: 5, stride: 2, padding: 'same' },
        { type: 'batchnorm', epsilon: 0.01 },
        { type: 'relu' },
        { type: 'maxpool1d', poolSize: 2 },
        { type: 'conv1d', filters: 6, kernelSize: 3, padding: 'valid', useBias: false },
        { type: 'dropout', rate: 0.5 },
        { type: 'batchnorm' },
        { type: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 12 },
        { type: 'batchnorm' },
        { type: 'dense', units: 'classes' },
        { type: 'softmax' },
      ],
    },
    { inputShape: [40, 9], classNames: HAR.classNames },
  );

  it('folds BatchNorm into Conv1D/Dense, drops Dropout, fuses ReLU, same outputs', () => {
    const model = randomModel(graph, 3);
    const r = new Rng(9);
    const x = tf.tensor3d(
      Float32Array.from({ length: 7 * 40 * 9 }, () => r.normal()),
      [7, 40, 9],
    );
    const before = run(model, x);
    const folded = foldBatchNorm(model);
    expect(folded.graph.layers.filter((l) => l.kind === 'batchnorm')).toHaveLength(0);
    const conv2 = folded.graph.layers.find((l) => l.name === 'conv1d_2');
    expect(conv2).toMatchObject({ useBias: true }); // gained the folded bias
    const after = run(folded, x);
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i], 5);
    const dep = deployableGraph(model);
    expect(dep.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'maxpool1d',
      'conv1d',
      'flatten',
      'dense',
      'dense',
      'softmax',
    ]);
    expect(dep.graph.layers[0]).toMatchObject({ activation: 'relu' });
    const out = run(dep, x);
    for (let i = 0; i < before.length; i++) expect(out[i]).toBeCloseTo(before[i], 5);
    // The input model is left alone.
    expect(model.graph.layers).toHaveLength(13);
    x.dispose();
  });

  it('removeDropout keeps everything else', () => {
    const m = removeDropout(randomModel(graph, 1));
    expect(m.graph.layers).toHaveLength(12);
    expect(m.graph.layers.some((l) => l.kind === 'dropout')).toBe(false);
  });

  it('refuses a BatchNorm that does not follow a linear Conv1D/Dense', () => {
    const g = archToGraph(
      {
        layers: [
          { type: 'conv1d', filters: 4, kernelSize: 3, activation: 'relu' },
          { type: 'batchnorm', name: 'bn_after_relu' },
          { type: 'gap1d' },
          { type: 'dense', units: 'classes' },
        ],
      },
      HAR,
    );
    expect(() => foldBatchNorm(randomModel(g, 2))).toThrow(
      /bn_after_relu.*follows conv1d 'conv1d_1' with activation relu/,
    );
  });
});
