// Compressing a model that keeps TFLite's int8 quantization (scheme 'tflite-int8'): nothing is pruned
// or requantized, every int8 weight stays what the file says; only the coding of each layer's weights
// changes (packed, huffman, rle-huffman), which is lossless: the decoded values are checked equal.
// 'auto' picks per layer with the decoders' code counted once per model: a coding whose decoder costs
// more flash than it saves over the layers that would use it is not used at all.
import { quantizedOps } from '../ops/registry.js';
import {
  CODINGS,
  schemeOf,
  type Coding,
  type CodedWeights,
  type CompressedModel,
  type QLayer,
} from '../qmodel/model.js';
import { codedBytes, decodeWeights, encodeWeights, type CodingChoice } from '../qmodel/coding/index.js';
import { TinyforgeError } from '../util/errors.js';

/**
 * Flash of each coding's decoder functions on the Cortex-M4 (arm-none-eabi-gcc 12.2, -O2): the
 * .text.tf_kernels.tf_<coding> sections of a model that uses it, measured
 * (test/compress/int8.test.ts builds one and reads the map). Other kernels pull in variants of
 * different size (a sparse non-zero list, the checked slow path): there these are estimates.
 */
export const DECODER_CODE_BYTES: Record<Coding, number> = {
  // tf_expand8_rows (8-bit rows into operand words); a Dense read in place needs none.
  packed: 164,
  huffman: 1144,
  // The table builder and slow path (tf_huffman, 356 B) and the run-length rows (tf_rle, 292 B).
  'rle-huffman': 356 + 292,
};

export interface Int8LayerCoding {
  layer: string;
  kind: string;
  coding: Coding;
  weights: number;
  /** One byte per weight: the int8 weights as the .tflite stores them. */
  packedBytes: number;
  /** Bitstream + decode tables. */
  codedBytes: number;
}

export interface Int8CodingReport {
  layers: Int8LayerCoding[];
  /** Codings in use and their decoders' flash (counted once per model). */
  decoders: { coding: Coding; codeBytes: number }[];
  totals: { weights: number; packedBytes: number; codedBytes: number; decoderBytes: number };
}

interface Candidate {
  layer: QLayer;
  values: Int8Array;
  weights: CodedWeights;
  /** The codings asked for (all three for 'auto'). */
  byCoding: Partial<Record<Coding, CodedWeights>>;
}

/** The weighted layers' decoded int8 values and each coding of them. */
function candidates(model: CompressedModel, codings: readonly Coding[]): Candidate[] {
  const scheme = schemeOf(model);
  return model.layers.flatMap((layer) => {
    const weights = quantizedOps(layer.kind, scheme).coded?.(layer)?.weights;
    if (!weights) return [];
    const { values, corrupt } = decodeWeights(weights);
    if (corrupt) throw new TinyforgeError(`layer '${layer.name}': its weights do not decode`, 'input');
    const byCoding = Object.fromEntries(
      codings.map((c) => [c, encodeWeights(values, weights.rows, weights.rowLength, 8, c)]),
    ) as Partial<Record<Coding, CodedWeights>>;
    return [{ layer, values, weights, byCoding }];
  });
}

/** The non-empty subsets of the codings. */
function codingSets(): Coding[][] {
  return Array.from({ length: (1 << CODINGS.length) - 1 }, (_, m) =>
    CODINGS.filter((_, i) => (m + 1) & (1 << i)),
  );
}

const smallest = (c: Candidate, allowed: Coding[]): Coding =>
  allowed.reduce((best, k) => (codedBytes(c.byCoding[k]!) < codedBytes(c.byCoding[best]!) ? k : best));

/** Per layer, the coding of the cheapest model: weights plus the decoders in use. */
function autoChoice(cs: Candidate[]): Coding[] {
  let best: { total: number; choice: Coding[] } | undefined;
  for (const allowed of codingSets()) {
    const choice = cs.map((c) => smallest(c, allowed));
    const used = new Set(choice);
    const total =
      cs.reduce((s, c, i) => s + codedBytes(c.byCoding[choice[i]]!), 0) +
      [...used].reduce((s, k) => s + DECODER_CODE_BYTES[k], 0);
    if (!best || total < best.total) best = { total, choice };
  }
  return best?.choice ?? [];
}

/** The same model with each layer's int8 weights coded as asked; the values are unchanged. */
export function recodeInt8(
  model: CompressedModel,
  coding: CodingChoice,
): { model: CompressedModel; report: Int8CodingReport } {
  if (schemeOf(model) !== 'tflite-int8') throw new Error('recodeInt8 takes a model of scheme tflite-int8');
  const cs = candidates(model, coding === 'auto' ? CODINGS : [coding]);
  const choice = coding === 'auto' ? autoChoice(cs) : cs.map(() => coding);
  const coded = new Map<string, CodedWeights>();
  cs.forEach((c, i) => {
    const w = c.byCoding[choice[i]]!;
    const back = decodeWeights(w).values;
    if (back.length !== c.values.length || back.some((v, k) => v !== c.values[k]))
      throw new Error(`layer '${c.layer.name}': ${choice[i]} coding is not lossless`);
    coded.set(c.layer.name, w);
  });
  const layers = model.layers.map((l) => (coded.has(l.name) ? { ...l, weights: coded.get(l.name)! } : l));
  const rows: Int8LayerCoding[] = cs.map((c, i) => ({
    layer: c.layer.name,
    kind: c.layer.kind,
    coding: choice[i],
    weights: c.values.length,
    packedBytes: c.values.length,
    codedBytes: codedBytes(coded.get(c.layer.name)!),
  }));
  const used = [...new Set(choice)].filter((k) => DECODER_CODE_BYTES[k] > 0);
  const decoders = used.map((k) => ({ coding: k, codeBytes: DECODER_CODE_BYTES[k] }));
  const sum = (f: (r: Int8LayerCoding) => number) => rows.reduce((s, r) => s + f(r), 0);
  return {
    model: { ...model, layers, meta: { ...model.meta, coding } },
    report: {
      layers: rows,
      decoders,
      totals: {
        weights: sum((r) => r.weights),
        packedBytes: sum((r) => r.packedBytes),
        codedBytes: sum((r) => r.codedBytes),
        decoderBytes: decoders.reduce((s, d) => s + d.codeBytes, 0),
      },
    },
  };
}
