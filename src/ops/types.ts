// What an operator module provides: everything one layer kind means to every stage, from the
// architecture file to the C template. Stages call these through the registry (registry.ts) and
// never test a kind themselves. docs/architecture.md lists the files an operator touches.
import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Rng } from '../data/prng.js';
import type { Layer, LayerParams, NodeInfo, ParamKey, Shape, TensorInfo } from '../graph/types.js';
import type { AffineQuant, CodedWeights, QLayer } from '../qmodel/model.js';
import type { FusedActivation } from '../fixedpoint/tflite.js';
import type { AliasKind } from '../codegen/planner.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';
import type { LayerViewBase, LayerView, ViewContext } from '../codegen/viewTypes.js';

/** Output of shape inference for one node. */
export interface Inferred {
  shape: Shape;
  flat: boolean;
  params?: number;
  macs?: number;
}

/** One float parameter of a layer, in its tfjs/Keras layout. */
export interface ParamSpec {
  key: ParamKey;
  shape: number[];
  /** Initial value: Glorot uniform (fan in/out given), zeros or ones. */
  init: { glorot: [number, number] } | 'zeros' | 'ones';
  trainable: boolean;
  /** Name of the weight in a Keras/tfjs file ('kernel', 'moving_mean'). */
  kerasName: string;
}

/** A Keras layer as the tfjs/Keras importers read it. */
export interface KerasLayer {
  className: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature.
  config: any;
  inbound: string[];
}

/** Helpers the importer lends to every operator's Keras mapping. */
export interface KerasContext {
  unsupported(l: KerasLayer, what: string): never;
  /** A scalar from an int or a one-element list (Keras 1D sizes). */
  one(v: unknown): number;
  padding(l: KerasLayer): 'same' | 'valid';
  checkChannelsLast(l: KerasLayer): void;
  /** The fused activation of a layer; a fused softmax comes back as a following layer. */
  activation(l: KerasLayer, allowed: readonly string[]): { activation: string; after: Layer[] };
  /** The Keras rank (batch included) of the layer's first input, when the importer knows it. */
  inputRank?(l: KerasLayer): number | undefined;
}

/** What a Keras layer becomes: IR layers, and the file's weight names per parameter. */
export interface KerasMapping {
  layers: Layer[];
  /** Parameters missing from the file get these values (e.g. BatchNorm without scale). */
  defaults?: Partial<Record<ParamKey, 'zeros' | 'ones'>>;
}

/** Forward pass context for tfjs training and fine-tuning (src/train/forward.ts). */
export interface TfContext {
  training: boolean;
  /** The backend lacks conv backward kernels (wasm): use hand-written gradients. */
  customGrad: boolean;
  /** This is the last layer and the caller wants logits (Softmax passes through). */
  logitsOut: boolean;
  rng?: Rng;
  bnMomentum: number;
  /** A parameter's variable after the weight hooks (pruning masks, fake quantization). */
  param(key: ParamKey): tf.Tensor | undefined;
  /** The raw variable (state such as BatchNorm statistics). */
  variable(key: ParamKey): tf.Variable | undefined;
}

/** Float ops a producer offers to layers that fold into it (BatchNorm, ReLU). */
export interface Foldable<L extends Layer> {
  /** Output channels (the last kernel axis). */
  outChannels(layer: L): number;
  /** The layer's fused activation. */
  activation(layer: L): string;
  /** The same layer with another fused activation. */
  withActivation(layer: L, activation: 'relu'): L;
  /** The same layer with a bias (BatchNorm folding gives it one). */
  withBias(layer: L): L;
}

/** What a layer does when the deployable graph is made (src/graph/fold.ts). */
export type DeployRule =
  /** Removed: the identity at inference (Dropout). */
  | { rule: 'identity' }
  /** Folded into the producer: per-channel y = (x - mean) * scale + beta (BatchNorm). */
  | {
      rule: 'affine';
      affine(layer: Layer, p: LayerParams): { mean: Float32Array; scale: Float64Array; beta: Float32Array };
    }
  /** Fused as the producer's activation (ReLU). */
  | { rule: 'activation'; activation: 'relu' }
  /**
   * Replaced by several layers before anything folds (a separable conv: depthwise, then pointwise).
   * The last layer keeps the layer's name (its readers read it), the first reads the layer's inputs.
   */
  | {
      rule: 'expand';
      expand(
        layer: Layer,
        p: LayerParams,
        info: NodeInfo,
      ): { layers: Layer[]; params: Record<string, LayerParams> };
    };

