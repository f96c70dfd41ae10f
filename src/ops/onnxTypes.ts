// How an operator module imports ONNX nodes (src/import/onnx reads the protobuf and calls these).
// Owned by the ONNX importer.
//
// The importer tracks, for every ONNX tensor, the IR tensor that holds it and how its elements are
// laid out there: ONNX graphs are channels first ([N, C, L], [N, C, H, W]), the IR channels last.
// A mapping never sees that bookkeeping: it asks the context for an input in the form its operator
// reads (channels first as [S..., C], a feature vector, as is) and says which form its output has.
import type { Layer, LayerParams, Shape } from '../graph/types.js';

/** The attributes of a node, read with defaults (a missing attribute without default is an error). */
export interface OnnxAttributes {
  has(name: string): boolean;
  int(name: string, dflt?: number): number;
  ints(name: string, dflt?: readonly number[]): number[];
  float(name: string, dflt?: number): number;
  string(name: string, dflt?: string): string;
}

/** One node of the graph, as the file has it. */
export interface OnnxNode {
  opType: string;
  /** The node's name, or `<opType>_<index>` when the file gives none. */
  name: string;
  /** Position in the graph's node list (0-based). */
  index: number;
  /** Tensor names; '' for an optional input left out. */
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: OnnxAttributes;
}

/** A constant tensor (an initializer or a Constant node); integers are exact up to 2^53. */
export interface OnnxConstant {
  dims: number[];
  values: Float64Array;
}

/** An IR tensor an operator reads: its name (a layer's, or the graph input) and its shape. */
export interface IrInput {
  tensor: string;
  shape: Shape;
}

/**
 * A channel order: element f of the ONNX axis is IR element order[f] (a feature vector flattened
 * from a channels-first tensor); absent when the orders agree.
 */
export type ChannelOrder = Int32Array | undefined;

/** What the importer lends a mapping while it converts one node. */
export interface OnnxContext {
  /** The opset version of the default ONNX domain the file imports. */
  opset: number;
  /** ONNX shape of runtime input i without the batch; undefined when it is absent or a constant. */
  dims(i: number): number[] | undefined;
  /** Input i when it is a constant (an initializer or a Constant node's output). */
  constant(i: number): OnnxConstant | undefined;
  /** Input i is known to hold no negative value (it comes from a ReLU or a Clip at 0). */
  nonNegative(i: number): boolean;
  /** Runtime input i [C, S...] (channels first) as the IR tensor [S..., C] (1 or 2 spatial axes). */
  spatial(i: number): IrInput & { channels: number; spatial: number[] };
  /** Runtime input i of ONNX shape [F] as an IR feature vector [1, F], with its feature order. */
  features(i: number): IrInput & { order: ChannelOrder };
  /** Runtime input i along its channel axis (ONNX axis 1): spatial (channels first) or features. */
  channels(i: number): IrInput & { channels: number; order: ChannelOrder };
  /** Runtime input i as it is (elementwise operators). */
  any(i: number): IrInput;
  /** Runtime input i laid out as input `ref` is (same ONNX shape; merges). */
  like(i: number, ref: number): IrInput;
  /** The node reading this node's output when it is the only reader (and not a graph output). */
  soleConsumer(): OnnxNode | undefined;
  /** A constant input of another node (the one soleConsumer gives). */
  constantOf(node: OnnxNode, i: number): OnnxConstant | undefined;
  /** A unique IR layer name made from the node's name (and a suffix for a second layer). */
  name(suffix?: string): string;
  /** Stops the import: this node, in this form, is not supported (`why` says what is not). */
  unsupported(why: string): never;
}

/** An IR layer a node becomes, with its float parameters in the operator's tfjs layout. */
export interface OnnxLayer {
  /** The first layer names its inputs (the IR tensors the context gave); later ones may not. */
  layer: Layer;
  params?: LayerParams;
}

/** How the node's ONNX output lies in the IR tensor of its last layer. */
export type OnnxOut =
  /** [C, S...] in ONNX, [S..., C] in the IR (convolutions, pooling, padding). */
  | { layout: 'channels-first' }
  /** The ONNX shape and layout of input `input` (elementwise operators keep them). */
  | { layout: 'like'; input: number }
  /** The given ONNX shape (no batch), in the IR tensor's order unless `order` says otherwise. */
  | { layout: 'explicit'; dims: number[]; order?: ChannelOrder }
  /** No layer: input `input`'s IR tensor under another ONNX shape (Reshape, Flatten, Squeeze). */
  | { layout: 'view'; input: number; dims: number[] };

export interface OnnxResult {
  layers: OnnxLayer[];
  out: OnnxOut;
  /** The output holds no negative value (ReLU, Clip at 0, or a max of such values). */
  nonNegative?: boolean;
  /** The node soleConsumer gave, whose work this node's layers did too (MatMul's bias Add). */
  absorbs?: OnnxNode;
}

/** An operator module's ONNX mapping. */
export interface OnnxMapping {
  /** ONNX op types this module may map ('Conv'). */
  opTypes: readonly string[];
  /**
   * The layers of a node, or undefined when the node is another operator's case of the same op
   * type (a Conv with two spatial axes is not Conv1D's): the next module with the op type is asked.
   */
  fromOnnx(node: OnnxNode, ctx: OnnxContext): OnnxResult | undefined;
}
