// Import of a TensorFlow.js Layers model (model.json + binary weight shards, as tfjs `model.save`
// and the tensorflowjs converter write them) into the IR. Sequential models and functional models
// that are a simple chain are accepted; anything the pipeline cannot deploy is rejected naming the
// layer, its type and what is supported.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { opOf, registeredOps } from '../ops/registry.js';
import type { KerasContext, KerasLayer, KerasMapping, OpModule } from '../ops/types.js';
import {
  GRAPH_INPUT,
  type FloatModel,
  type Layer,
  type LayerParams,
  type ModelGraph,
  type Padding,
  type InputShape,
} from './types.js';
import { inferShapes } from './ir.js';

/** The Keras layer classes some operator module maps (plus InputLayer and Activation). */
export function supportedKerasLayers(): string {
  const names = registeredOps().flatMap((op) => op.keras?.classNames ?? []);
  const acts = registeredOps().flatMap((op) => (op.keras?.activationName ? [op.keras.activationName] : []));
  return ['InputLayer', ...names, `Activation (${[...acts, 'linear'].join('/')})`].join(', ');
}

/* eslint-disable @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature. */
type Json = any;

function unsupported(l: KerasLayer, what: string): never {
  throw new TinyforgeError(
    `layer '${l.name}' (${l.className}): ${what} is not supported`,
    'model',
    `supported layers: ${supportedKerasLayers()}`,
  );
}

/** Names of the layers feeding a functional-model layer (Keras 2 and Keras 3 inbound_nodes forms). */
function inboundNames(entry: Json): string[] {
  const nodes = entry.inbound_nodes ?? [];
  const names: string[] = [];
  for (const node of nodes) {
    if (Array.isArray(node)) for (const inp of node) names.push(String(inp[0]));
    else if (node && Array.isArray(node.args))
      for (const a of node.args.flat()) {
        const hist = a?.config?.keras_history;
        if (hist) names.push(String(hist[0]));
      }
  }
  return names;
}

/**
 * The layer list in execution order (Keras writes functional models topologically sorted); each
 * functional layer carries the names of the layers it reads. One input, one output (the last).
 */
function topologyLayers(topology: Json, where: string): KerasLayer[] {
  const cls = topology?.class_name;
  const cfg = topology?.config;
  const raw: Json[] | undefined = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(raw))
    throw new TinyforgeError(
      `${where}: modelTopology has no layer list`,
      'input',
      'expected a tfjs Layers model.json',
    );
  const layers: KerasLayer[] = raw.map((l: Json) => ({
    className: String(l.class_name),
    name: String(l.config?.name ?? l.name),
    config: l.config ?? {},
    inbound: inboundNames(l),
  }));
  if (cls === 'Sequential') return layers;
  if (cls !== 'Model' && cls !== 'Functional')
    throw new TinyforgeError(
      `${where}: model class '${cls}' is not supported`,
      'model',
      'use a Sequential or functional Model',
    );
  const inputs = layers.filter((l) => l.inbound.length === 0);
  if (inputs.length !== 1)
    throw new TinyforgeError(
      `${where}: the model has ${inputs.length} inputs; only one is supported`,
      'model',
    );
  const outputs: Json[] = cfg?.output_layers ?? [];
  const outName = Array.isArray(outputs[0]) ? String(outputs[0][0]) : undefined;
  if (outputs.length > 1 || (outName !== undefined && outName !== layers[layers.length - 1].name))
    throw new TinyforgeError(
      `${where}: the model's output must be its last layer, and only one output is supported`,
      'model',
    );
  const seen = new Set<string>();
  for (const l of layers) {
    const missing = l.inbound.find((n) => !seen.has(n));
    if (missing)
      throw new TinyforgeError(
        `${where}: layer '${l.name}' reads '${missing}', which comes later or nowhere`,
        'model',
      );
    seen.add(l.name);
  }
  return layers;
}

const one = (v: Json): number => (Array.isArray(v) ? Number(v[0]) : Number(v));

