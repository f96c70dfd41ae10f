// The model graph's types: a DAG of named tensors, channels last, batch dimension left out.
// Every stage after training speaks this IR; tfjs is only one way to fill it.
//
// A node (a Layer) reads the tensors named in `inputs` and writes one tensor with its own name.
// Without `inputs` a node reads the previous node's output (the graph input for the first node),
// so a sequential model is just its list of layers. Nodes are stored in execution order: a node
// may only read the graph input or an earlier node. The last node's output is the model's output.
//
// What a layer kind means (attributes, shapes, parameters, every stage's behaviour) lives in its
// operator module under src/ops; the graph package knows no kind by name. Shape inference is ir.ts.

/** [time steps, channels] for sequence tensors, [features] as [1, F] after Flatten/GAP/Dense. */
export type Shape = [number, number];

export type Padding = 'same' | 'valid';

/** The tensor name of the graph input, as a node's `inputs` entry. */
export const GRAPH_INPUT = '<input>';

/** One node. Its operator module (src/ops/<kind>.ts) declares the attributes beyond these. */
export interface Layer {
  readonly kind: string;
  readonly name: string;
  /** Tensor names read (node names or GRAPH_INPUT); absent = the previous node's output. */
  readonly inputs?: readonly string[];
}

/** Float parameters of one layer. Layouts are tfjs/Keras layouts (see each operator module). */
export interface LayerParams {
  kernel?: Float32Array;
  bias?: Float32Array;
  gamma?: Float32Array;
  beta?: Float32Array;
  movingMean?: Float32Array;
  movingVariance?: Float32Array;
}
export type ParamKey = keyof LayerParams;

export interface ModelGraph {
  /** [T, C] of one input window. */
  inputShape: Shape;
  classNames: string[];
  layers: Layer[];
}

/** Graph plus float weights keyed by layer name. */
export interface FloatModel {
  graph: ModelGraph;
  params: Record<string, LayerParams>;
}

/** A tensor as shape inference sees it: its shape, and whether it is a flat feature vector. */
export interface TensorInfo {
  shape: Shape;
  /** After Flatten/GAP/Dense the tensor is a feature vector [1, F], not a sequence. */
  flat: boolean;
}

export interface NodeInfo {
  layer: Layer;
  /** Producer of each input: a node index, or -1 for the graph input. */
  inputs: number[];
  inShapes: Shape[];
  /** The first input's shape (every operator of a sequential model has one input). */
  inShape: Shape;
  outShape: Shape;
  flat: boolean;
  params: number;
  macs: number;
}

/** Output length of a 1D window op, Keras semantics. */
export function outLength(inLen: number, k: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(inLen / stride) : Math.floor((inLen - k) / stride) + 1;
}

/** Left padding of a 'same' window op, Keras/TF semantics (extra pad goes right). */
export function padLeft(inLen: number, k: number, stride: number, padding: Padding): number {
  if (padding === 'valid') return 0;
  const out = outLength(inLen, k, stride, padding);
  const total = Math.max((out - 1) * stride + k - inLen, 0);
  return Math.floor(total / 2);
}
