// A fully int8 .tflite kept as it is: the imported graph (the same one the float import gives), each
// layer quantized by its operator module's `int8.fromTflite` with the scales, zero points, int8
// weights and int32 biases the file stores, into a CompressedModel of scheme 'tflite-int8'. Which
// tensor belongs to which layer comes from the conversion (GraphBuilder.origin, mainName): an operator's
// output tensor is its last layer's output; a fused activation that became layers of its own
// (RELU6 after an ADD) is folded back into its operator, whose clamp it is under this scheme.
import { GRAPH_INPUT, type Layer } from '../../graph/types.js';
import { inferShapes } from '../../graph/ir.js';
import { opOf, int8Kinds } from '../../ops/registry.js';
import type { Int8Context } from '../../ops/types.js';
import type { FusedActivation } from '../../fixedpoint/tflite.js';
import type { AffineQuant, CompressedModel, QLayer } from '../../qmodel/model.js';
import { checkModel } from '../../qmodel/check.js';
import { encodeWeights, type CodingChoice } from '../../qmodel/coding/index.js';
import { TinyforgeError } from '../../util/errors.js';
import type { ImportedModel } from '../common.js';
import { intValues } from './constants.js';
import type { TfModel, TfOperator, TfTensor } from './model.js';

/** What the TFLite conversion knows of an int8 file's tensors, kept for the int8 import. */
export interface TfliteQuantSource {
  file: string;
  m: TfModel;
  /** The operator each IR layer came from. */
  origin: ReadonlyMap<string, TfOperator>;
  /** Each operator's main layer (by operator index). */
  mainName: ReadonlyMap<number, string>;
  /** Fused activation of each operator, by its IR name. */
  fused: ReadonlyMap<string, string>;
}

