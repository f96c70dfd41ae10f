// Training a small model on synthetic windows and compressing it: the setup the operator tests share.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { prepareData, type PreparedData } from '../../src/data/load.js';
import {
  compressModel,
  DEFAULT_COMPRESS_OPTIONS,
  type CompressOptions,
} from '../../src/compress/compress.js';
import type { ModelGraph } from '../../src/graph/types.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { floatForward } from '../../src/compress/floatForward.js';

/** Synthetic HAR windows and their train/val/test split (a fifth of the training subjects validate). */
export function syntheticData(seed: number, train: number, test: number) {
  const dataset = generateSynthetic({ seed, train, test });
  return { dataset, data: prepareData(dataset, { valFraction: 0.2 }) };
}

/**
 * Trains `graph` from initParams(seed) for `epochs` (batch 32, lr 0.01, the same seed), then
 * compresses it with `options` (evaluated on the test split): the float model and the compressed one.
 */
export async function trainAndCompress(
  graph: ModelGraph,
  data: PreparedData,
  {
    seed,
    epochs,
    options = DEFAULT_COMPRESS_OPTIONS,
  }: { seed: number; epochs: number; options?: CompressOptions },
) {
  const vars = createVars({ graph, params: initParams(graph, seed) });
  await fit(graph, vars, data.train, { epochs, batchSize: 32, lr: 0.01, seed, progress: 'none' });
  const model = { graph, params: readParams(vars) };
  disposeVars(vars);
  const { model: q, report } = await compressModel(
    model,
    data.normalization,
    { train: data.train, val: data.val, eval: data.test, evalName: 'test' },
    options,
  );
  return { model, q, report };
}

/**
 * Trains `graph` one epoch from initParams(3): every kernel of the `layers` moved, and the plain TS
 * float forward's logits agree with tfjs's (3 digits) on the first test window [128, 9].
 */
export async function expectTrainsAndAgrees(graph: ModelGraph, data: PreparedData, layers: string[]) {
  const vars = createVars({ graph, params: initParams(graph, 3) });
  const before = layers.map((n) => readParams(vars)[n].kernel!.slice());
  await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
  const model = { graph, params: readParams(vars) };
  layers.forEach((n, i) => expect(Array.from(model.params[n].kernel!)).not.toEqual(Array.from(before[i])));
  const x = data.test.x.subarray(0, 128 * 9);
  const trace = floatForward(model, x).outputs;
  const ours = trace[trace.length - 1];
  const theirs = tf.tidy(() =>
    forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
  );
  for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 3);
  disposeVars(vars);
}
