// Import of a TensorFlow.js Layers model (model.json + binary weight shards, as tfjs `model.save`
// and the tensorflowjs converter write them) into the IR. The Keras configuration it carries is
// converted like a Keras file's (src/import/keras/topology.ts: Sequential and Functional models);
// this file reads the weight manifest and its shards.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { convertKerasTopology } from '../import/keras/topology.js';
import { fillParams, type KerasWeight } from '../import/keras/params.js';
import { sizeOf, type FloatModel } from './types.js';
import { inferShapes } from './ir.js';

export { supportedKerasLayers } from '../import/keras/topology.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature. */
type Json = any;

/** Reads every weight listed in the manifest from its shards (float32 only). */
function readWeights(manifest: Json, dir: string, where: string): KerasWeight[] {
  if (!Array.isArray(manifest)) throw new TinyforgeError(`${where}: weightsManifest is missing`, 'input');
  const out: KerasWeight[] = [];
  for (const group of manifest) {
    const bufs: Buffer[] = [];
    for (const p of group.paths ?? []) {
      const file = join(dir, String(p));
      if (!existsSync(file))
        throw new TinyforgeError(
          `weight shard ${file} (listed in ${where}) is missing`,
          'input',
          'copy every file the converter wrote',
        );
      bufs.push(readFileSync(file));
    }
    const data = Buffer.concat(bufs);
    let off = 0;
    for (const w of group.weights ?? []) {
      const shape: number[] = (w.shape ?? []).map(Number);
      const n = shape.reduce((a, b) => a * b, 1);
      if (w.quantization)
        throw new TinyforgeError(
          `${where}: weight '${w.name}' is quantized by the converter`,
          'model',
          'convert without --quantize_*',
        );
      if ((w.dtype ?? 'float32') !== 'float32')
        throw new TinyforgeError(
          `${where}: weight '${w.name}' has dtype ${w.dtype}; only float32 is supported`,
          'model',
        );
      if (off + n * 4 > data.length)
        throw new TinyforgeError(
          `${where}: weight shards hold ${data.length} bytes, too few for weight '${w.name}'`,
          'input',
          'a shard is truncated',
        );
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = data.readFloatLE(off + 4 * i);
      off += n * 4;
      out.push({ name: String(w.name), shape, values });
    }
    if (off !== data.length)
      throw new TinyforgeError(
        `${where}: weight shards hold ${data.length} bytes, the manifest lists ${off}`,
        'input',
      );
  }
  return out;
}

/** `conv1d_1/kernel`, `model/conv1d_1/kernel:0`, `conv1d_1/kernel_2` all name layer conv1d_1's kernel. */
function matchesWeight(entry: string, layer: string, weight: string): boolean {
  const parts = entry.replace(/:\d+$/, '').split('/');
  const last = parts[parts.length - 1];
  return (last === weight || last.replace(/_\d+$/, '') === weight) && parts.slice(0, -1).includes(layer);
}

export interface ImportOptions {
  classNames?: string[];
}

/** Imports a tfjs Layers model from its model.json path. */
export function importTfjsLayersModel(modelJsonPath: string, opts: ImportOptions = {}): FloatModel {
  if (!existsSync(modelJsonPath))
    throw new TinyforgeError(`model file ${modelJsonPath} does not exist`, 'input');
  let json: Json;
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  } catch (e) {
    throw new TinyforgeError(`${modelJsonPath} is not valid JSON: ${(e as Error).message}`, 'input');
  }
  const topology = json.modelTopology?.model_config ?? json.modelTopology;
  if (!topology)
    throw new TinyforgeError(
      `${modelJsonPath} has no modelTopology`,
      'input',
      json.format === 'graph-model'
        ? 'this is a graph model: export a Layers model instead'
        : 'expected a tfjs Layers model.json',
    );
  const topo = convertKerasTopology(topology, modelJsonPath);
  const infos = inferShapes(topo.graph);
  // Outputs = every element of the last tensor, as the .tfm check and the other importers count them.
  const K = sizeOf(infos.length ? infos[infos.length - 1].outShape : topo.graph.inputShape);
  const classNames = opts.classNames ?? Array.from({ length: K }, (_, i) => `class_${i}`);
  if (classNames.length !== K)
    throw new TinyforgeError(
      `${modelJsonPath}: the model has ${K} outputs but ${classNames.length} class names`,
      'model',
    );
  const graph = { ...topo.graph, classNames };
  const weights = readWeights(json.weightsManifest, dirname(modelJsonPath), modelJsonPath);
  const used = new Set<number>();
  // The manifest names every weight: each parameter takes the first unused one of its name.
  const params = fillParams(modelJsonPath, graph, topo.defaults, (name, specs) =>
    specs.map((spec) => {
      const idx = weights.findIndex((e, i) => !used.has(i) && matchesWeight(e.name, name, spec.kerasName));
      if (idx < 0)
        throw new TinyforgeError(
          `${modelJsonPath}: no weight '${name}/${spec.kerasName}' in the manifest`,
          'input',
          `weights present: ${weights.map((e) => e.name).join(', ')}`,
        );
      used.add(idx);
      return weights[idx];
    }),
  );
  return { graph, params };
}
