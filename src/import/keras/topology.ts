// A Keras model configuration (the JSON that tfjs model.json, legacy .h5 `model_config` and the
// .keras archive's config.json all carry, in Keras 2, Keras 3 or tfjs spelling) as an IR graph:
// Sequential models and Functional DAGs with one input and one output. Each layer class maps through
// the operator module that declares it (OpModule.keras); the rest stops naming the layer.
import { TinyforgeError } from '../../util/errors.js';
import { inferShapes } from '../../graph/ir.js';
import {
  GRAPH_INPUT,
  sizeOf,
  type Layer,
  type ModelGraph,
  type NodeInfo,
  type InputShape,
} from '../../graph/types.js';
import type { KerasContext, KerasLayer, KerasMapping } from '../../ops/types.js';
import { adaptInput, unsupportedModel, unsupportedNode, type InputMeaning } from '../common.js';
import { activationLayers, kerasContext, opForClass, supportedKerasLayers } from './mapping.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature. */
type Json = any;

export interface KerasTopology {
  /** The graph (classNames empty: the caller names the outputs). */
  graph: ModelGraph;
  /** Parameters a layer's file lacks, with the value they take (BatchNorm without scale). */
  defaults: Map<string, KerasMapping['defaults']>;
  /** The source input shape without the batch, channels last. */
  sourceShape: number[];
  meaning: InputMeaning;
  /** Values per output (the size of the last tensor). */
  outputs: number;
  /** The Keras layers in file order. */
  layers: KerasLayer[];
}

const MODEL_CLASSES = ['Sequential', 'Functional', 'Model'];
const RECURRENT = /^(LSTM|GRU|SimpleRNN|RNN|Bidirectional|ConvLSTM\dD|CuDNNLSTM|CuDNNGRU)$/;
const FLOAT_POLICIES = ['float32', 'mixed_float16', 'mixed_bfloat16'];

/** One inbound node per layer: [[name, node, tensor, kwargs], ...] (Keras 2, tfjs) or {args} (Keras 3). */
function inboundOf(entry: Json): { names: string[]; nodes: number } {
  const nodes: Json[] = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
  const names: string[] = [];
  for (const node of nodes.slice(0, 1)) {
    if (Array.isArray(node)) for (const inp of node) names.push(String(inp[0]));
    else if (node && Array.isArray(node.args))
      for (const a of node.args.flat()) {
        const hist = a?.config?.keras_history;
        if (hist) names.push(String(hist[0]));
      }
  }
  return { names, nodes: nodes.length };
}

/** The layer list of a model config; throws 'input' when there is none. */
function rawLayers(model: Json, file: string): Json[] {
  const cfg = model?.config;
  const raw: Json[] | undefined = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(raw))
    throw new TinyforgeError(`${file}: the model configuration has no layer list`, 'input');
  return raw;
}

/** [name, node, tensor] or a list of them (Keras 3 writes a single one flat). */
function endpoints(v: Json): string[] {
  if (!Array.isArray(v) || v.length === 0) return [];
  return typeof v[0] === 'string' ? [String(v[0])] : v.map((e: Json) => String(e[0]));
}

function readLayers(model: Json, file: string): KerasLayer[] {
  const cls = String(model?.class_name);
  if (!MODEL_CLASSES.includes(cls))
    unsupportedModel(
      file,
      `model class '${cls}' is not supported`,
      'save a Sequential or Functional model (a subclassed Model has no layer graph in its file)',
    );
  return rawLayers(model, file).map((l: Json) => ({
    // Keras 3 legacy .h5 files write a registered class as "package>Name".
    className: String(l.class_name).split('>').pop()!,
    name: String(l.config?.name ?? l.name),
    config: l.config ?? {},
    inbound: inboundOf(l).names,
  }));
}

