// Training throughput of the default HAR model on the backend in use (synthetic windows, so the
// benchmark needs no data set): windows per second for training and for inference.
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic } from '../data/synthetic.js';
import { prepareData } from '../data/load.js';
import { archToGraph } from '../graph/arch.js';
import { totalMacs, totalParams } from '../graph/ir.js';
import { HAR_DEFAULT_ARCH, HAR_DEFAULT_TRAINING } from '../train/archs/index.js';
import { initBackend } from '../train/backend.js';
import { evaluateSet, fit } from '../train/fit.js';
import { createVars, disposeVars, initParams } from '../train/forward.js';

export async function run(): Promise<void> {
  const backend = await initBackend({ quiet: true });
  const ds = generateSynthetic({ seed: 1, train: 1536, test: 1024 });
  const data = prepareData(ds);
  const graph = archToGraph(HAR_DEFAULT_ARCH, { inputShape: [128, 9], classNames: ds.classNames });
  const vars = createVars({ graph, params: initParams(graph, 1) });
  const rows: [string, string][] = [];
  try {
    // Epoch 1 warms up (kernel compilation, allocations); epochs 2-3 are measured.
    const warm = await fit(graph, vars, data.train, {
      epochs: 1,
      batchSize: HAR_DEFAULT_TRAINING.batchSize,
      lr: 1e-3,
      seed: 1,
      progress: 'none',
    });
    void warm;
    const r = await fit(graph, vars, data.train, {
      epochs: 2,
      batchSize: HAR_DEFAULT_TRAINING.batchSize,
      lr: 1e-3,
      seed: 2,
      progress: 'none',
    });
    const t0 = performance.now();
    evaluateSet(graph, vars, data.test);
    const inferSeconds = (performance.now() - t0) / 1000;
    rows.push(
      ['backend', backend.name],
      ['model', `har-default, ${totalParams(graph)} params, ${totalMacs(graph)} MACs/window`],
      ['batch size', String(HAR_DEFAULT_TRAINING.batchSize)],
      ['training windows/s', r.windowsPerSecond.toFixed(0)],
      ['inference windows/s', (data.test.n / inferSeconds).toFixed(0)],
      ['tfjs', tf.version.tfjs],
    );
  } finally {
    disposeVars(vars);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}
