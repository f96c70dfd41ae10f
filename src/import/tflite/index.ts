// TensorFlow Lite import: a .tflite flatbuffer (one subgraph; float32 tensors, or int8/float16
// weights that are dequantized, or a fully int8 model imported dequantized) into the IR with float
// parameters. Reading: model.ts on the `flatbuffers` runtime; dilated convolutions as TensorFlow
// lowers them become one operator (dilation.ts); conversion: convert.ts through the operator
// modules' `tflite` mappings; then Keras 1D layers are restored (collapse1d.ts), layout layers that
// change nothing go (layout.ts), and causal convolutions and n-ary Adds come together (fuse.ts).
import { readFileSync } from 'node:fs';
import { GRAPH_INPUT, sizeOf, type FloatModel, type InputShape, type ModelGraph } from '../../graph/types.js';
import { inferShapes } from '../../graph/ir.js';
import { TinyforgeError } from '../../util/errors.js';
import {
  adaptInput,
  classNamesFor,
  unsupportedModel,
  unsupportedNode,
  type ImportedModel,
  type ImportOptions,
  type InputMeaning,
} from '../common.js';
import { collapseUnitRows } from './collapse1d.js';
import { GraphBuilder } from './convert.js';
import { sequential, simplifyLayout } from './layout.js';
import { readModel, type TfModel, type TfOperator, type TfTensor } from './model.js';
import { INDEX_TYPES } from './schema.js';
import { Names } from './names.js';
import {
  claimants,
  Constants,
  LAYOUT_OPS,
  liveOperators,
  PASS_THROUGH,
  supportedOperators,
} from './operators.js';
import { fuseDilations } from './dilation.js';
import { fuseLowered } from './fuse.js';
import { int8Model, isFullyInt8, type TfliteQuantSource } from './int8.js';