const ACTIVATIONS: ReadonlySet<string> = new Set(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1']);

/** A per-tensor int8 quantization, or undefined. */
function perTensor(t: TfTensor | undefined): AffineQuant | undefined {
  if (!t || t.type !== 'INT8' || !t.quant || t.quant.scale.length !== 1) return undefined;
  return { scale: t.quant.scale[0], zeroPoint: t.quant.zeroPoint[0] ?? 0 };
}

/** Whether every activation of the live graph is int8 (QUANTIZE/DEQUANTIZE only at the ends). */
export function isFullyInt8(src: TfliteQuantSource): boolean {
  const { m } = src;
  const tensors = [...src.origin.values()].map((op) => m.tensors[op.outputs[0]]);
  return tensors.length > 0 && tensors.every((t) => perTensor(t) !== undefined) && !!modelEnds(m);
}

/** The int8 tensors at the model's input and output (inside QUANTIZE / DEQUANTIZE wrappers). */
function modelEnds(m: TfModel): { input: AffineQuant; output: AffineQuant } | undefined {
  const inT = m.inputs[0];
  const outT = m.outputs[0];
  const quantize = m.operators.find((op) => op.opName === 'QUANTIZE' && op.inputs[0] === inT);
  const dequantize = m.operators.find((op) => op.opName === 'DEQUANTIZE' && op.outputs[0] === outT);
  const input = perTensor(m.tensors[quantize ? quantize.outputs[0] : inT]);
  const output = perTensor(m.tensors[dequantize ? dequantize.inputs[0] : outT]);
  return input && output ? { input, output } : undefined;
}

/** The weights (int8 with scales) and bias (int32) constants an operator reads. */
function constantsOf(m: TfModel, op: TfOperator): { weightScales?: number[]; bias?: Int32Array } {
  const consts = op.inputs.filter((t) => t >= 0 && m.tensors[t].data).map((t) => m.tensors[t]);
  const w = consts.find((t) => t.type === 'INT8' && t.quant);
  const b = consts.find((t) => t.type === 'INT32' && t.quant && t.quant.scale.length > 0);
  return {
    ...(w ? { weightScales: [...w.quant!.scale] } : {}),
    ...(b ? { bias: Int32Array.from(intValues(b)) } : {}),
  };
}

interface Built {
  layers: QLayer[];
  /** The TFLite tensor each layer computes, when it computes one (per-layer comparisons). */
  tensors: Record<string, number>;
}

/**
 * An operator's layers: layout layers before its main layer (the Flatten FULLY_CONNECTED implies), the
 * main layer (whose output is the operator's output tensor), then its fused activation. For a layer of
 * that activation, the main layer's name (checked here); else undefined.
 */
function fusedTail(src: TfliteQuantSource, layer: Layer, layers: readonly Layer[]): string | undefined {
  const op = src.origin.get(layer.name);
  if (!op) return undefined;
  const main = src.mainName.get(op.index)!;
  const at = (name: string) => layers.findIndex((l) => l.name === name);
  if (at(layer.name) <= at(main)) return undefined;
  const act = src.fused.get(main);
  if (!act || act === 'NONE')
    throw new TinyforgeError(
      `${src.file}: operator ${op.opName} ('${src.m.tensors[op.outputs[0]].name}') becomes several layers, which the int8 scheme cannot keep`,
      'model',
      'import it with --requantize',
    );
  return main;
}

/** A layer's output tensor quantization: its operator's output, or (layout layers) its input's. */
function outputQuant(src: TfliteQuantSource, layer: Layer, input: AffineQuant): AffineQuant {
  const op = src.origin.get(layer.name);
  if (!op || src.mainName.get(op.index) !== layer.name) return input;
  return perTensor(src.m.tensors[op.outputs[0]])!;
}

function int8Context(
  src: TfliteQuantSource,
  layer: Layer,
  inputs: AffineQuant[],
  base: Int8Context['base'],
  coding: CodingChoice,
  extra: { info: Int8Context['info']; params: Int8Context['params']; output: AffineQuant },
): Int8Context {
  const op = src.origin.get(layer.name);
  const main = op && src.mainName.get(op.index) === layer.name;
  const act = (main && src.fused.get(layer.name)) || 'NONE';
  const where = `${src.file}: layer '${layer.name}' (${opOf(layer.kind).title}${op ? `, operator ${op.opName} #${op.index}` : ''})`;
  const fail = (why: string): never => {
    throw new TinyforgeError(`${where}: ${why}`, 'model', 'import it with --requantize');
  };
  if (!ACTIVATIONS.has(act)) fail(`fused activation ${act} has no int8 form`);
  return {
    ...extra,
    base,
    inputs,
    activation: act as FusedActivation,
    ...(main ? constantsOf(src.m, op) : {}),
    encode: (values, rows, rowLength) => encodeWeights(values, rows, rowLength, 8, coding),
    fail,
  };
}

/** Each layer of the graph, quantized as the file says. */
function buildLayers(imported: ImportedModel, src: TfliteQuantSource, coding: CodingChoice): Built {
  const { graph, params } = imported.model;
  const infos = inferShapes(graph);
  const ends = modelEnds(src.m)!;
  const quant = new Map<string, AffineQuant>([[GRAPH_INPUT, ends.input]]);
  const renamed = new Map<string, string>();
  const layers: QLayer[] = [];
  const tensors: Record<string, number> = {};
  graph.layers.forEach((layer, i) => {
    const info = infos[i];
    const inNames = info.inputs.map((p) => (p < 0 ? GRAPH_INPUT : graph.layers[p].name));
    const inputs = inNames.map((n) => renamed.get(n) ?? n);
    const into = fusedTail(src, layer, graph.layers);
    // The main layer already clamps to the activation and has the operator's output quantization.
    if (into) {
      renamed.set(layer.name, into);
      return;
    }
    const mod = opOf(layer.kind);
    if (!mod.int8)
      throw new TinyforgeError(
        `${src.file}: layer '${layer.name}' (${mod.title}) has no TFLite int8 kernel in tinyforge`,
        'model',
        `int8 kinds: ${int8Kinds().join(', ')}; or import with --requantize`,
      );
    const inQuant = inputs.map((n) => quant.get(n)!);
    const output = outputQuant(src, layer, inQuant[0]);
    const base = {
      name: layer.name,
      inShape: [...info.inShape],
      outShape: [...info.outShape],
      ...(inputs.length > 1 || inputs[0] !== (layers.length ? layers[layers.length - 1].name : GRAPH_INPUT)
        ? { inputs }
        : {}),
    };
    const ctx = int8Context(src, layer, inQuant, base, coding, { info, params: params[layer.name], output });
    layers.push(mod.int8.fromTflite(layer, ctx));
    quant.set(layer.name, output);
    const op = src.origin.get(layer.name);
    if (op && src.mainName.get(op.index) === layer.name) tensors[layer.name] = op.outputs[0];
  });
  return { layers, tensors };
}

/** The imported int8 file as a CompressedModel of scheme 'tflite-int8' (validated). */
export function int8Model(
  imported: ImportedModel,
  src: TfliteQuantSource,
  opts: { coding?: CodingChoice } = {},
): CompressedModel {
  const ends = modelEnds(src.m);
  if (!ends || !isFullyInt8(src))
    throw new TinyforgeError(
      `${src.file}: not a fully int8 model (float activations or per-axis activation scales)`,
      'model',
      'import it without --keep-quantization; its weights are dequantized and tinyforge quantizes it',
    );
  const { layers, tensors } = buildLayers(imported, src, opts.coding ?? 'packed');
  const [T, C] = imported.model.graph.inputShape;
  const model: CompressedModel = {
    scheme: 'tflite-int8',
    affine: ends,
    inputShape: [T, C],
    classNames: imported.model.graph.classNames,
    normalization: { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) },
    inputFrac: 0,
    layers,
    meta: {
      tool: 'tinyforge',
      scheme: 'tflite-int8',
      source: src.file,
      coding: opts.coding ?? 'packed',
      tfliteTensors: tensors,
    },
  };
  checkModel(model);
  return model;
}
