// Import of tfjs Layers models: a model built and saved by tfjs itself is imported and must give
// the same outputs; unsupported layers and options are rejected naming the layer.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importTfjsLayersModel } from '../../src/graph/importTfjs.js';
import { initBackend } from '../../src/train/backend.js';
import { createVars, disposeVars, forward } from '../../src/train/forward.js';
import { loadModelDir, saveLayersModel } from '../../src/train/modelDir.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { Rng } from '../../src/data/prng.js';
import { TinyforgeError } from '../../src/util/errors.js';
import type { FloatModel } from '../../src/graph/ir.js';

let tmp: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  tmp = mkdtempSync(join(tmpdir(), 'tf-import-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T = 32;
const C = 9;

function input(n: number, seed: number): tf.Tensor3D {
  const r = new Rng(seed);
  return tf.tensor3d(
    Float32Array.from({ length: n * T * C }, () => r.normal()),
    [n, T, C],
  );
}

/** Non-trivial BatchNorm statistics, so that a wrong mapping of gamma/beta/mean/variance shows. */
function randomizeBatchNorm(m: tf.LayersModel, seed: number): void {
  const r = new Rng(seed);
  for (const l of m.layers)
    if (l.getClassName() === 'BatchNormalization') {
      const c = l.getWeights()[0].shape[0];
      const v = (lo: number, hi: number) =>
        tf.tensor1d(Float32Array.from({ length: c }, () => r.uniform(lo, hi)));
      l.setWeights([v(0.5, 1.5), v(-0.5, 0.5), v(-0.3, 0.3), v(0.5, 2)]);
    }
}

function ours(model: FloatModel, x: tf.Tensor3D): Float32Array {
  const vars = createVars(model);
  const y = tf.tidy(() => forward(model.graph, vars, x).dataSync() as Float32Array);
  disposeVars(vars);
  return y;
}

function expectClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
}

function sequentialModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv1d({ inputShape: [T, C], filters: 8, kernelSize: 5, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling1d({ poolSize: 3, strides: 1, padding: 'same' }),
      tf.layers.conv1d({ filters: 6, kernelSize: 4, padding: 'valid', activation: 'relu', useBias: false }),
      tf.layers.averagePooling1d({ poolSize: 2 }),
      tf.layers.dropout({ rate: 0.3 }),
      tf.layers.conv1d({ filters: 6, kernelSize: 3, padding: 'same' }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
      tf.layers.batchNormalization({ epsilon: 0.01 }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
}

describe('tfjs Layers import', () => {
  it('imports a Sequential model saved by tfjs and reproduces its outputs', async () => {
    const m = sequentialModel();
    randomizeBatchNorm(m, 1);
    const dir = join(tmp, 'seq');
    await saveLayersModel(m, dir);
    const imported = importTfjsLayersModel(join(dir, 'model.json'));
    expect(imported.graph.inputShape).toEqual([T, C]);
    expect(imported.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'batchnorm',
      'relu',
      'maxpool1d',
      'conv1d',
      'avgpool1d',
      'dropout',
      'conv1d',
      'relu',
      'flatten',
      'dense',
      'batchnorm',
      'relu',
      'dense',
      'softmax',
    ]);
    const x = input(5, 2);
    const expected = (m.predict(x) as tf.Tensor).dataSync() as Float32Array;
    expectClose(ours(imported, x), expected);
    // The deployable form (BatchNorm folded, Dropout gone, ReLU fused) computes the same function.
    const dep = deployableGraph(imported);
    expect(dep.graph.layers.some((l) => l.kind === 'batchnorm' || l.kind === 'dropout')).toBe(false);
    expectClose(ours(dep, x), expected, 1e-4);
    m.dispose();
    x.dispose();
  });

  it('imports a functional chain (tf.model) with GlobalAveragePooling1D', async () => {
    const inp = tf.input({ shape: [T, C] });
    let h = tf.layers
      .conv1d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' })
      .apply(inp) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling1d().apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    randomizeBatchNorm(m, 3);
    const dir = join(tmp, 'functional');
    await saveLayersModel(m, dir);
    const topo = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).modelTopology;
    expect(topo.class_name).not.toBe('Sequential');
    const imported = importTfjsLayersModel(join(dir, 'model.json'));
    const x = input(4, 4);
    expectClose(ours(imported, x), (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    // A plain tfjs directory loads as a model directory with identity normalization.
    const loaded = loadModelDir(dir);
    expect(loaded.meta.origin).toBe('tfjs-import');
    expect(loaded.normalization.mean).toEqual(new Array(C).fill(0));
    expect(loaded.normalization.std).toEqual(new Array(C).fill(1));
    expect(loaded.model.graph.classNames).toEqual(['class_0', 'class_1', 'class_2']);
    m.dispose();
    x.dispose();
  });

  async function expectRejected(layers: tf.layers.Layer[], ...parts: RegExp[]): Promise<void> {
    const m = tf.sequential({ layers });
    const dir = mkdtempSync(join(tmp, 'bad-'));
    await saveLayersModel(m, dir);
    m.dispose();
    let err: unknown;
    try {
      importTfjsLayersModel(join(dir, 'model.json'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).category).toBe('model');
    for (const p of parts) expect((err as Error).message).toMatch(p);
    expect((err as TinyforgeError).hint).toMatch(/Conv1D.*Dense.*MaxPooling1D/);
  }

  it('imports fused activations the producer cannot fuse as their own layers, same outputs', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv1d({
          inputShape: [T, C],
          filters: 4,
          kernelSize: 3,
          activation: 'sigmoid',
          name: 'cs',
        }),
        tf.layers.flatten({ name: 'fl' }),
        tf.layers.dense({ units: 3, activation: 'tanh', name: 'dt' }),
      ],
    });
    const dir = mkdtempSync(join(tmp, 'fused-'));
    await saveLayersModel(m, dir);
    const imported = importTfjsLayersModel(join(dir, 'model.json'));
    expect(imported.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'sigmoid',
      'flatten',
      'dense',
      'tanh',
    ]);
    const x = input(4, 21);
    expectClose(ours(imported, x), (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    m.dispose();
    x.dispose();
  });

  it('rejects unsupported layers and options, naming layer, type and the limit', async () => {
    await expectRejected(
      [tf.layers.conv1d({ inputShape: [T, C], filters: 4, kernelSize: 3, activation: 'elu', name: 'el' })],
      /'el' \(Conv1D\)/,
      /activation 'elu'/,
    );
    await expectRejected(
      [tf.layers.lstm({ inputShape: [T, C], units: 4, name: 'rnn' })],
      /'rnn' \(LSTM\)/,
      /not supported/,
    );
    await expectRejected(
      [tf.layers.maxPooling1d({ inputShape: [T, C], poolSize: 2, padding: 'causal', name: 'pc' } as never)],
      /'pc' \(MaxPooling1D\)/,
      /padding 'causal'/,
    );
  });

  it('rejects a manifest whose shard is truncated, naming the weight', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv1d({ inputShape: [T, C], filters: 2, kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, name: 'd' }),
      ],
    });
    const dir = join(tmp, 'trunc');
    await saveLayersModel(m, dir);
    m.dispose();
    const w = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), w.subarray(0, w.length - 4));
    expect(() => importTfjsLayersModel(join(dir, 'model.json'))).toThrow(
      /shards hold \d+ bytes, too few for weight 'd/,
    );
  });
});
