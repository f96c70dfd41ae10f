// Seeded stand-ins for trained models, shared by the kernel benchmark (src/bench/kernels.bench.ts)
// and the tests that check the generated kernels: the QEMU reference network and har-default for
// 128x9 windows and six classes, He-normal random weights from a seed, standard-normal calibration
// windows, and the weight compression variants the benchmark measures.
import { applyMasks, magnitudeMasks } from '../compress/prune.js';
import { quantizeModel } from '../compress/quantize.js';
import { mulberry32 } from '../data/prng.js';
import { archToGraph } from '../graph/arch.js';
import { channelsOf, inferShapes, sizeOf, type FloatModel, type ModelGraph } from '../graph/ir.js';
import { encodeWeights, type CodingChoice } from '../qmodel/coding/weights.js';
import type { CompressedModel } from '../qmodel/model.js';
import { HAR_DEFAULT_ARCH, QEMU_REFERENCE_ARCH } from '../train/archs/index.js';

/** A standard normal sample (Box-Muller) from a uniform generator. */
export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Class names of the seeded networks (six, as in UCI HAR). */
export const HAR_CLASSES = ['walking', 'upstairs', 'downstairs', 'sitting', 'standing', 'laying'];

const DATA = { inputShape: [128, 9] as [number, number], classNames: HAR_CLASSES };

/**
 * The reference network of shared/notes/qemu-measurement.md (src/train/archs/qemu-reference.json):
 * 365,952 MACs per 128x9 window.
 */
export function referenceGraph(): ModelGraph {
  return archToGraph(QEMU_REFERENCE_ARCH, DATA, 'qemu-reference');
}

/** har-default (src/train/archs) for 128x9 windows and the six UCI HAR classes. */
export function harDefaultGraph(): ModelGraph {
  return archToGraph(HAR_DEFAULT_ARCH, DATA, 'har-default');
}

/**
 * He-normal kernels and small biases from a seed: a float model with trained-like weight
 * statistics. The weighted layers are those with multiply-accumulates: each output is the dot
 * product of `macs / outputs` inputs (fan-in) with its own kernel row, plus a bias when the layer
 * has one. Layers without MACs get no parameters.
 */
export function randomFloatModel(graph: ModelGraph, seed: number): FloatModel {
  const rng = mulberry32(seed);
  const params: FloatModel['params'] = {};
  for (const info of inferShapes(graph)) {
    if (info.macs === 0) continue;
    const outs = channelsOf(info.outShape);
    const fanIn = info.macs / sizeOf(info.outShape);
    const biases = info.params - fanIn * outs;
    if (!Number.isInteger(fanIn) || (biases !== 0 && biases !== outs)) {
      throw new Error(`randomFloatModel: layer '${info.layer.name}' is not a kernel-and-bias layer`);
    }
    const sd = Math.sqrt(2 / fanIn);
    params[info.layer.name] = {
      kernel: Float32Array.from({ length: fanIn * outs }, () => sd * gaussian(rng)),
      bias: biases ? Float32Array.from({ length: outs }, () => 0.05 * gaussian(rng)) : undefined,
    };
  }
  return { graph, params };
}

/** Normalized calibration windows (standard normal), deterministic. */
export function calibrationWindows(graph: ModelGraph, n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const size = graph.inputShape[0] * graph.inputShape[1];
  return Float32Array.from({ length: n * size }, () => gaussian(rng));
}

export interface Variant {
  /** Short label for tables. */
  label: string;
  bits: number;
  coding: CodingChoice;
  /** Unstructured magnitude pruning per layer before quantization. */
  sparsity: number;
}

export const VARIANTS: Variant[] = [
  { label: 'packed 8-bit', bits: 8, coding: 'packed', sparsity: 0 },
  { label: 'packed 4-bit', bits: 4, coding: 'packed', sparsity: 0 },
  { label: 'huffman 4-bit', bits: 4, coding: 'huffman', sparsity: 0 },
  { label: 'packed 8-bit, 80% pruned', bits: 8, coding: 'packed', sparsity: 0.8 },
  { label: 'rle-huffman 8-bit, 80% pruned', bits: 8, coding: 'rle-huffman', sparsity: 0.8 },
  { label: 'rle-huffman 4-bit, 80% pruned', bits: 4, coding: 'rle-huffman', sparsity: 0.8 },
];

/** A float model through tinyforge's own pruning, quantizer and weight coders. */
export function compressVariant(float: FloatModel, v: Variant, calibration: Float32Array): CompressedModel {
  const model = v.sparsity > 0 ? applyMasks(float, magnitudeMasks(float, v.sparsity, 'layer')) : float;
  const size = float.graph.inputShape[0] * float.graph.inputShape[1];
  const C = float.graph.inputShape[1];
  return quantizeModel(model, {
    bits: v.bits,
    perChannel: true,
    encode: (values, rows, rowLength, bits) => encodeWeights(values, rows, rowLength, bits, v.coding),
    calibration: { windows: calibration, n: calibration.length / size },
    normalization: { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) },
    meta: { bench: 'kernels', variant: v.label },
  });
}
