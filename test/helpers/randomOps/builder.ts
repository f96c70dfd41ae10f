// The random-model builder the per-operator generators share: the current tensor (shape, format),
// unique names, a layer's `inputs` when it reads anything but the previous output, and random
// weights with output formats that keep activations neither all saturated nor all zero.
import { encodeWeights, type CodingChoice } from '../../../src/qmodel/coding/weights.js';
import { CODINGS, type CompressedModel, type QLayer } from '../../../src/qmodel/model.js';
import type { WeightedQ } from '../../../src/ops/weighted.js';
import { GRAPH_INPUT } from '../../../src/graph/types.js';
import { laplacianWeights, makeRng, pick, randInt } from '../randomModel.js';

/** A tensor of the model being built. */
export interface TensorRef {
  /** Producer's name, or GRAPH_INPUT. */
  name: string;
  shape: number[];
  frac: number;
  flat: boolean;
}

export interface BuilderOptions {
  /** Codings drawn per weighted layer (default all three). */
  codings?: readonly CodingChoice[];
  /** Weight widths drawn (default 2..8). */
  bits?: readonly number[];
}

/** The fields every weighted layer has beyond the base ones. */
export type WeightedFields = Omit<WeightedQ, keyof QLayer>;

/** Typical |activation| in int8 units, to pick output formats that keep values in range. */
export const TYPICAL_ACT = 40;

export class ModelBuilder {
  readonly rng: () => number;
  readonly layers: QLayer[] = [];
  readonly input: TensorRef;
  current: TensorRef;
  private readonly codings: readonly CodingChoice[];
  private readonly bits: readonly number[];

  constructor(seed: number, inputShape: [number, number], options: BuilderOptions = {}) {
    this.rng = makeRng(seed);
    this.codings = options.codings ?? CODINGS;
    this.bits = options.bits ?? [2, 3, 4, 5, 6, 7, 8];
    this.input = { name: GRAPH_INPUT, shape: inputShape, frac: randInt(this.rng, 2, 6), flat: false };
    this.current = this.input;
  }

  int(lo: number, hi: number): number {
    return randInt(this.rng, lo, hi);
  }

  pick<T>(items: readonly T[]): T {
    return pick(this.rng, items);
  }

  chance(p: number): boolean {
    return this.rng() < p;
  }

  /** A fresh layer name for a kind. */
  name(kind: string): string {
    return `${kind}_${this.layers.length}`;
  }

  /** The base fields of a layer reading `from` (default: the current tensor). */
  base(kind: string, outShape: number[], from: TensorRef[] = [this.current]) {
    return {
      name: this.name(kind),
      inShape: [...from[0].shape],
      outShape,
      ...this.inputsField(from),
    };
  }

  /** `inputs` when a layer reads anything but the previous layer's output alone. */
  inputsField(from: TensorRef[]): { inputs?: string[] } {
    const previous = this.layers.length ? this.layers[this.layers.length - 1].name : GRAPH_INPUT;
    return from.length === 1 && from[0].name === previous ? {} : { inputs: from.map((t) => t.name) };
  }

  /** Appends a layer; its output becomes the current tensor. */
  push(layer: QLayer, frac: number, flat = false): TensorRef {
    this.layers.push(layer);
    this.current = { name: layer.name, shape: [...layer.outShape], frac, flat };
    return this.current;
  }

  /**
   * Weighted-layer fields for `outs` rows of `rowLength` weights reading a tensor of format
   * `inFrac`: random width, coding, sparsity, per-layer or per-channel wFrac, a bias, and an
   * output format near the typical accumulator so that 0 <= shift <= 31.
   */
  weighted(outs: number, rowLength: number, relu: boolean, inFrac = this.current.frac): WeightedFields {
    const bits = this.pick(this.bits);
    const coding = this.pick(this.codings);
    const sparsity = this.chance(0.3) ? 0 : this.rng() * 0.9;
    const scale = Math.max(0.6, 2 ** (bits - 2) * this.rng());
    const values = laplacianWeights(this.rng, outs * rowLength, bits, scale, sparsity);
    const wFrac = Array.from({ length: this.chance(0.5) ? 1 : outs }, () => this.int(0, 7));
    let meanAbsW = 0;
    for (const v of values) meanAbsW += Math.abs(v);
    meanAbsW = Math.max(meanAbsW / values.length, 0.25);
    const accTypical = Math.sqrt(rowLength) * TYPICAL_ACT * meanAbsW;
    const sBase = Math.max(0, Math.round(Math.log2(accTypical / TYPICAL_ACT)) + this.int(-1, 1));
    const outFrac = inFrac + Math.min(...wFrac) - sBase;
    return {
      inFrac,
      outFrac,
      wFrac,
      bias: Int32Array.from({ length: outs }, () => Math.round((this.rng() * 2 - 1) * accTypical)),
      relu,
      weights: encodeWeights(values, outs, rowLength, bits, coding),
    };
  }

  /** A format-keeping reshape of the current tensor (same elements, same order). */
  reshape(shape: number[]): TensorRef {
    return this.push(
      { kind: 'reshape', ...this.base('reshape', shape), frac: this.current.frac } as QLayer,
      this.current.frac,
    );
  }

  /** A Flatten of the current tensor into [1, F]. */
  flatten(): TensorRef {
    const F = this.current.shape.reduce((a, b) => a * b, 1);
    return this.push(
      { kind: 'flatten', ...this.base('flatten', [1, F]), frac: this.current.frac } as QLayer,
      this.current.frac,
      true,
    );
  }

  /** The finished model: inputs [T, C], normalization per input channel. */
  model(meta: Record<string, unknown>): CompressedModel {
    const [, C0] = this.input.shape;
    const classes = this.current.shape.reduce((a, b) => a * b, 1);
    return {
      inputShape: [this.input.shape[0], C0],
      classNames: Array.from({ length: classes }, (_, i) => `class${i}`),
      normalization: {
        // `|| 0`: no -0, which JSON (and so a .tfm header) cannot keep.
        mean: Array.from({ length: C0 }, () => Math.round((this.rng() * 2 - 1) * 1000) / 100 || 0),
        std: Array.from({ length: C0 }, () => 0.1 + Math.round(this.rng() * 500) / 100),
      },
      inputFrac: this.input.frac,
      layers: this.layers,
      meta,
    };
  }
}

/** How one quantized kind is drawn into a random model. */
export interface OpGenerator {
  kind: string;
  /**
   * The input it needs: 'seq' a rank-2 sequence [T, C], 'image' a rank-3 [H, W, C], 'flat' a
   * feature vector, 'any' whatever the current tensor is.
   */
  input: 'seq' | 'image' | 'flat' | 'any';
  /** Appends the operator (and whatever it needs first, e.g. a second branch) to the builder. */
  add(b: ModelBuilder): void;
}