function readBytes(file: string): Uint8Array {
  try {
    const b = readFileSync(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new TinyforgeError(`cannot read ${file}: ${(e as Error).message}`, 'input');
  }
}

const dims = (t: TfTensor) => `[${(t.signature ?? t.shape).join(', ')}]`;

/** An activation tensor: batch first (1, or -1 in the signature), every other dimension fixed. */
function batchProblem(t: TfTensor): string | undefined {
  const sig = t.signature ?? t.shape;
  if (t.shape.length < 2 || t.shape[0] !== 1 || (sig[0] !== 1 && sig[0] !== -1))
    return `tensor '${t.name}' of shape ${dims(t)} (activations are [batch, ...] with batch 1)`;
  if (sig.slice(1).some((d) => d < 0)) return `a dynamic shape ${dims(t)} (only the batch may be dynamic)`;
  return undefined;
}

/** The model's one input tensor and one output tensor, and its input shape without the batch. */
function modelIo(file: string, m: TfModel): { input: TfTensor; output: TfTensor } {
  if (m.inputs.length !== 1 || m.outputs.length !== 1)
    unsupportedModel(
      file,
      `the model has ${m.inputs.length} inputs and ${m.outputs.length} outputs`,
      'models with one input and one output',
    );
  const input = m.tensors[m.inputs[0]];
  const problem = batchProblem(input);
  if (problem)
    unsupportedModel(file, `input '${input.name}': ${problem}`, 'export the model with a fixed input shape');
  return { input, output: m.tensors[m.outputs[0]] };
}

/** Unclaimed operators (control flow, recurrent, custom, Flex), then extra subgraphs and dynamic shapes. */
function checkSupported(g: GraphBuilder, ops: TfOperator[]): void {
  for (const op of ops) {
    if (op.opName === 'CUSTOM') {
      const code = op.customCode ?? '';
      g.unsupported(
        op,
        code.startsWith('Flex') ? `the Flex (TensorFlow) operator ${code}` : `custom operator '${code}'`,
      );
    }
    if (!PASS_THROUGH.has(op.opName) && !claimants(op.opName).length)
      g.unsupported(op, `operator ${op.opName}`);
  }
  if (g.m.subgraphs > 1)
    unsupportedModel(g.file, `the model has ${g.m.subgraphs} subgraphs`, 'models with one subgraph');
  for (const op of ops) {
    if (op.outputs.length !== 1) g.unsupported(op, `${op.outputs.length} outputs`);
    const problem = batchProblem(g.m.tensors[op.outputs[0]]);
    if (problem) g.unsupported(op, problem);
  }
}

/**
 * Names: operators with weights first, then the other compute operators, then layout ops, so that
 * a Keras layer's name goes to its main operator (the CONV_2D of a Conv1D, not its PAD or EXPAND_DIMS).
 */
function operatorNames(m: TfModel, ops: TfOperator[], c: Constants, names: Names): Map<number, string> {
  const out = new Map<number, string>();
  const weighted = (o: TfOperator) =>
    o.inputs.some((t) => t >= 0 && c.has(t) && !INDEX_TYPES.has(m.tensors[t].type));
  const rank = (o: TfOperator) => (LAYOUT_OPS.has(o.opName) ? 2 : weighted(o) ? 0 : 1);
  const ordered = [...ops].sort((a, b) => rank(a) - rank(b));
  for (const op of ordered)
    out.set(op.index, names.forOperator(m.tensors[op.outputs[0]].name, op.opName, op.index));
  return out;
}

function convertModel(file: string, m: TfModel, opts: ImportOptions): ImportedModel {
  const { input, output } = modelIo(file, m);
  const adapted = adaptInput(file, input.shape.slice(1), opts.inputMeaning);
  const constants = new Constants(m);
  const ops = liveOperators(m, constants);
  const namer = new Names();
  const names = operatorNames(m, ops, constants, namer);
  const g = new GraphBuilder(file, m, constants, namer, {
    shape: [...adapted.inputShape],
    flat: false,
  });
  checkSupported(g, ops);
  let from = GRAPH_INPUT;
  for (const l of adapted.prologue) {
    g.add(l, [from], (why) => unsupportedModel(file, `input ${dims(input)}: ${why}`));
    g.layout.add(l.name);
    from = l.name;
  }
  g.irOf.set(input.index, from);
  for (const op of ops) {
    if (PASS_THROUGH.has(op.opName)) {
      const src = g.irOf.get(op.inputs[0]);
      if (src !== undefined) g.irOf.set(op.outputs[0], src);
      continue;
    }
    const before = g.layers.length;
    g.convert(op, names.get(op.index)!);
    if (LAYOUT_OPS.has(op.opName)) g.layers.slice(before).forEach((l) => g.layout.add(l.name));
  }
  const last = g.layers[g.layers.length - 1];
  if (!last || g.irOf.get(output.index) !== last.name)
    unsupportedModel(file, `output '${output.name}' is not computed by the model's last operator`);
  return finish(file, g, { input, inputShape: adapted.inputShape, meaning: adapted.meaning }, opts);
}

/** The 1D restoration and layout cleanup, class names, and what the model came from. */
function finish(
  file: string,
  g: GraphBuilder,
  io: { input: TfTensor; inputShape: InputShape; meaning: InputMeaning },
  opts: ImportOptions,
): ImportedModel {
  const { input, inputShape, meaning } = io;
  const rows: ModelGraph = { inputShape, classNames: [], layers: g.layers };
  const collapsed = simplifyLayout(collapseUnitRows(rows), inputShape, g.layout);
  const layers = sequential(fuseLowered(collapsed, inputShape));
  const infos = inferShapes({ inputShape, classNames: [], layers });
  const K = sizeOf(infos[infos.length - 1].outShape);
  const graph: ModelGraph = { inputShape, classNames: classNamesFor(file, K, opts.classNames), layers };
  const kept = new Set(layers.map((l) => l.name));
  const params = Object.fromEntries(Object.entries(g.params).filter(([n]) => kept.has(n)));
  const model: FloatModel = { graph, params };
  const src: TfliteQuantSource = {
    file,
    m: g.m,
    origin: g.origin,
    mainName: g.mainName,
    fused: g.fused,
  };
  const imported: ImportedModel = {
    model,
    source: {
      format: 'tflite',
      file,
      inputShape: input.shape.slice(1),
      inputLayout: 'channels-last',
      inputMeaning: meaning,
    },
  };
  if (isFullyInt8(src)) imported.keptQuantization = (o) => int8Model(imported, src, o);
  return imported;
}

/** Imports a TensorFlow Lite flatbuffer into the IR with float parameters. */
export async function importTflite(file: string, opts: ImportOptions = {}): Promise<ImportedModel> {
  const m = readModel(readBytes(file), file);
  const fused = fuseDilations(m, ({ op, why }) =>
    unsupportedNode(
      file,
      { what: 'operator', name: m.tensors[op.outputs[0]]?.name ?? '', index: op.index, type: op.opName },
      why,
      supportedOperators(),
    ),
  );
  return convertModel(file, fused, opts);
}