function padding(l: KerasLayer): Padding {
  const p = l.config.padding ?? 'valid';
  if (p !== 'same' && p !== 'valid') unsupported(l, `padding '${p}' (only same and valid)`);
  return p;
}

function checkChannelsLast(l: KerasLayer): void {
  const df = l.config.data_format;
  if (df !== undefined && df !== null && df !== 'channels_last') unsupported(l, `data_format '${df}'`);
}

/** The operator a Keras activation name stands for (relu, softmax, ...). */
function activationOp(name: string): OpModule | undefined {
  return registeredOps().find((op) => op.keras?.activationName === name);
}

/** A layer of the activation's operator, named after the layer it follows. */
function activationLayer(name: string, layerName: string): Layer {
  return activationOp(name)!.arch.toLayer({}, { name: layerName, classes: 0 });
}

/**
 * A layer's fused activation: linear and the operator's own fused ones stay fused; one that only
 * exists as a layer (softmax) comes back as a following layer.
 */
function fusedActivation(l: KerasLayer, allowed: readonly string[]): { activation: string; after: Layer[] } {
  const a = l.config.activation ?? 'linear';
  const name = typeof a === 'string' ? a : (a?.class_name ?? a?.config?.name);
  if (name === 'linear' || name === null || name === undefined) return { activation: 'linear', after: [] };
  // Any activation with an operator follows as its own layer (relu6, sigmoid, ...); one the
  // producer can fuse and whose operator fuses stays fused.
  if (!allowed.includes(name) && !activationOp(name))
    return unsupported(
      l,
      `activation '${name}' (${[...new Set([...allowed, ...activationNames()])].join(', ')})`,
    );
  if (allowed.includes(name) && activationOp(name)?.deploy?.rule === 'activation')
    return { activation: name, after: [] };
  return { activation: 'linear', after: [activationLayer(name, `${l.name}_${name}`)] };
}

const KERAS: KerasContext = {
  unsupported,
  one,
  padding,
  checkChannelsLast,
  activation: fusedActivation,
};

/** Keras activation names some operator stands for. */
function activationNames(): string[] {
  return registeredOps().flatMap((op) => (op.keras?.activationName ? [op.keras.activationName] : []));
}

/** The IR layers of a Keras `Activation` layer. */
function activationLayers(l: KerasLayer): Layer[] {
  const a = String(l.config.activation);
  if (a === 'linear') return [];
  if (!activationOp(a)) unsupported(l, `activation '${a}' (${[...activationNames(), 'linear'].join(', ')})`);
  return [activationLayer(a, l.name)];
}

function batchInputShape(l: KerasLayer): Json[] | undefined {
  return l.config.batch_input_shape ?? l.config.batch_shape ?? l.config.batchInputShape;
}

interface Converted {
  graph: ModelGraph;
  /** Parameters a layer's file may lack, with the value they take (BatchNorm without scale). */
  defaults: Map<string, KerasMapping['defaults']>;
}

function inputShapeOf(l: KerasLayer, where: string): InputShape | undefined {
  const bis = batchInputShape(l);
  if (!bis) return undefined;
  if (bis.length !== 3 || !Number.isInteger(bis[1]) || !Number.isInteger(bis[2]))
    throw new TinyforgeError(
      `${where}: input shape [${bis.map((d: Json) => (d === null ? 'None' : d)).join(', ')}] of layer '${l.name}' is not [batch, steps, channels] with fixed steps and channels`,
      'model',
      'export the model with a fixed input shape such as [null, 128, 9]',
    );
  return [bis[1], bis[2]];
}

/** The IR layers of one Keras layer, through the operator module that maps its class. */
function convertLayer(l: KerasLayer): KerasMapping {
  if (l.className === 'InputLayer') return { layers: [] };
  if (l.className === 'Activation') return { layers: activationLayers(l) };
  const op = registeredOps().find((o) => o.keras?.classNames.includes(l.className));
  if (!op?.keras) return unsupported(l, 'this layer type');
  return op.keras.fromKeras(l, KERAS);
}