/** The model's single input and output (Functional), checked against the layer list. */
function checkEndpoints(model: Json, layers: KerasLayer[], file: string): void {
  if (model.class_name === 'Sequential') return;
  const inputs = endpoints(model.config?.input_layers);
  const roots = layers.filter((l) => l.inbound.length === 0);
  if (inputs.length > 1 || roots.length !== 1)
    unsupportedModel(
      file,
      `the model has ${Math.max(inputs.length, roots.length)} inputs; only one is supported`,
    );
  const outputs = endpoints(model.config?.output_layers);
  const last = layers[layers.length - 1]?.name;
  if (outputs.length > 1 || (outputs.length === 1 && outputs[0] !== last))
    unsupportedModel(
      file,
      `the model's output must be its last layer, and only one output is supported (outputs: ${outputs.join(', ')})`,
    );
}

function batchShapeOf(c: Json): Json[] | undefined {
  return c.batch_shape ?? c.batch_input_shape ?? c.batchInputShape;
}

/** The declared input shape without the batch; a dynamic dimension stops naming the layer. */
function sourceInputShape(model: Json, layers: KerasLayer[], file: string): number[] {
  const at = layers.findIndex((l) => l.className === 'InputLayer' || batchShapeOf(l.config));
  const shape: Json[] | undefined =
    at >= 0 ? batchShapeOf(layers[at].config) : model.config?.build_input_shape;
  if (!Array.isArray(shape) || shape.length < 2)
    throw new TinyforgeError(
      `${file}: the model does not declare its input shape`,
      'model',
      'give the model an Input / input_shape with fixed sizes, such as (128, 9)',
    );
  const dims = shape.slice(1);
  if (dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    const l = layers[Math.max(at, 0)];
    unsupportedNode(
      file,
      { what: 'layer', name: l.name, index: Math.max(at, 0), type: l.className },
      `the dynamic input shape [${shape.map((d) => d ?? 'None').join(', ')}]`,
      'fixed input shapes; only the batch dimension may be None',
    );
  }
  return dims.map(Number);
}

/** A layer's dtype policy name (Keras 2: a string or Policy object; Keras 3: DTypePolicy objects). */
function dtypeOf(c: Json): string | undefined {
  const d = c.dtype;
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'string') return d;
  // Keras 3 quantized layers: QuantizedDTypePolicy {mode: 'int8', source_name: 'float32'}.
  return String(d.config?.name ?? (d.config?.mode ? `${d.config.mode} (${d.class_name})` : d.class_name));
}

/** The IR layers of one Keras layer. */
function convertLayer(l: KerasLayer, raw: Json, k: KerasContext): KerasMapping {
  if (l.className === 'InputLayer') return { layers: [] };
  const dtype = dtypeOf(l.config);
  // Mixed precision keeps float32 variables (computed here in float32); quantized policies do not.
  if (dtype !== undefined && !FLOAT_POLICIES.includes(dtype))
    k.unsupported(l, `dtype policy '${dtype}' (${FLOAT_POLICIES.join(', ')})`);
  if (MODEL_CLASSES.includes(l.className)) k.unsupported(l, 'a nested model (flatten it into one model)');
  if (l.className === 'Activation') return { layers: activationLayers(l, k) };
  const op = opForClass(l.className);
  if (op?.keras) return op.keras.fromKeras(l, k);
  // Keras 3 names a user's registered class "package>Name"; its module is not keras'.
  const reg = raw.registered_name ?? (String(raw.class_name).includes('>') ? raw.class_name : undefined);
  const module = raw.module;
  if (
    (typeof reg === 'string' && reg.includes('>')) ||
    (typeof module === 'string' && !module.startsWith('keras'))
  )
    return k.unsupported(l, `a custom layer${typeof reg === 'string' ? ` (registered as '${reg}')` : ''}`);
  if (RECURRENT.test(l.className)) return k.unsupported(l, 'a recurrent layer');
  return k.unsupported(l, 'this layer type');
}

/** The Keras rank (batch included) of an IR tensor. */
function kerasRank(info: NodeInfo): number {
  return info.flat ? 2 : info.outShape.length + 1;
}

/**
 * Converts a Keras model configuration. Shapes are inferred layer by layer, so that a layer whose
 * input the operator cannot take is reported as that Keras layer.
 */
