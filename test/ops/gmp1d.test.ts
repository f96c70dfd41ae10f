// GlobalMaxPooling1D, the operator added through docs/architecture.md alone: it trains in tfjs (the
// gradient reaches the weights before it), tfjs and the plain TS float forward agree, its model
// directory round-trips through model.json, and it compresses and runs in the host reference.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { tempDir } from '../helpers/temp.js';
import { syntheticData, trainAndCompress } from '../helpers/trainCompress.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const { dataset, data } = syntheticData(5, 240, 120);
const graph = archToGraph(
  {
    layers: [
      { type: 'conv1d', filters: 8, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
      { type: 'gmp1d' },
      { type: 'dense', units: 'classes' },
    ],
  },
  { inputShape: [128, 9], classNames: dataset.classNames },
);

describe('GlobalMaxPooling1D through the registry', () => {
  it('trains, and tfjs and the float forward give the same outputs', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars).conv1d_1.kernel!.slice();
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    // The max routes the gradient to the conv weights: they moved.
    expect(Array.from(model.params.conv1d_1.kernel!)).not.toEqual(Array.from(before));
    const x = data.test.x.subarray(0, 128 * 9);
    const ours = floatForward(model, x).outputs[2];
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 4);
    disposeVars(vars);
  });

  it('saves as GlobalMaxPooling1D in model.json and loads back', async () => {
    const dir = join(tempDir(), 'gmp');
    const model = { graph, params: initParams(graph, 4) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const loaded = loadModelDir(dir);
    expect(loaded.model.graph.layers.map((l) => l.kind)).toEqual(['conv1d', 'gmp1d', 'dense']);
  });

  it('compresses, and the host reference agrees with the float model on most windows', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 6, epochs: 3 });
    expect(q.layers.map((l) => l.kind)).toEqual(['conv1d', 'gmp1d', 'dense']);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.05);
  });
});
