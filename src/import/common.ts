// What every model-file importer (Keras, TensorFlow Lite, ONNX) shares: the imported model and
// where it came from, the one "not supported" error (exit code 4, naming the node), and how a
// source input shape becomes tinyforge's [T, C] input window.
import type { CompressedModel } from '../qmodel/model.js';
import type { CodingChoice } from '../qmodel/coding/index.js';
import { TinyforgeError } from '../util/errors.js';
import { reshapeLayer } from '../ops/reshape.js';
import { GRAPH_INPUT, type FloatModel, type InputShape, type Layer } from '../graph/types.js';

export type SourceFormat = 'keras-h5' | 'keras' | 'tflite' | 'onnx';

/**
 * What the input window means; it decides which axis is "channels" for normalization:
 *   vector      [F]        -> [1, F]
 *   sequence    [T, C]     -> [T, C]
 *   spectrogram [H, W, C]  -> [H, W*C] (frames x features), then a Reshape to [H, W, C]
 *   image       [H, W, C]  -> [H*W, C] (pixels x colour channels), then a Reshape to [H, W, C]
 */
export type InputMeaning = 'vector' | 'sequence' | 'spectrogram' | 'image';
export const INPUT_MEANINGS: readonly InputMeaning[] = ['vector', 'sequence', 'spectrogram', 'image'];

export interface ModelSource {
  format: SourceFormat;
  file: string;
  /** The source's input shape without the batch, in the source's own layout. */
  inputShape: number[];
  /** 'channels-first' for an NCHW ONNX graph: the imported input is its channels-last transpose. */
  inputLayout: 'channels-last' | 'channels-first';
  inputMeaning: InputMeaning;
}

export interface ImportedModel {
  model: FloatModel;
  source: ModelSource;
  /**
   * A fully int8 TFLite file: the model with the file's own quantization kept (scheme 'tflite-int8',
   * weights coded as asked). Absent for float and hybrid files.
   */
  keptQuantization?: (opts: { coding?: CodingChoice }) => CompressedModel;
}

export interface ImportOptions {
  /** Class names (default class_0..); their number must equal the model's outputs. */
  classNames?: string[];
  /** Meaning of a rank-3 input (default: spectrogram when it has one channel, image otherwise). */
  inputMeaning?: InputMeaning;
}

/** A layer or node of a source file, as messages name it. */
export interface SourceNode {
  /** 'layer' (Keras), 'operator' (TFLite), 'node' (ONNX). */
  what: 'layer' | 'operator' | 'node';
  name: string;
  /** Position in the file's layer/operator/node list (0-based). */
  index: number;
  type: string;
}

/** The one error for anything outside the supported set: names file, node, position and type. */
export function unsupportedNode(file: string, node: SourceNode, why: string, supported: string): never {
  throw new TinyforgeError(
    `${file}: ${node.what} ${node.index} '${node.name}' (${node.type}): ${why} is not supported`,
    'model',
    `supported: ${supported}`,
  );
}

/** A whole-file problem outside the supported set (several subgraphs, dynamic shapes). */
export function unsupportedModel(file: string, why: string, hint?: string): never {
  throw new TinyforgeError(`${file}: ${why}`, 'model', hint);
}

/** The default meaning of a channels-last source input shape. */
export function defaultMeaning(shape: readonly number[]): InputMeaning {
  if (shape.length === 1) return 'vector';
  if (shape.length === 2) return 'sequence';
  return shape[2] === 1 ? 'spectrogram' : 'image';
}

export const INPUT_RESHAPE = 'input_reshape';

/**
 * The [T, C] input window for a channels-last source input shape (no batch), and the layers that
 * restore the source's rank before its first operator (a Reshape for rank 3; nothing otherwise).
 */
export function adaptInput(
  file: string,
  shape: readonly number[],
  meaning: InputMeaning = defaultMeaning(shape),
): { inputShape: InputShape; prologue: Layer[]; meaning: InputMeaning } {
  if (shape.some((d) => !Number.isInteger(d) || d <= 0))
    unsupportedModel(
      file,
      `input shape [${shape.join(', ')}] has a dynamic or empty dimension (only the batch may be dynamic)`,
      'export the model with a fixed input shape',
    );
  const fits: Record<InputMeaning, boolean> = {
    vector: shape.length === 1,
    sequence: shape.length === 2,
    spectrogram: shape.length === 3,
    image: shape.length === 3,
  };
  if (shape.length < 1 || shape.length > 3)
    unsupportedModel(file, `input of rank ${shape.length} ([${shape.join(', ')}])`, 'inputs of rank 1 to 3');
  if (!fits[meaning])
    throw new TinyforgeError(
      `${file}: input [${shape.join(', ')}] cannot be read as '${meaning}'`,
      'usage',
      `for this input give --input-meaning ${defaultMeaning(shape)}`,
    );
  if (shape.length === 1) return { inputShape: [1, shape[0]], prologue: [], meaning };
  if (shape.length === 2) return { inputShape: [shape[0], shape[1]], prologue: [], meaning };
  const [H, W, C] = shape;
  const inputShape: InputShape = meaning === 'image' ? [H * W, C] : [H, W * C];
  return { inputShape, prologue: [reshapeLayer(INPUT_RESHAPE, [H, W, C])], meaning };
}

/** Class names: the given ones (checked against the outputs) or class_0..class_{K-1}. */
export function classNamesFor(file: string, outputs: number, given?: string[]): string[] {
  if (!given) return Array.from({ length: outputs }, (_, i) => `class_${i}`);
  if (given.length !== outputs)
    throw new TinyforgeError(
      `${file}: the model has ${outputs} outputs but ${given.length} class names were given`,
      'usage',
      `give ${outputs} names`,
    );
  return given;
}

export { GRAPH_INPUT };
