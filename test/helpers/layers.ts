// Layer types for tests. src/ops declares each kind's fields on generic bases (Layer, QLayer);
// tests that build layers by hand use the unions below, discriminated by `kind`, so that every
// object literal is checked field by field, and the guards to look into a model's layers.
import type { Layer } from '../../src/graph/types.js';
import type { QLayer } from '../../src/qmodel/model.js';
import type { Conv1DLayer, QConv1D } from '../../src/ops/conv1d.js';
import type { DenseLayer, QDense } from '../../src/ops/dense.js';
import type { MaxPool1DLayer, QMaxPool1D } from '../../src/ops/maxpool1d.js';
import type { AvgPool1DLayer, QAvgPool1D } from '../../src/ops/avgpool1d.js';
import type { BatchNormLayer } from '../../src/ops/batchnorm.js';
import type { DropoutLayer } from '../../src/ops/dropout.js';
import type { QFormatKeeping } from '../../src/ops/formatKeeping.js';
import type { QMerge } from '../../src/ops/merge.js';
import type { QConcat } from '../../src/ops/concat.js';
import type { QLut } from '../../src/ops/lut.js';
import type { LeakyReLULayer, QLeakyReLU } from '../../src/ops/leakyrelu.js';
import type { ClippedReLULayer, QClippedReLU } from '../../src/ops/clippedrelu.js';
import type { MaxPool2DLayer, QMaxPool2D } from '../../src/ops/maxpool2d.js';
import type { AvgPool2DLayer, QAvgPool2D } from '../../src/ops/avgpool2d.js';
import type { ReshapeLayer } from '../../src/ops/reshape.js';
import type { Conv2DLayer } from '../../src/ops/conv2d.js';
import type { QZeroPad, ZeroPadLayer } from '../../src/ops/zeropad.js';
import type { LayerView, LayerViewBase, RequantView, WeightsView } from '../../src/codegen/viewTypes.js';
import type { DecodeView, MacView, SparseView } from '../../src/codegen/weightedKernel.js';

/** Float layers without attributes of their own. */
export interface PlainLayer extends Layer {
  kind:
    | 'gap1d'
    | 'gmp1d'
    | 'gap2d'
    | 'gmp2d'
    | 'flatten'
    | 'relu'
    | 'softmax'
    | 'sigmoid'
    | 'tanh'
    | 'hardswish'
    | 'add'
    | 'concat';
}

/** A float IR layer of a known kind. */
export type AnyLayer =
  | Conv1DLayer
  | Conv2DLayer
  | DenseLayer
  | MaxPool1DLayer
  | AvgPool1DLayer
  | BatchNormLayer
  | DropoutLayer
  | ClippedReLULayer
  | LeakyReLULayer
  | MaxPool2DLayer
  | AvgPool2DLayer
  | ReshapeLayer
  | ZeroPad1DLayer
  | ZeroPad2DLayer
  | PlainLayer;

/** Zero padding: [left, right] in 1D, [[top, bottom], [left, right]] in 2D. */
export interface ZeroPad1DLayer extends ZeroPadLayer<[number, number]> {
  kind: 'zeropad1d';
}
export interface ZeroPad2DLayer extends ZeroPadLayer<[[number, number], [number, number]]> {
  kind: 'zeropad2d';
}
export interface QZeroPad1D extends QZeroPad<[number, number]> {
  kind: 'zeropad1d';
}
export interface QZeroPad2D extends QZeroPad<[[number, number], [number, number]]> {
  kind: 'zeropad2d';
}
/** 2D global pooling and Reshape keep their input's format as `frac`. */
export interface QKeeping2D extends QFormatKeeping {
  kind: 'gap2d' | 'gmp2d' | 'reshape';
}

/** The window and shape layers of rank 3 (not in AnyQLayer: tests that switch over it predate them). */
export type WindowShapeQLayer = QMaxPool2D | QAvgPool2D | QKeeping2D | QZeroPad1D | QZeroPad2D;

/** A quantized layer that keeps its input's format (global pooling, Flatten, ReLU). */
export interface QKeeping extends QFormatKeeping {
  kind: 'gap1d' | 'gmp1d' | 'flatten' | 'relu';
}

/** Merges (src/ops/merge.ts): each input's format and the output's. */
export interface QAdd extends QMerge {
  kind: 'add';
}
export interface QConcatenate extends QConcat {
  kind: 'concat';
}
/** Table activations (src/ops/lut.ts); LeakyReLU is one too, with its alpha. */
export interface QTable extends QLut {
  kind: 'sigmoid' | 'tanh' | 'hardswish';
}
export interface QLeaky extends QLeakyReLU {
  kind: 'leakyrelu';
}
export interface QClipped extends QClippedReLU {
  kind: 'clippedrelu';
}

/** A quantized layer of a known kind. */
export type AnyQLayer = QConv1D | QDense | QMaxPool1D | QAvgPool1D | QKeeping;

/** The merge and activation layers (not in AnyQLayer: tests that switch over it predate them). */
export type MergeOrActivationQLayer = QAdd | QConcatenate | QTable | QLeaky | QClipped;

export const isConv = (l: QLayer): l is QConv1D => l.kind === 'conv1d';
export const isDense = (l: QLayer): l is QDense => l.kind === 'dense';
/** A layer with coded weights (Conv1D or Dense). */
export const isWeighted = (l: QLayer): l is QConv1D | QDense => isConv(l) || isDense(l);
export const isPool = (l: QLayer): l is QMaxPool1D | QAvgPool1D =>
  l.kind === 'maxpool1d' || l.kind === 'avgpool1d';
/** Global pooling, Flatten, ReLU: layers that keep their input's format as `frac`. */
export const isKeeping = (l: QLayer): l is QKeeping =>
  l.kind === 'gap1d' || l.kind === 'gmp1d' || l.kind === 'flatten' || l.kind === 'relu';

/** The quantized kinds tests know, in registry order. */
export const KNOWN_Q_KINDS: readonly string[] = [
  'conv1d',
  'dense',
  'maxpool1d',
  'avgpool1d',
  'gap1d',
  'gmp1d',
  'flatten',
  'relu',
];

/** The layer as one of the kinds tests know, for a `switch` on its kind; throws on another kind. */
export function known(l: QLayer): AnyQLayer {
  if (!KNOWN_Q_KINDS.includes(l.kind))
    throw new Error(`layer '${l.name}' has a kind tests do not know: '${l.kind}'`);
  return l as AnyQLayer;
}

// ---------------------------------------------------------------------------------------------
// Codegen views (src/codegen/viewTypes.ts): an operator adds its own fields to the base view.

/** The view of a weighted layer (src/ops/weighted.ts weightedView). */
export interface WeightedLayerView extends LayerViewBase {
  weights: WeightsView;
  requant: RequantView;
  mac: MacView;
  sparse: SparseView | null;
  decode: DecodeView;
}

/** The view of a Conv1D (src/ops/conv1d.ts): the weighted view and its window geometry. */
export interface Conv1DLayerView extends WeightedLayerView {
  kernelSize: number;
  stride: number;
  padLeft: number;
}

export const isWeightedView = (l: LayerView): l is LayerView & WeightedLayerView =>
  l.kind === 'conv1d' || l.kind === 'dense';
export const isConvView = (l: LayerView): l is LayerView & Conv1DLayerView => l.kind === 'conv1d';
