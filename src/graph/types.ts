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

/**
 * A tensor's shape, channels last: [time steps, channels] for sequences (rank 2), [height, width,
 * channels] for images and spectrograms (rank 3), and a feature vector as [1, F] (flat). Helpers
 * below read it without caring about the rank.
 */
export type Shape = number[];

/** A model's input window: [time steps, channels], the shape of the user's data. */
export type InputShape = [number, number];

export type Padding = 'same' | 'valid';
/** Paddings of 1D convolutions: 'causal' pads only before the first step. */
export type ConvPadding = Padding | 'causal';

/** Channels: the last dimension. */
export function channelsOf(shape: readonly number[]): number {
  return shape[shape.length - 1];
}

/** Number of elements. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Positions: every dimension but the channels ([T] or [H, W]). */
export function spatialOf(shape: readonly number[]): number[] {
  return shape.slice(0, -1);
}

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
  /** A separable conv's two kernels (Keras depthwise_kernel, pointwise_kernel). */
  depthwiseKernel?: Float32Array;
  pointwiseKernel?: Float32Array;
}
export type ParamKey = keyof LayerParams;

export interface ModelGraph {
  /** [T, C] of one input window (a rank-3 model starts with a Reshape). */
  inputShape: InputShape;
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

/** Span of a dilated window: (k - 1) * dilation + 1 input steps. */
export function windowSpan(k: number, dilation = 1): number {
  return (k - 1) * dilation + 1;
}

/**
 * Output length of a window op along one axis, Keras semantics: 'same' and 'causal' give
 * ceil(inLen / stride), 'valid' only the windows inside the input.
 */
export function outLength(
  inLen: number,
  k: number,
  stride: number,
  padding: ConvPadding,
  dilation = 1,
): number {
  const span = windowSpan(k, dilation);
  return padding === 'valid' ? Math.floor((inLen - span) / stride) + 1 : Math.ceil(inLen / stride);
}

/**
 * Zero padding before the first step, Keras/TF semantics: 'same' pads floor(total / 2) (the extra
 * pad goes after), 'causal' pads span - 1 (every output sees only the present and the past).
 */
export function padLeft(
  inLen: number,
  k: number,
  stride: number,
  padding: ConvPadding,
  dilation = 1,
): number {
  const span = windowSpan(k, dilation);
  if (padding === 'valid') return 0;
  if (padding === 'causal') return span - 1;
  const out = outLength(inLen, k, stride, padding, dilation);
  const total = Math.max((out - 1) * stride + span - inLen, 0);
  return Math.floor(total / 2);
}
