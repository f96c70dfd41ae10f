// One ONNX graph as IR layers, node by node in the file's (topological) order, for one reading of
// the graph input: channels first (the IR input is its channels-last transpose) or as it is.
// Each node goes to the operator module that maps its op type (OpModule.onnx), which reads its
// inputs through a node context (nodeContext.ts); this file keeps which IR tensor holds each ONNX
// tensor and in what element order (layout.ts), the graph's input and output, and the nodes the
// importer handles itself (Constant, Shape, Transpose, nodes on constants only). The IR layers are
// built by irBuilder.ts.
import { adaptInput, unsupportedModel, unsupportedNode, type InputMeaning } from '../common.js';
import type { ImportOptions } from '../common.js';
import {
  GRAPH_INPUT,
  channelsOf,
  sizeOf,
  spatialOf,
  type LayerParams,
  type ModelGraph,
} from '../../graph/types.js';
import { inferShapes } from '../../graph/ir.js';
import { registeredOps } from '../../ops/registry.js';
import type { OnnxConstant, OnnxResult } from '../../ops/onnxTypes.js';
import { TinyforgeError } from '../../util/errors.js';
import { foldConstant } from './constants.js';
import { IrBuilder, type Fail } from './irBuilder.js';
import {
  channelsFirstOrder,
  channelsLastShape,
  LayoutMismatch,
  sameOrder,
  transposed,
  type Value,
} from './layout.js';
import { nodeContext, runtimeInput, type GraphState } from './nodeContext.js';
import type { OnnxGraph, RawNode } from './proto.js';
import { refusal, supportedOpTypes } from './support.js';

export type InputLayout = 'channels-first' | 'channels-last';

export interface Conversion {
  graph: ModelGraph;
  params: Record<string, LayerParams>;
  meaning: InputMeaning;
  /** The ONNX input shape without the batch. */
  inputDims: number[];
}

const show = (dims: readonly (number | undefined)[]): string => dims.map((d) => d ?? '?').join(', ');

/** The nodes the graph's outputs depend on (the rest is never converted). */
function neededNodes(g: OnnxGraph): Set<number> {
  const producer = new Map<string, RawNode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<number>();
  const todo = g.outputs.map((o) => o.name);
  while (todo.length) {
    const n = producer.get(todo.pop()!);
    if (!n || needed.has(n.index)) continue;
    needed.add(n.index);
    todo.push(...n.inputs.filter((i) => i));
  }
  return needed;
}

class Converter implements GraphState {
  readonly opset: number;
  readonly ir = new IrBuilder();
  readonly values = new Map<string, Value>();
  readonly constants: Map<string, OnnxConstant>;
  readonly readers = new Map<string, RawNode[]>();
  readonly graphOutputs: Set<string>;
  private readonly producer = new Map<string, RawNode>();
  private readonly needed: Set<number>;
  /** Nodes another node's layers did (MatMul's bias Add). */
  private readonly absorbed = new Set<number>();

  constructor(
    private readonly file: string,
    private readonly g: OnnxGraph,
    /** Class names for an output of K values. */
    private readonly classNames: (K: number) => string[],
  ) {
    this.opset = g.opset;
    this.constants = new Map(g.initializers);
    this.graphOutputs = new Set(g.outputs.map((o) => o.name));
    this.needed = neededNodes(g);
    for (const n of g.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      if (!this.needed.has(n.index)) continue;
      for (const i of n.inputs) if (i) this.readers.set(i, [...(this.readers.get(i) ?? []), n]);
    }
  }

  unsupported(node: RawNode, why: string): never {
    const where = { what: 'node' as const, name: node.name, index: node.index, type: node.opType };
    return unsupportedNode(this.file, where, why, supportedOpTypes());
  }

  /** A node whose attributes or weights do not fit its inputs: the file is not valid ONNX. */
  malformed(node: RawNode, why: string): never {
    throw new TinyforgeError(
      `${this.file}: node ${node.index} '${node.name}' (${node.opType}): ${why}`,
      'input',
      'the file is not a valid ONNX model',
    );
  }

  /** How the layers of `node` report a failure of shape inference. */
  private failFor(node: RawNode): Fail {
    return (why) => this.unsupported(node, why);
  }

  run(layout: InputLayout, opts: ImportOptions): Conversion {
    // What no attribute changes (recurrent layers, control flow, custom ops) is named first.
    for (const node of this.g.nodes) {
      const refused = this.needed.has(node.index) ? refusal(node) : undefined;
      if (refused) this.unsupported(node, refused);
    }
    const input = this.graphInput(layout, opts);
    for (const node of this.g.nodes)
      if (this.needed.has(node.index) && !this.absorbed.has(node.index)) this.convertNode(node);
    const K = this.finishOutput();
    const layers = this.ir.graphLayers();
    const graph: ModelGraph = { inputShape: input.inputShape, classNames: this.classNames(K), layers };
    inferShapes(graph);
    return { graph, params: this.ir.params, meaning: input.meaning, inputDims: input.dims };
  }