/** A layer with a weight matrix: rows per output channel (src/qmodel/model.ts layout). */
export interface WeightLayout<L extends Layer> {
  /** Float kernel (tfjs layout) to rows: one row per output channel. */
  rows(
    layer: L,
    info: NodeInfo,
    kernel: Float32Array,
  ): { rows: number; rowLength: number; data: Float32Array };
}

/** Structured pruning: what removing channels means for a producer and its consumers. */
export interface ChannelPruning<L extends Layer> {
  /** Producer: keeps the listed output channels (whole filters). */
  keepOutputs?(layer: L, p: LayerParams, keep: number[]): { layer: L; params: LayerParams };
  /** Consumer: keeps the listed input channels; `stop` ends the walk (the channels are consumed). */
  keepInputs(
    layer: L,
    p: LayerParams,
    keep: number[],
    oldChannels: number,
    info: NodeInfo,
  ): {
    params: LayerParams;
    stop: boolean;
    /** The channels it passes on when they differ from its input's (a depth multiplier > 1). */
    passOn?: { keep: number[]; channels: number };
  };
}

/** What quantizeModel gives an operator (src/compress/quantize.ts). */
export interface QuantizeContext {
  info: NodeInfo;
  params: LayerParams | undefined;
  /** Fractional bits of each input tensor. */
  inFracs: number[];
  /** Largest |value| of this layer's float output over the calibration windows. */
  outRange: number;
  bits: number;
  perChannel: boolean;
  /** Base fields every quantized layer carries. */
  base: { name: string; inShape: Shape; outShape: Shape; inputs?: readonly string[] };
  encode(values: Int8Array, rows: number, rowLength: number, bits: number): CodedWeights;
}

/** Result of quantizing a layer: a quantized layer, or nothing (its output is its input). */
export type Quantized = { layer: QLayer; outFrac: number } | { skip: true };

/** A quantized layer's coded weights and biases, for the .tfm payload, reports and the reference. */
export interface Coded {
  weights: CodedWeights;
  bias: Int32Array;
}

/** Supplies weight rows in order o = 0, 1, ... (a streaming decoder or pre-decoded rows). */
export type RowSource = (o: number) => Int8Array;

/** What the validator gives an operator's check: the layer's inferred node, its inputs' formats. */
export interface CheckContext {
  info: NodeInfo;
  /** pow2: the inputs' fractional bits. */
  inFracs: number[];
  /** tflite-int8: the inputs' scales and zero points. */
  inQuants: AffineQuant[];
  fail: (why: string) => never;
}

export interface QuantizedOps<Q extends QLayer> {
  /** Header fields of the .tfm layer (src/qmodel/schema.ts); payload parts go through `coded`. */
  schema: z.ZodType;
  /** The IR layer a quantized layer stands for: shapes follow the one inference. */
  toIr(q: Q): Layer;
  /** pow2: fractional bits of the output (inputs' formats are checked by `check`). */
  outFrac(q: Q): number;
  /** tflite-int8: the output's scale and zero point. */
  outQuant?(q: Q): AffineQuant;
  /** Validity beyond shapes: formats, shifts, accumulator bound, weights. */
  check(q: Q, ctx: CheckContext): void;
  coded?(q: Q): Coded;
  /** The integer reference kernel: what the chip computes. */
  reference(q: Q, x: Int8Array[], row: RowSource): Int8Array;
}

/** What codegen.prepare returns: the kernel's scratch and the data its view needs. */
export interface Prepared {
  scratchBytes: number;
  data: unknown;
  /** The small-RAM kernel was taken (asked with `small` and the layer has one). */
  small?: boolean;
}

