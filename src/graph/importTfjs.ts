// Import of a TensorFlow.js Layers model (model.json + binary weight shards, as tfjs `model.save`
// and the tensorflowjs converter write them) into the IR. Sequential models and functional models
// that are a simple chain are accepted; anything the pipeline cannot deploy is rejected naming the
// layer, its type and what is supported.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import type { FloatModel, Layer, LayerParams, ModelGraph, Padding, Shape } from './ir.js';
import { inferShapes } from './ir.js';

export const SUPPORTED_KERAS_LAYERS =
  'InputLayer, Conv1D (dilation 1, padding same/valid), Dense, MaxPooling1D, AveragePooling1D, ' +
  'GlobalAveragePooling1D, Flatten, ReLU, Activation (relu/softmax/linear), BatchNormalization, Dropout';

/* eslint-disable @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature. */
type Json = any;

interface KerasLayer {
  className: string;
  name: string;
  config: Json;
  inbound: string[];
}

function unsupported(l: KerasLayer, what: string): never {
  throw new TinyforgeError(
    `layer '${l.name}' (${l.className}): ${what} is not supported`,
    'model',
    `supported layers: ${SUPPORTED_KERAS_LAYERS}`,
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

/** The layer list in execution order; a functional model must be a single chain. */
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
  // Functional: follow the chain from the input; every layer must have exactly one inbound layer.
  const byName = new Map(layers.map((l) => [l.name, l]));
  const chain: KerasLayer[] = [];
  const inputs = layers.filter((l) => l.inbound.length === 0);
  if (inputs.length !== 1)
    throw new TinyforgeError(
      `${where}: the model has ${inputs.length} inputs; only a single-input chain is supported`,
      'model',
    );
  let cur: KerasLayer | undefined = inputs[0];
  const seen = new Set<string>();
  while (cur) {
    chain.push(cur);
    seen.add(cur.name);
    const next = layers.filter((l) => l.inbound.includes(cur!.name));
    if (next.length > 1)
      throw new TinyforgeError(
        `${where}: layer '${cur.name}' feeds ${next.length} layers; only a simple chain is supported`,
        'model',
      );
    cur = next[0];
    if (cur && (cur.inbound.length !== 1 || seen.has(cur.name)))
      throw new TinyforgeError(
        `${where}: layer '${cur.name}' has several inputs (merge layers are not supported)`,
        'model',
      );
  }
  if (chain.length !== layers.length) {
    const stray = layers.find((l) => !seen.has(l.name) && byName.has(l.name))!;
    throw new TinyforgeError(`${where}: layer '${stray.name}' is not on the input-to-output chain`, 'model');
  }
  return chain;
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

/** A fused activation: relu/linear stay fused, softmax becomes a following Softmax layer. */
function fusedActivation(l: KerasLayer): { activation: 'linear' | 'relu'; softmax: boolean } {
  const a = l.config.activation ?? 'linear';
  const name = typeof a === 'string' ? a : (a?.class_name ?? a?.config?.name);
  if (name === 'linear' || name === null || name === undefined)
    return { activation: 'linear', softmax: false };
  if (name === 'relu') return { activation: 'relu', softmax: false };
  if (name === 'softmax' && l.className === 'Dense') return { activation: 'linear', softmax: true };
  return unsupported(l, `activation '${name}' (relu, linear${l.className === 'Dense' ? ', softmax' : ''})`);
}

function batchInputShape(l: KerasLayer): Json[] | undefined {
  return l.config.batch_input_shape ?? l.config.batch_shape ?? l.config.batchInputShape;
}

interface Converted {
  graph: ModelGraph;
  /** For each IR layer with weights: Keras weight names, in the IR's parameter order. */
  weightNames: Map<string, { key: keyof LayerParams; name: string; optional?: boolean }[]>;
  batchNormFlags: Map<string, { center: boolean; scale: boolean }>;
}

function convertTopology(topology: Json, where: string, classNames?: string[]): Converted {
  const kl = topologyLayers(topology, where);
  let inputShape: Shape | undefined;
  const layers: Layer[] = [];
  const weightNames: Converted['weightNames'] = new Map();
  const batchNormFlags: Converted['batchNormFlags'] = new Map();
  for (const l of kl) {
    const bis = batchInputShape(l);
    if (bis && !inputShape) {
      if (bis.length !== 3 || !Number.isInteger(bis[1]) || !Number.isInteger(bis[2]))
        throw new TinyforgeError(
          `${where}: input shape [${bis.map((d: Json) => (d === null ? 'None' : d)).join(', ')}] of layer '${l.name}' is not [batch, steps, channels] with fixed steps and channels`,
          'model',
          'export the model with a fixed input shape such as [null, 128, 9]',
        );
      inputShape = [bis[1], bis[2]];
    }
    const name = l.name;
    switch (l.className) {
      case 'InputLayer':
        break;
      case 'Conv1D': {
        checkChannelsLast(l);
        const dil = one(l.config.dilation_rate ?? 1);
        if (dil !== 1) unsupported(l, `dilation_rate ${dil} (only 1)`);
        if ((l.config.groups ?? 1) !== 1) unsupported(l, `groups ${l.config.groups} (only 1)`);
        const act = fusedActivation(l);
        const useBias = l.config.use_bias ?? true;
        layers.push({
          kind: 'conv1d',
          name,
          filters: Number(l.config.filters),
          kernelSize: one(l.config.kernel_size),
          stride: one(l.config.strides ?? 1),
          padding: padding(l),
          activation: act.activation,
          useBias,
        });
        weightNames.set(name, [
          { key: 'kernel', name: 'kernel' },
          ...(useBias ? [{ key: 'bias' as const, name: 'bias' }] : []),
        ]);
        break;
      }
      case 'Dense': {
        const act = fusedActivation(l);
        const useBias = l.config.use_bias ?? true;
        layers.push({
          kind: 'dense',
          name,
          units: Number(l.config.units),
          activation: act.activation,
          useBias,
        });
        weightNames.set(name, [
          { key: 'kernel', name: 'kernel' },
          ...(useBias ? [{ key: 'bias' as const, name: 'bias' }] : []),
        ]);
        if (act.softmax) layers.push({ kind: 'softmax', name: `${name}_softmax` });
        break;
      }
      case 'MaxPooling1D':
      case 'AveragePooling1D': {
        checkChannelsLast(l);
        const size = one(l.config.pool_size ?? 2);
        const strides = l.config.strides;
        layers.push({
          kind: l.className === 'MaxPooling1D' ? 'maxpool1d' : 'avgpool1d',
          name,
          poolSize: size,
          stride: strides === null || strides === undefined ? size : one(strides),
          padding: padding(l),
        });
        break;
      }
      case 'GlobalAveragePooling1D':
        checkChannelsLast(l);
        if (l.config.keepdims) unsupported(l, 'keepdims true');
        layers.push({ kind: 'gap1d', name });
        break;
      case 'Flatten':
        checkChannelsLast(l);
        layers.push({ kind: 'flatten', name });
        break;
      case 'ReLU': {
        const c = l.config;
        if ((c.max_value ?? null) !== null || (c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0)
          unsupported(l, 'max_value, negative_slope or threshold');
        layers.push({ kind: 'relu', name });
        break;
      }
      case 'Activation': {
        const a = l.config.activation;
        if (a === 'relu') layers.push({ kind: 'relu', name });
        else if (a === 'softmax') layers.push({ kind: 'softmax', name });
        else if (a !== 'linear') unsupported(l, `activation '${a}' (relu, softmax, linear)`);
        break;
      }
      case 'Softmax':
        if ((l.config.axis ?? -1) !== -1) unsupported(l, `axis ${l.config.axis}`);
        layers.push({ kind: 'softmax', name });
        break;
      case 'Dropout':
        layers.push({ kind: 'dropout', name, rate: Number(l.config.rate ?? 0) });
        break;
      case 'BatchNormalization': {
        const axis = Array.isArray(l.config.axis) ? l.config.axis : [l.config.axis ?? -1];
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 2))
          unsupported(l, `axis ${JSON.stringify(l.config.axis)} (only the channel axis, -1)`);
        const center = l.config.center ?? true;
        const scale = l.config.scale ?? true;
        layers.push({ kind: 'batchnorm', name, epsilon: Number(l.config.epsilon ?? 0.001) });
        batchNormFlags.set(name, { center, scale });
        weightNames.set(name, [
          ...(scale ? [{ key: 'gamma' as const, name: 'gamma' }] : []),
          ...(center ? [{ key: 'beta' as const, name: 'beta' }] : []),
          { key: 'movingMean', name: 'moving_mean' },
          { key: 'movingVariance', name: 'moving_variance' },
        ]);
        break;
      }
      default:
        unsupported(l, 'this layer type');
    }
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
  return { graph, weightNames, batchNormFlags };
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
  const infos = inferShapes(conv.graph);
  for (const info of infos) {
    const names = conv.weightNames.get(info.layer.name);
    if (!names) continue;
    const p: LayerParams = {};
    for (const w of names) {
      const idx = weights.findIndex((e, i) => !used.has(i) && matchesWeight(e.name, info.layer.name, w.name));
      if (idx < 0)
        throw new TinyforgeError(
          `${modelJsonPath}: no weight '${info.layer.name}/${w.name}' in the manifest`,
          'input',
          `weights present: ${weights.map((e) => e.name).join(', ')}`,
        );
      used.add(idx);
      p[w.key] = weights[idx].values;
    }
    const l = info.layer;
    const C = l.kind === 'conv1d' ? l.filters : l.kind === 'dense' ? l.units : info.inShape[1];
    if (l.kind === 'batchnorm') {
      const flags = conv.batchNormFlags.get(l.name)!;
      if (!flags.scale) p.gamma = new Float32Array(C).fill(1);
      if (!flags.center) p.beta = new Float32Array(C);
    }
    const expectKernel =
      l.kind === 'conv1d'
        ? l.kernelSize * info.inShape[1] * l.filters
        : info.inShape[0] * info.inShape[1] * C;
    for (const [k, v] of Object.entries(p) as [keyof LayerParams, Float32Array][]) {
      const want = k === 'kernel' ? expectKernel : C;
      if (v.length !== want)
        throw new TinyforgeError(
          `${modelJsonPath}: weight '${l.name}/${k}' has ${v.length} values, the layer needs ${want}`,
          'input',
        );
    }
    params[l.name] = p;
  }
  return { graph: conv.graph, params };
}