  // ---- the graph input and output ----

  private firstReader(name: string): RawNode | undefined {
    return this.readers.get(name)?.[0];
  }

  private graphInput(layout: InputLayout, opts: ImportOptions) {
    const [x, second] = this.g.inputs;
    if (!x) return unsupportedModel(this.file, 'the graph has no input');
    if (second) {
      const reader = this.firstReader(second.name);
      const why = `a second graph input '${second.name}' (one input only)`;
      if (reader) this.unsupported(reader, why);
      unsupportedModel(this.file, `${why} is not supported`);
    }
    const reader =
      this.firstReader(x.name) ?? unsupportedModel(this.file, `the graph input '${x.name}' is unused`);
    if (x.elemType !== 1)
      this.unsupported(reader, `input '${x.name}' of element type ${x.elemType} (only float32)`);
    if (!x.dims || x.dims.length < 2)
      this.unsupported(
        reader,
        `input '${x.name}' of shape [${show(x.dims ?? [])}] (a batch and at least one axis)`,
      );
    const dims = x.dims.slice(1);
    if (dims.some((d) => d === undefined))
      this.unsupported(
        reader,
        `input '${x.name}' of shape [N, ${show(dims)}] with a dynamic dimension other than the batch`,
      );
    const d = dims as number[];
    const first = layout === 'channels-first' && d.length >= 2;
    const adapted = adaptInput(this.file, first ? channelsLastShape(d) : d, opts.inputMeaning);
    this.ir.input({ shape: [...adapted.inputShape], flat: false });
    let tensor = GRAPH_INPUT;
    for (const l of adapted.prologue) {
      this.ir.reserve(l.name);
      this.ir.add({ ...l, inputs: [tensor] }, undefined, this.failFor(reader));
      tensor = l.name;
    }
    this.values.set(x.name, {
      tensor,
      dims: d,
      order: first ? channelsFirstOrder(d) : undefined,
      nonNegative: false,
    });
    return { inputShape: adapted.inputShape, meaning: adapted.meaning, dims: d };
  }

  /** Makes the graph output the last layer's, channels last; its size (the class count). */
  private finishOutput(): number {
    const [out, second] = this.g.outputs;
    if (second) {
      const p = this.producer.get(second.name);
      const why = `a second graph output '${second.name}' (one output only)`;
      if (p) this.unsupported(p, why);
      unsupportedModel(this.file, `${why} is not supported`);
    }
    const v = this.values.get(out.name);
    const node = this.producer.get(out.name);
    if (!v || !node || v.tensor !== this.ir.last())
      unsupportedModel(this.file, `the output '${out.name}' is not computed from the input by the last node`);
    let tensor = v.tensor;
    const fail = this.failFor(node);
    if (v.order === undefined) {
      if (v.dims.length === 1) tensor = this.ir.flattened(tensor, fail);
    } else if (sameOrder(v.order, channelsFirstOrder(v.dims))) {
      tensor = this.ir.shaped(tensor, channelsLastShape(v.dims), fail);
    } else
      throw new LayoutMismatch(
        node,
        `the output '${out.name}' [N, ${v.dims.join(', ')}] in the element order of a channels-first tensor (flattened)`,
      );
    return sizeOf(this.ir.info(tensor).shape);
  }

  // ---- nodes ----

  private convertNode(node: RawNode): void {
    node.outputs.forEach((o, k) => {
      if (k > 0 && o && (this.readers.has(o) || this.graphOutputs.has(o)))
        this.unsupported(node, `reading its output ${k} '${o}' (only the first output)`);
    });
    for (const name of node.inputs)
      if (name && !this.values.has(name) && !this.constants.has(name))
        throw new TinyforgeError(
          `${this.file}: node ${node.index} '${node.name}' (${node.opType}) reads '${name}', which no earlier node produces`,
          'input',
          'the file is not a valid ONNX model (nodes must be in topological order)',
        );
    if (node.opType === 'Constant') {
      const v = node.value() ?? this.unsupported(node, 'a Constant that is not a numeric tensor');
      this.constants.set(node.outputs[0], v);
      return;
    }
    if (node.opType === 'Shape') return this.shape(node);
    if (!node.inputs.some((n) => n && this.values.has(n))) {
      const v = foldConstant(
        node,
        node.inputs.map((n) => (n ? this.constants.get(n) : undefined)),
      );
      if (typeof v === 'string') this.unsupported(node, v);
      this.constants.set(node.outputs[0], v);
      return;
    }
    if (node.opType === 'Transpose') return this.transpose(node);
    this.map(node);
  }

