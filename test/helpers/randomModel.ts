// Deterministic random data for tests: a seeded PRNG, weight samplers, random valid models.
import { encodeWeights, type CodingChoice } from '../../src/qmodel/coding/weights.js';
import { CODINGS, type CompressedModel, type QLayer } from '../../src/qmodel/model.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import type { QDense } from '../../src/ops/dense.js';
import type { QMaxPool1D } from '../../src/ops/maxpool1d.js';
import type { QAvgPool1D } from '../../src/ops/avgpool1d.js';
import type { QKeeping } from './layers.js';
import { outLength, padLeft as irPadLeft, type Padding } from '../../src/graph/ir.js';
import { checkModel } from '../../src/qmodel/check.js';
import { mulberry32 } from '../../src/data/prng.js';

/** The tests' seeded PRNG (the project's one mulberry32). */
export const makeRng = mulberry32;

/** Integer in [lo, hi]. */
export function randInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/** Laplacian-like quantized weights: round(Laplace(0, scale)) clipped to [lo, hi], with extra zeros. */
export function laplacianWeights(
  rng: () => number,
  n: number,
  bits: number,
  scale: number,
  sparsity = 0,
): Int8Array {
  const lo = -(2 ** (bits - 1));
  const hi = 2 ** (bits - 1) - 1;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (rng() < sparsity) continue;
    const u = rng() - 0.5;
    const x = -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u) || Number.MIN_VALUE);
    out[i] = Math.max(lo, Math.min(hi, Math.round(x)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Random valid compressed models.

export interface RandomModelOptions {
  /** Put every layer kind in the model (conv1d strides 1 and 2, both pools, gap, flatten, relu, dense). Default true. */
  everyKind?: boolean;
  /** Codings to draw from per layer (default all three); 'auto' lets the encoder choose. */
  codings?: readonly CodingChoice[];
  /** Weight widths to draw from (default 2..8). */
  bits?: readonly number[];
  /**
   * The second Conv1D reads the first one's output, not the pooling after it (whose output no one
   * then reads): a graph that is not a chain. Default: every third seed.
   */
  branch?: boolean;
}

/**
 * A small valid CompressedModel, deterministic from the seed: odd lengths and channel counts,
 * random strides / paddings / widths / codings / sparsity, per-layer or per-channel wFrac, fracs
 * chosen so that 0 <= shift <= 31 and outputs are neither all saturated nor all zero.
 */
export function randomModel(seed: number, options: RandomModelOptions = {}): CompressedModel {
  const rng = makeRng(seed);
  const everyKind = options.everyKind ?? true;
  const codings = options.codings ?? CODINGS;
  const bitsChoices = options.bits ?? [2, 3, 4, 5, 6, 7, 8];
  const T0 = randInt(rng, 9, 24);
  const C0 = randInt(rng, 1, 5);
  const classes = randInt(rng, 2, 5);
  const inputFrac = randInt(rng, 2, 6);
  const layers: QLayer[] = [];
  let shape: number[] = [T0, C0];
  let frac = inputFrac;
  // Typical |activation| in int8 units, to pick output formats that keep values in range.
  const typicalAct = 40;
  const name = (kind: string): string => `${kind}_${layers.length}`;

  const weighted = (kind: 'conv1d' | 'dense', outs: number, rowLength: number, relu: boolean) => {
    const bits = pick(rng, bitsChoices);
    const coding = pick(rng, codings);
    const sparsity = rng() < 0.3 ? 0 : rng() * 0.9;
    const values = laplacianWeights(
      rng,
      outs * rowLength,
      bits,
      Math.max(0.6, 2 ** (bits - 2) * rng()),
      sparsity,
    );
    const wFrac = Array.from({ length: rng() < 0.5 ? 1 : outs }, () => randInt(rng, 0, 7));
    const minW = Math.min(...wFrac);
    let meanAbsW = 0;
    for (const v of values) meanAbsW += Math.abs(v);
    meanAbsW = Math.max(meanAbsW / values.length, 0.25);
    const accTypical = Math.sqrt(rowLength) * typicalAct * meanAbsW;
    const sBase = Math.max(0, Math.round(Math.log2(accTypical / typicalAct)) + randInt(rng, -1, 1));
    const outFrac = frac + minW - sBase;
    const bias = Int32Array.from({ length: outs }, () => Math.round((rng() * 2 - 1) * accTypical));
    return {
      kind,
      inFrac: frac,
      outFrac,
      wFrac,
      bias,
      relu,
      weights: encodeWeights(values, outs, rowLength, bits, coding),
    };
  };

  const conv = (stride: number, padding: Padding, relu: boolean, from?: QConv1D): void => {
    if (from) {
      shape = from.outShape;
      frac = from.outFrac;
    }
    const [T, C] = shape;
    let k = randInt(rng, 1, Math.min(5, T));
    if (padding === 'valid' && outLength(T, k, stride, 'valid') < 1) k = 1;
    const filters = randInt(rng, 1, 7);
    const L = outLength(T, k, stride, padding);
    const w = weighted('conv1d', filters, k * C, relu);
    const layer: QConv1D = {
      name: name('conv1d'),
      inShape: [T, C],
      outShape: [L, filters],
      filters,
      kernelSize: k,
      stride,
      padding,
      padLeft: irPadLeft(T, k, stride, padding),
      ...w,
      kind: 'conv1d',
      ...(from ? { inputs: [from.name] } : {}),
    };
    layers.push(layer);
    shape = [L, filters];
    frac = w.outFrac;
  };

  const pool = (kind: 'maxpool1d' | 'avgpool1d'): void => {
    const [T, C] = shape;
    const poolSize = randInt(rng, 1, Math.min(3, T));
    const stride = randInt(rng, 1, 2);
    const padding: Padding = rng() < 0.5 ? 'same' : 'valid';
    const L = outLength(T, poolSize, stride, padding);
    const layer: QMaxPool1D | QAvgPool1D = {
      kind,
      name: name(kind),
      inShape: [T, C],
      outShape: [L, C],
      poolSize,
      stride,
      padding,
      padLeft: irPadLeft(T, poolSize, stride, padding),
      frac,
    };
    layers.push(layer);
    shape = [L, C];
  };

  const simple = (kind: 'gap1d' | 'gmp1d' | 'flatten' | 'relu'): void => {
    const [T, C] = shape;
    const out: number[] = kind === 'flatten' ? [1, T * C] : kind === 'relu' ? [T, C] : [1, C];
    const layer: QKeeping = { kind, name: name(kind), inShape: [T, C], outShape: out, frac };
    layers.push(layer);
    shape = out;
  };

  const dense = (units: number, relu: boolean): void => {
    const [T, C] = shape;
    const w = weighted('dense', units, T * C, relu);
    const layer: QDense = {
      name: name('dense'),
      inShape: [T, C],
      outShape: [1, units],
      units,
      ...w,
      kind: 'dense',
    };
    layers.push(layer);
    shape = [1, units];
    frac = w.outFrac;
  };

  const padding = (): Padding => (rng() < 0.5 ? 'same' : 'valid');
  // Decided from the seed, not drawn, so that every other seed gives the model it always gave.
  const branch = options.branch ?? seed % 3 === 0;
  const globalPool = seed % 2 === 0 ? 'gap1d' : 'gmp1d';
  const nConv = everyKind ? randInt(rng, 2, 3) : randInt(rng, 1, 3);
  let firstConv: QConv1D | undefined;
  for (let i = 0; i < nConv; i++) {
    const stride = everyKind && i < 2 ? i + 1 : randInt(rng, 1, 2);
    const standaloneRelu = everyKind ? i === 0 : rng() < 0.25;
    const from = branch && i === 1 && layers[layers.length - 1] !== firstConv ? firstConv : undefined;
    conv(stride, padding(), !standaloneRelu && rng() < 0.7, from);
    if (i === 0) firstConv = layers[layers.length - 1] as QConv1D;
    if (standaloneRelu) simple('relu');
    const p =
      everyKind && i < 2
        ? (['maxpool1d', 'avgpool1d'] as const)[i]
        : rng() < 0.5
          ? pick(rng, ['maxpool1d', 'avgpool1d'] as const)
          : undefined;
    if (p) pool(p);
  }
  if (everyKind) {
    simple(globalPool);
    simple('flatten');
  } else {
    simple(rng() < 0.5 ? globalPool : 'flatten');
  }
  if (everyKind || rng() < 0.5) dense(randInt(rng, 3, 12), true);
  dense(classes, false);

  const model: CompressedModel = {
    inputShape: [T0, C0],
    classNames: Array.from({ length: classes }, (_, i) => `class${i}`),
    normalization: {
      // `|| 0`: no -0, which JSON (and so a .tfm header) cannot keep.
      mean: Array.from({ length: C0 }, () => Math.round((rng() * 2 - 1) * 1000) / 100 || 0),
      std: Array.from({ length: C0 }, () => 0.1 + Math.round(rng() * 500) / 100),
    },
    inputFrac,
    layers,
    meta: { generator: 'test/helpers/randomModel.ts', seed },
  };
  checkModel(model); // a generator bug should fail here, not deep inside a test
  return model;
}

/** A random int8 input window for a model: mostly moderate values, some at the int8 limits. */
export function randomInput(model: CompressedModel, seed: number): Int8Array {
  const rng = makeRng(seed ^ 0x5eed);
  const [T, C] = model.inputShape;
  return Int8Array.from({ length: T * C }, () => {
    const r = rng();
    return r < 0.05 ? -128 : r < 0.1 ? 127 : randInt(rng, -70, 70);
  });
}