export interface CodegenOps<Q extends QLayer> {
  /** How the planner may place the output relative to the input. */
  alias: AliasKind;
  /** Per layer, when it depends on the layer (then it replaces `alias`). */
  aliasOf?(q: Q): AliasKind;
  /**
   * Scratch bytes while the kernel runs, and data its view will need (computed once). `small`: the
   * small-RAM kernel where the operator has one (docs/architecture.md, "Memory plan").
   */
  prepare?(q: Q, opts: { small: boolean }): Prepared;
  /** The template view of the layer (templates/kernels/<partial>.c.hbs renders it). */
  view(q: Q, base: LayerViewBase, ctx: ViewContext): LayerView;
}

/**
 * What the TFLite int8 importer knows of one layer, from the operator it came from
 * (src/import/tflite/int8.ts): every scale and zero point as the file stores them.
 */
export interface Int8Context {
  info: NodeInfo;
  /** The layer's float parameters (weights dequantized: w = scale * q exactly in float32). */
  params: LayerParams | undefined;
  base: { name: string; inShape: Shape; outShape: Shape; inputs?: readonly string[] };
  /** Each input tensor's quantization. */
  inputs: AffineQuant[];
  /** The output tensor's quantization. */
  output: AffineQuant;
  /** The fused activation TFLite applies before storing the output ('NONE' when none). */
  activation: FusedActivation;
  /** The weights tensor's scales: one (per tensor) or one per output channel. */
  weightScales?: number[];
  /** The int32 bias as stored (absent: no bias tensor). */
  bias?: Int32Array;
  /** Codes int8 weight rows (8 bits, the coding the importer was asked for). */
  encode(values: Int8Array, rows: number, rowLength: number): CodedWeights;
  fail(why: string): never;
}

/** An operator under TFLite's int8 scheme (CompressedModel.scheme 'tflite-int8'). */
export interface Int8Ops<L extends Layer, Q extends QLayer> {
  /** The quantized layer, from the float layer and the file's quantization. */
  fromTflite(layer: L, ctx: Int8Context): Q;
  quantized: QuantizedOps<Q>;
  codegen?: CodegenOps<Q>;
}

export interface OpModule<L extends Layer = Layer, Q extends QLayer = QLayer> {
  kind: string;
  /** The Keras name, for messages and the docs table ('Conv1D'). */
  title: string;
  infer(layer: L, inputs: TensorInfo[], fail: (why: string) => never): Inferred;
  /** Architecture files (src/graph/arch.ts): the entry's schema (with `type: kind`) and the layer. */
  arch: {
    schema: z.ZodObject;
    toLayer(spec: Record<string, unknown>, ctx: { name: string; classes: number }): L;
    /** The attribute the sweep scales with the width (filters). */
    widthKey?: string;
  };
  keras?: {
    classNames: readonly string[];
    /** For Keras `Activation` layers: the activation name this operator stands for. */
    activationName?: string;
    fromKeras(l: KerasLayer, ctx: KerasContext): KerasMapping;
  };
  /** TensorFlow Lite builtin operators this operator imports (src/import/tflite). */
  tflite?: TfliteMapping;
  /** ONNX node types this operator imports (src/import/onnx). */
  onnx?: OnnxMapping;
  params?(layer: L, info: NodeInfo): ParamSpec[];
  /** The tfjs layer (model.json) and the functional forward used by training and fine-tuning. */
  tfjs: {
    layer(layer: L): tf.layers.Layer;
    forward(layer: L, x: tf.Tensor[], ctx: TfContext): tf.Tensor;
  };
  /** Float forward in plain TypeScript (calibration, float accuracy). */
  floatForward(layer: L, info: NodeInfo, p: LayerParams, x: Float32Array[]): Float32Array;
  deploy?: DeployRule;
  foldable?: Foldable<L>;
  weights?: WeightLayout<L>;
  pruning?: ChannelPruning<L>;
  /** Its output is requantized on the target (fine-tuning fake-quantizes it). */
  requantizes?: boolean;
  quantize(layer: L, ctx: QuantizeContext): Quantized;
  quantized?: QuantizedOps<Q>;
  codegen?: CodegenOps<Q>;
  /** The same operator under TFLite's int8 scheme, when it has one. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- its quantized layer type is its own.
  int8?: Int8Ops<L, any>;
}
