// What an operator module's mapping reads of one node (OnnxContext): its constants, and its runtime
// inputs as the IR tensors its operator reads, in the form it needs (channels first as [S..., C], a
// feature vector, as it is). A Reshape or Flatten layer is added when the IR tensor has the right
// element order but another shape; a wrong element order is a LayoutMismatch (the data would have
// to move, which the IR cannot do: the importer may try the other reading of the graph input).
import type { IrInput, OnnxConstant, OnnxContext } from '../../ops/onnxTypes.js';
import type { Fail, IrBuilder } from './irBuilder.js';
import { channelsFirstOrder, channelsLastShape, LayoutMismatch, sameOrder, type Value } from './layout.js';
import type { RawNode } from './proto.js';

/** The converter's state a node context reads. */
export interface GraphState {
  opset: number;
  ir: IrBuilder;
  /** The IR tensor and element order of every runtime ONNX tensor. */
  values: Map<string, Value>;
  constants: Map<string, OnnxConstant>;
  /** The converted nodes reading each tensor. */
  readers: Map<string, RawNode[]>;
  graphOutputs: Set<string>;
  unsupported(node: RawNode, why: string): never;
}

/** Runtime input i of a node (computed from the graph input, not a constant). */
export function runtimeInput(s: GraphState, node: RawNode, i: number): Value {
  const name = node.inputs[i];
  const v = name ? s.values.get(name) : undefined;
  if (v) return v;
  return s.unsupported(
    node,
    name
      ? `input ${i} '${name}' being a constant (it must be computed from the graph input)`
      : `input ${i} missing`,
  );
}

const shown = (dims: readonly number[]) => `[N, ${dims.join(', ')}]`;

class NodeInputs {
  readonly fail: Fail;

  constructor(
    private readonly s: GraphState,
    private readonly node: RawNode,
  ) {
    this.fail = (why) => s.unsupported(node, why);
  }

  runtime(i: number): Value {
    return runtimeInput(this.s, this.node, i);
  }

  irInput(tensor: string): IrInput {
    return { tensor, shape: [...this.s.ir.info(tensor).shape] };
  }

  spatial(i: number) {
    const v = this.runtime(i);
    if (v.dims.length < 2 || v.dims.length > 3)
      this.fail(`input ${i} of shape ${shown(v.dims)} (only [N, C, L] or [N, C, H, W] here)`);
    if (!sameOrder(v.order, channelsFirstOrder(v.dims)))
      throw new LayoutMismatch(
        this.node,
        `input ${i} ${shown(v.dims)} read channels first after a Transpose or Reshape that moved its data`,
      );
    const tensor = this.s.ir.shaped(v.tensor, channelsLastShape(v.dims), this.fail);
    return { ...this.irInput(tensor), channels: v.dims[0], spatial: v.dims.slice(1) };
  }

  features(i: number) {
    const v = this.runtime(i);
    if (v.dims.length !== 1) this.fail(`input ${i} of shape ${shown(v.dims)} (a feature vector [N, F] here)`);
    // A Dense reads [1, F] as it is; anything else is flattened (the element order stays).
    const shape = this.s.ir.info(v.tensor).shape;
    const vector = shape.length === 2 && shape[0] === 1;
    const tensor = vector ? v.tensor : this.s.ir.flattened(v.tensor, this.fail);
    return { ...this.irInput(tensor), order: v.order };
  }

  channels(i: number) {
    if (this.runtime(i).dims.length >= 2) return { ...this.spatial(i), order: undefined };
    const f = this.features(i);
    return { ...f, channels: f.shape[1] };
  }

  like(i: number, ref: number): IrInput {
    const v = this.runtime(i);
    const r = this.runtime(ref);
    if (v.dims.join() !== r.dims.join()) this.fail(`inputs of shapes ${shown(r.dims)} and ${shown(v.dims)}`);
    if (!sameOrder(v.order, r.order))
      throw new LayoutMismatch(this.node, `inputs ${ref} and ${i} laid out differently (one channels first)`);
    const target = this.s.ir.info(r.tensor);
    const tensor = target.flat
      ? this.s.ir.flattened(v.tensor, this.fail)
      : this.s.ir.shaped(v.tensor, target.shape, this.fail);
    return this.irInput(tensor);
  }

  soleConsumer(): RawNode | undefined {
    const out = this.node.outputs[0];
    const readers = this.s.readers.get(out) ?? [];
    return readers.length === 1 && !this.s.graphOutputs.has(out) ? readers[0] : undefined;
  }
}

/** The context an operator module's mapping converts `node` in. */
export function nodeContext(s: GraphState, node: RawNode): OnnxContext {
  const n = new NodeInputs(s, node);
  const constant = (name: string | undefined) => (name ? s.constants.get(name) : undefined);
  const value = (i: number) => (node.inputs[i] ? s.values.get(node.inputs[i]) : undefined);
  return {
    opset: s.opset,
    dims: (i) => value(i)?.dims.slice(),
    constant: (i) => constant(node.inputs[i]),
    nonNegative: (i) => value(i)?.nonNegative ?? false,
    spatial: (i) => n.spatial(i),
    features: (i) => n.features(i),
    channels: (i) => n.channels(i),
    any: (i) => n.irInput(n.runtime(i).tensor),
    like: (i, ref) => n.like(i, ref),
    soleConsumer: () => n.soleConsumer(),
    constantOf: (other, i) => constant(other.inputs[i]),
    name: (suffix) => s.ir.uniqueName(suffix ? `${node.name}_${suffix}` : node.name),
    unsupported: n.fail,
  };
}