  /** A Transpose moves no data: the same IR tensor in another element order. */
  private transpose(node: RawNode): void {
    const v = runtimeInput(this, node, 0);
    const rank = v.dims.length + 1;
    const perm = node.attrs.ints('perm', [...Array(rank).keys()].reverse());
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((a, i) => a !== i))
      this.unsupported(node, `perm [${perm.join(', ')}] for a rank-${rank} tensor`);
    if (perm[0] !== 0) this.unsupported(node, `perm [${perm.join(', ')}], which moves the batch`);
    this.values.set(
      node.outputs[0],
      transposed(
        v,
        perm.slice(1).map((a) => a - 1),
      ),
    );
  }

  /**
   * The shape of a runtime tensor is a constant: its dims, and 1 for the batch (the IR runs one
   * window; `x.view(x.size(0), -1)` then reshapes to [1, -1]).
   */
  private shape(node: RawNode): void {
    const full = [1, ...runtimeInput(this, node, 0).dims];
    const at = (v: number) => Math.min(Math.max(v < 0 ? v + full.length : v, 0), full.length);
    const values = full.slice(at(node.attrs.int('start', 0)), at(node.attrs.int('end', full.length)));
    this.constants.set(node.outputs[0], { dims: [values.length], values: Float64Array.from(values) });
  }

  /** The first operator module whose mapping takes the node. */
  private map(node: RawNode): void {
    const ops = registeredOps().filter((op) => op.onnx?.opTypes.includes(node.opType));
    if (ops.length === 0) this.unsupported(node, 'this op type');
    for (const op of ops) {
      const mark = this.ir.mark();
      const result = op.onnx!.fromOnnx(node, nodeContext(this, node));
      if (result) return this.apply(node, result);
      this.ir.rollback(mark);
    }
    const dims = this.values.get(node.inputs[0])?.dims ?? [];
    this.unsupported(node, `${node.opType} on a tensor [N, ${dims.join(', ')}]`);
  }

  private apply(node: RawNode, result: OnnxResult): void {
    let prev: string | undefined;
    for (const { layer, params } of result.layers) {
      const inputs = layer.inputs ?? (prev === undefined ? undefined : [prev]);
      if (!inputs) throw new Error(`the ${node.opType} mapping's first layer names no input`);
      this.ir.add({ ...layer, inputs }, params, this.failFor(node), (why) => this.malformed(node, why));
      prev = layer.name;
    }
    const out = this.outputValue(node, result, prev);
    this.values.set(node.outputs[0], out);
    if (result.absorbs) {
      this.values.set(result.absorbs.outputs[0], out);
      this.absorbed.add(result.absorbs.index);
    }
  }

  /** The node's output: the last layer's IR tensor, or (no layer) its input's, in the order the mapping gives. */
  private outputValue(node: RawNode, result: OnnxResult, last: string | undefined): Value {
    const o = result.out;
    if (last === undefined) {
      if (o.layout !== 'view' && o.layout !== 'like')
        throw new Error(`${node.opType}: no layer and no input to pass on`);
      const src = runtimeInput(this, node, o.input);
      const dims = o.layout === 'view' ? o.dims : src.dims;
      if (sizeOf(dims) !== sizeOf(src.dims)) throw new Error(`${node.opType}: a view of another size`);
      return { ...src, dims: [...dims], nonNegative: result.nonNegative ?? src.nonNegative };
    }
    const shape = this.ir.info(last).shape;
    const like = o.layout === 'like' ? runtimeInput(this, node, o.input) : undefined;
    const dims =
      o.layout === 'channels-first'
        ? [channelsOf(shape), ...spatialOf(shape)]
        : o.layout === 'explicit'
          ? o.dims
          : like!.dims;
    const order =
      o.layout === 'channels-first'
        ? channelsFirstOrder(dims)
        : o.layout === 'explicit'
          ? o.order
          : like!.order;
    if (o.layout === 'view' || sizeOf(dims) !== sizeOf(shape))
      throw new Error(`${node.opType}: output [${dims}] does not fit its IR tensor [${shape}]`);
    return { tensor: last, dims: [...dims], order, nonNegative: result.nonNegative ?? false };
  }
}

/** Converts the graph with the input read in `layout`; class names for the output's K values. */
export function convertGraph(
  file: string,
  g: OnnxGraph,
  layout: InputLayout,
  opts: ImportOptions,
  classNames: (K: number) => string[],
): Conversion {
  return new Converter(file, g, classNames).run(layout, opts);
}

/** The TinyforgeError of a layout mismatch no reading of the input avoids. */
export function layoutError(file: string, e: LayoutMismatch): never {
  return unsupportedNode(
    file,
    { what: 'node', name: e.node.name, index: e.node.index, type: e.node.opType },
    e.why,
    'Transposes and Reshapes that only change the layout (the channels-first ONNX tensor read channels last); tinyforge cannot move data between positions and channels',
  );
}