function convertTopology(topology: Json, where: string, classNames?: string[]): Converted {
  const kl = topologyLayers(topology, where);
  let inputShape: InputShape | undefined;
  const layers: Layer[] = [];
  const defaults: Converted['defaults'] = new Map();
  // The IR tensor each Keras layer's output became (the last IR layer of its mapping).
  const tensorOf = new Map<string, string>();
  for (const l of kl) {
    inputShape ??= inputShapeOf(l, where);
    const m = convertLayer(l);
    const reads = l.inbound.map((n) => tensorOf.get(n)!);
    const previous = layers.length ? layers[layers.length - 1].name : GRAPH_INPUT;
    m.layers.forEach((ir, i) => {
      // A functional layer reads its inbound layers' tensors; the rest of its mapping follows on.
      if (i > 0 || reads.length === 0) return void layers.push(ir);
      const { inputs: _mapped, ...rest } = ir;
      layers.push(reads.length === 1 && reads[0] === previous ? rest : { ...rest, inputs: reads });
    });
    const out = m.layers.length ? m.layers[m.layers.length - 1].name : (reads[0] ?? GRAPH_INPUT);
    tensorOf.set(l.name, l.className === 'InputLayer' ? GRAPH_INPUT : out);
    if (m.defaults) defaults.set(l.name, m.defaults);
  }
  if (!inputShape)
    throw new TinyforgeError(
      `${where}: the model does not declare its input shape`,
      'model',
      'give the first layer an inputShape / batch_input_shape such as [null, 128, 9]',
    );
  const graph: ModelGraph = { inputShape, classNames: [], layers };
  const infos = inferShapes(graph);
  const K = infos.length ? infos[infos.length - 1].outShape[1] : inputShape[1];
  graph.classNames = classNames ?? Array.from({ length: K }, (_, i) => `class_${i}`);
  if (graph.classNames.length !== K)
    throw new TinyforgeError(
      `${where}: the model has ${K} outputs but ${graph.classNames.length} class names`,
      'model',
    );
  return { graph: { ...graph }, defaults };
}

interface WeightEntry {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Reads every weight listed in the manifest from its shards (float32 only). */
function readWeights(manifest: Json, dir: string, where: string): WeightEntry[] {
  if (!Array.isArray(manifest)) throw new TinyforgeError(`${where}: weightsManifest is missing`, 'input');
  const out: WeightEntry[] = [];
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
  const conv = convertTopology(topology, modelJsonPath, opts.classNames);
  const weights = readWeights(json.weightsManifest, dirname(modelJsonPath), modelJsonPath);
  const used = new Set<number>();
  const params: Record<string, LayerParams> = {};
  for (const info of inferShapes(conv.graph)) {
    const specs = opOf(info.layer.kind).params?.(info.layer, info) ?? [];
    if (specs.length === 0) continue;
    const name = info.layer.name;
    const fill = conv.defaults.get(name) ?? {};
    const p: LayerParams = {};
    for (const spec of specs) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const dflt = fill[spec.key];
      if (dflt) {
        p[spec.key] = new Float32Array(n).fill(dflt === 'ones' ? 1 : 0);
        continue;
      }
      const idx = weights.findIndex((e, i) => !used.has(i) && matchesWeight(e.name, name, spec.kerasName));
      if (idx < 0)
        throw new TinyforgeError(
          `${modelJsonPath}: no weight '${name}/${spec.kerasName}' in the manifest`,
          'input',
          `weights present: ${weights.map((e) => e.name).join(', ')}`,
        );
      used.add(idx);
      if (weights[idx].values.length !== n)
        throw new TinyforgeError(
          `${modelJsonPath}: weight '${name}/${spec.key}' has ${weights[idx].values.length} values, the layer needs ${n}`,
          'input',
        );
      p[spec.key] = weights[idx].values;
    }
    params[name] = p;
  }
  return { graph: conv.graph, params };
}
