// The model graph: a sequential 1D CNN, channels last, batch dimension left out.
// Every stage after training speaks this IR; tfjs is only one way to fill it.
import { TinyforgeError } from '../util/errors.js';

/** [time steps, channels] for sequence tensors, [features] as [1, F] after Flatten/GAP/Dense. */
export type Shape = [number, number];

export type Padding = 'same' | 'valid';
export type Activation = 'linear' | 'relu';

export interface Conv1DLayer {
  kind: 'conv1d';
  name: string;
  filters: number;
  kernelSize: number;
  stride: number;
  padding: Padding;
  activation: Activation;
  useBias: boolean;
}
export interface DenseLayer {
  kind: 'dense';
  name: string;
  units: number;
  activation: Activation;
  useBias: boolean;
}
export interface Pool1DLayer {
  kind: 'maxpool1d' | 'avgpool1d';
  name: string;
  poolSize: number;
  stride: number;
  padding: Padding;
}
export interface SimpleLayer {
  kind: 'gap1d' | 'flatten' | 'relu' | 'softmax';
  name: string;
}
export interface BatchNormLayer {
  kind: 'batchnorm';
  name: string;
  epsilon: number;
}
export interface DropoutLayer {
  kind: 'dropout';
  name: string;
  rate: number;
}

export type Layer = Conv1DLayer | DenseLayer | Pool1DLayer | SimpleLayer | BatchNormLayer | DropoutLayer;
export type LayerKind = Layer['kind'];

export const SUPPORTED_KINDS: readonly LayerKind[] = [
  'conv1d',
  'dense',
  'maxpool1d',
  'avgpool1d',
  'gap1d',
  'flatten',
  'relu',
  'softmax',
  'batchnorm',
  'dropout',
];

/** Float parameters of one layer. Layouts are tfjs/Keras layouts:
 * conv1d kernel [k, cIn, cOut]; dense kernel [in, out]; batchnorm gamma/beta/mean/variance [C]. */
export interface LayerParams {
  kernel?: Float32Array;
  bias?: Float32Array;
  gamma?: Float32Array;
  beta?: Float32Array;
  movingMean?: Float32Array;
  movingVariance?: Float32Array;
}

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

export interface NodeInfo {
  layer: Layer;
  inShape: Shape;
  outShape: Shape;
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

/** Infers and checks shapes; throws naming the layer on a mismatch. */
export function inferShapes(graph: ModelGraph): NodeInfo[] {
  let shape: Shape = [...graph.inputShape];
  let flat = false; // after Flatten/GAP/Dense the tensor is a feature vector [1, F]
  const infos: NodeInfo[] = [];
  const names = new Set<string>();
  for (const layer of graph.layers) {
    if (names.has(layer.name)) throw new TinyforgeError(`duplicate layer name '${layer.name}'`, 'model');
    names.add(layer.name);
    const inShape: Shape = [...shape];
    const [T, C] = shape;
    let params = 0;
    let macs = 0;
    const fail = (why: string): never => {
      throw new TinyforgeError(
        `layer '${layer.name}' (${layer.kind}) cannot take input shape [${T}, ${C}]: ${why}`,
        'model',
      );
    };
    switch (layer.kind) {
      case 'conv1d': {
        if (flat) fail('a Conv1D needs a sequence, not a flattened vector');
        if (layer.kernelSize < 1 || layer.stride < 1 || layer.filters < 1) fail('sizes must be >= 1');
        const L = outLength(T, layer.kernelSize, layer.stride, layer.padding);
        if (L < 1) fail(`kernel ${layer.kernelSize} is longer than the sequence`);
        shape = [L, layer.filters];
        params = layer.kernelSize * C * layer.filters + (layer.useBias ? layer.filters : 0);
        macs = L * layer.filters * layer.kernelSize * C;
        break;
      }
      case 'maxpool1d':
      case 'avgpool1d': {
        if (flat) fail('pooling needs a sequence');
        const L = outLength(T, layer.poolSize, layer.stride, layer.padding);
        if (L < 1) fail(`pool ${layer.poolSize} is longer than the sequence`);
        shape = [L, C];
        break;
      }
      case 'gap1d':
        if (flat) fail('global pooling needs a sequence');
        shape = [1, C];
        flat = true;
        break;
      case 'flatten':
        shape = [1, T * C];
        flat = true;
        break;
      case 'dense': {
        if (!flat && T !== 1)
          fail('Dense on a sequence is not supported: add Flatten or GlobalAveragePooling1D');
        const F = T * C;
        shape = [1, layer.units];
        flat = true;
        params = F * layer.units + (layer.useBias ? layer.units : 0);
        macs = F * layer.units;
        break;
      }
      case 'batchnorm':
        params = 4 * C;
        break;
      case 'relu':
      case 'softmax':
      case 'dropout':
        break;
    }
    infos.push({ layer, inShape, outShape: [...shape], params, macs });
  }
  return infos;
}

export function totalParams(graph: ModelGraph): number {
  return inferShapes(graph).reduce((s, n) => s + n.params, 0);
}

export function totalMacs(graph: ModelGraph): number {
  return inferShapes(graph).reduce((s, n) => s + n.macs, 0);
}
