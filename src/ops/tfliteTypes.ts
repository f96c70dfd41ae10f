// How an operator module imports TensorFlow Lite builtin operators. src/import/tflite reads the
// flatbuffer, resolves constants (dequantizing int8/float16 weights) and the operator's tensors,
// and calls the mapping of every module that lists the operator's builtin name; the mapping gives
// the IR layers (tfjs/Keras parameter layouts). Owned by the TFLite importer.
import type { Layer, LayerParams, Shape } from '../graph/types.js';

/** The builtin options table of an operator: its scalar fields by schema field id (schema.fbs order). */
export interface TfliteOptions {
  /** A byte field (enums such as Padding and ActivationFunctionType). */
  byte(field: number, dflt?: number): number;
  int(field: number, dflt?: number): number;
  float(field: number, dflt?: number): number;
  bool(field: number, dflt?: boolean): boolean;
  /** A vector of ints; undefined when absent. */
  ints(field: number): number[] | undefined;
}

/** A constant input: its shape (batch dimension included, as stored) and float values. */
export interface TfliteConstant {
  shape: number[];
  /** Dequantized (int8/uint8/int16/int32 with scales, float16) or float32 values, row major. */
  data: Float32Array;
}

/** What a mapping sees of one operator. Shapes are without the batch dimension. */
export interface TfliteOpContext {
  /** The builtin name ('CONV_2D'). */
  readonly opName: string;
  /** The IR name for the operator's main layer (unique, from the Keras layer name when known). */
  readonly name: string;
  /** IR shapes of the operator's activation inputs, in order (a feature vector is [1, F], flat). */
  readonly inShapes: readonly Shape[];
  readonly inFlat: readonly boolean[];
  /** The operator's output tensor shape without the batch dimension, as TFLite stores it. */
  readonly outShape: readonly number[];
  readonly options: TfliteOptions;
  /** A constant input slot's dequantized values; undefined when the slot is absent (-1). */
  constant(slot: number): TfliteConstant | undefined;
  /** An integer constant input slot (axes, paddings); undefined when absent or not constant. */
  ints(slot: number): number[] | undefined;
  /** Whether an input slot is present (optional inputs are -1). */
  has(slot: number): boolean;
  /**
   * The fused activation in options field `field`: 'relu' stays fused when the layer can fuse it
   * (`fusable`), any other comes back as following layers (RELU6 -> a clipped ReLU layer).
   */
  activation(field: number, fusable: boolean): { activation: 'linear' | 'relu'; after: Layer[] };
  /** A unique name for an extra layer of this operator ('<name>_<suffix>'). */
  auxName(suffix: string): string;
  /** Stops the import: this operator with this attribute is not supported. */
  unsupported(why: string): never;
}

/** What an operator becomes: IR layers (the first reads the operator's inputs) and their parameters. */
export interface TfliteResult {
  layers: Layer[];
  /** Parameters by layer name, in the tfjs/Keras layouts of the operator modules. */
  params?: Record<string, LayerParams>;
}

/** An operator module's TFLite mapping. */
export interface TfliteMapping {
  /** Builtin operator names this module may map ('CONV_2D'). */
  opNames: readonly string[];
  /**
   * The IR layers of an operator, or undefined when the operator is another module's (e.g. PAD
   * of a sequence is ZeroPadding1D's, of an image ZeroPadding2D's). Throws via ctx.unsupported for
   * attributes outside the supported set.
   */
  fromTflite(ctx: TfliteOpContext): TfliteResult | undefined;
  /**
   * Keras lowers its 1D layers to 2D operators on [1, W, C] between EXPAND_DIMS and SQUEEZE: the
   * equivalent layer when the input [1, W, C] becomes [W, C] (a 1D layer with the same name and
   * the same parameter memory layout), or undefined when the window is not 1 along the unit axis.
   */
  collapse1d?(layer: Layer): Layer | undefined;
  /** A zero padding layer's zeros (before, after) per spatial axis. */
  zeroPads?(layer: Layer): [number, number][];
  /**
   * This layer on the zero padding `pads` of its input, as one layer when its own padding says it
   * (TensorFlow runs a causal Conv1D as PAD [span - 1, 0] and a VALID convolution); else undefined.
   */
  absorbPadding?(layer: Layer, pads: readonly [number, number][]): Layer | undefined;
  /** An n-ary operator TFLite writes as a chain of binary ones (Add of three inputs: two ADDs). */
  nary?: boolean;
}