export function convertKerasTopology(
  model: Json,
  file: string,
  opts: { inputMeaning?: InputMeaning } = {},
): KerasTopology {
  const raw = rawLayers(model, file);
  const kl = readLayers(model, file);
  checkEndpoints(model, kl, file);
  const sourceShape = sourceInputShape(model, kl, file);
  const adapted = adaptInput(file, sourceShape, opts.inputMeaning);
  const inputShape: InputShape = adapted.inputShape;
  const layers: Layer[] = [...adapted.prologue];
  const inputTensor = layers.length ? layers[layers.length - 1].name : GRAPH_INPUT;

  const indexOf = new Map(kl.map((l, i) => [l, i]));
  raw.forEach((r: Json, i) => {
    if (inboundOf(r).nodes > 1)
      unsupportedNode(
        file,
        { what: 'layer', name: kl[i].name, index: i, type: kl[i].className },
        'a layer applied more than once (shared weights)',
        'each layer used once',
      );
  });
  // The IR tensor each Keras layer's output became, and the Keras rank of every IR tensor.
  const tensorOf = new Map<string, string>();
  const rankOf = new Map<string, number>([[inputTensor, sourceShape.length + 1]]);
  const previous = (): string => (layers.length ? layers[layers.length - 1].name : GRAPH_INPUT);
  const readsOf = (l: KerasLayer): string[] =>
    l.inbound.map((n) => {
      const t = tensorOf.get(n);
      if (t === undefined)
        unsupportedModel(
          file,
          `layer '${l.name}' reads '${n}', which comes later or nowhere in the layer list`,
        );
      return t;
    });
  const k = kerasContext(file, {
    index: (l) => indexOf.get(l) ?? kl.findIndex((x) => x.name === l.name),
    inputRank: (l) => rankOf.get(readsOf(l)[0] ?? previous()),
  });

  const defaults: KerasTopology['defaults'] = new Map();
  kl.forEach((l, i) => {
    if (l.className === 'InputLayer') return void tensorOf.set(l.name, inputTensor);
    const reads = readsOf(l);
    const before = previous();
    const m = convertLayer(l, raw[i], k);
    m.layers.forEach((ir, j) => {
      // A functional layer reads its inbound layers' tensors; the rest of its mapping follows on.
      if (j > 0 || reads.length === 0) return void layers.push(ir);
      const { inputs: _mapped, ...rest } = ir;
      layers.push(reads.length === 1 && reads[0] === before ? rest : { ...rest, inputs: reads });
    });
    for (const info of inferLayer(file, inputShape, layers, l, i))
      rankOf.set(info.layer.name, kerasRank(info));
    tensorOf.set(l.name, m.layers.length ? m.layers[m.layers.length - 1].name : (reads[0] ?? before));
    if (m.defaults) defaults.set(l.name, m.defaults);
  });
  const out = kl.length ? tensorOf.get(kl[kl.length - 1].name) : undefined;
  if (out !== undefined && out !== previous())
    unsupportedModel(file, `the model's output '${kl[kl.length - 1].name}' is not computed last`);
  const graph: ModelGraph = { inputShape, classNames: [], layers };
  const infos = inferShapes(graph);
  const outputs = infos.length ? sizeOf(infos[infos.length - 1].outShape) : sizeOf(inputShape);
  return { graph, defaults, sourceShape, meaning: adapted.meaning, outputs, layers: kl };
}

/** Shapes of the graph so far; a failure is the Keras layer just added. */
function inferLayer(file: string, inputShape: InputShape, layers: Layer[], l: KerasLayer, index: number) {
  try {
    return inferShapes({ inputShape, classNames: [], layers: [...layers] });
  } catch (e) {
    if (!(e instanceof TinyforgeError)) throw e;
    return unsupportedNode(
      file,
      { what: 'layer', name: l.name, index, type: l.className },
      `its input (${e.message})`,
      e.hint ?? `layers ${supportedKerasLayers()}`,
    );
  }
}

export { supportedKerasLayers };
