// Test support for the merge and activation operators (merge.test.ts, activations.test.ts): small
// random quantized models whose logits ARE the tensors under test (the model ends in a Flatten), and
// one check that runs them in the host reference, as host C (gcc and clang, -O2) and on QEMU (the
// Cortex-M4 path) and compares bit for bit.
import { join } from 'node:path';
import { expect } from 'vitest';
import { GRAPH_INPUT } from '../../src/graph/types.js';
import type { CompressedModel, QLayer } from '../../src/qmodel/model.js';
import { checkModel } from '../../src/qmodel/check.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { sizeOf } from '../../src/graph/types.js';
import { buildRunner, hasTool, runRunner } from '../codegen/cbuild.js';
import { runOnTarget } from '../kernels/target.js';
import { makeRng, pick, randInt } from '../helpers/randomModel.js';
import { conv } from '../codegen/models.js';
import type { QMerge } from '../../src/ops/merge.js';
import type { QConcat } from '../../src/ops/concat.js';
import type { QLut } from '../../src/ops/lut.js';
import type { QClippedReLU } from '../../src/ops/clippedrelu.js';
import type { QLeakyReLU } from '../../src/ops/leakyrelu.js';
import type { QFormatKeeping } from '../../src/ops/formatKeeping.js';

/** A tensor of a model being built: the layer that produces it, its shape and format. */
export interface Tensor {
  name: string;
  shape: number[];
  frac: number;
}

/** Builds a model layer by layer; every layer names its inputs explicitly. */
export class ModelBuilder {
  readonly layers: QLayer[] = [];
  readonly input: Tensor;
  constructor(
    readonly inputShape: [number, number],
    readonly inputFrac: number,
  ) {
    this.input = { name: GRAPH_INPUT, shape: inputShape, frac: inputFrac };
  }

  push(l: QLayer, frac: number): Tensor {
    this.layers.push(l);
    return { name: l.name, shape: l.outShape, frac };
  }

  name(kind: string): string {
    return `${kind}_${this.layers.length}`;
  }

  /**
   * A 'same' Conv1D of x with random 8-bit weights and a random output format whose shift keeps
   * some outputs saturated and most not: a tensor of a new format.
   */
  conv(rng: () => number, x: Tensor, filters: number): Tensor {
    const k = randInt(rng, 1, Math.min(3, x.shape[0]));
    const wFrac = randInt(rng, 2, 5);
    const outFrac = x.frac + wFrac - randInt(rng, 6, 11);
    const l = conv(
      this.name('conv1d'),
      [x.shape[0], x.shape[1]],
      { filters, k, stride: 1, padding: 'same', frac: x.frac, outFrac },
      { bits: 8, coding: 'packed', seed: randInt(rng, 1, 1e6) },
      [wFrac],
    );
    return this.push({ ...l, inputs: [x.name] } as QLayer, outFrac);
  }

  /** The fields of a layer of `kind` on x of x's shape. */
  private unary<K extends string>(kind: K, x: Tensor) {
    return { kind, name: this.name(kind), inputs: [x.name], inShape: x.shape, outShape: x.shape };
  }

  /** The fields of a merge of `kind` of xs to outFrac. */
  private merge<K extends string>(kind: K, xs: Tensor[], outShape: number[], outFrac: number) {
    const inputs = xs.map((x) => x.name);
    return {
      kind,
      name: this.name(kind),
      inputs,
      inShape: xs[0].shape,
      outShape,
      inFracs: xs.map((x) => x.frac),
      outFrac,
    };
  }

  add(xs: Tensor[], outFrac: number): Tensor {
    const l: QMerge = this.merge('add', xs, xs[0].shape, outFrac);
    return this.push(l, outFrac);
  }

  concat(xs: Tensor[], outFrac: number): Tensor {
    const channels = xs.map((x) => x.shape[x.shape.length - 1]);
    const outShape = [...xs[0].shape.slice(0, -1), channels.reduce((a, b) => a + b, 0)];
    const l: QConcat = { ...this.merge('concat', xs, outShape, outFrac), channels };
    return this.push(l, outFrac);
  }

  /** A table activation of x, to outFrac (LeakyReLU: its input's format). */
  lut(kind: 'sigmoid' | 'tanh' | 'hardswish', x: Tensor, outFrac: number): Tensor {
    const l: QLut = { ...this.unary(kind, x), inFrac: x.frac, outFrac };
    return this.push(l, outFrac);
  }

  leaky(x: Tensor, alpha: number): Tensor {
    const l: QLeakyReLU = { ...this.unary('leakyrelu', x), alpha, inFrac: x.frac, outFrac: x.frac };
    return this.push(l, x.frac);
  }

  clipped(x: Tensor, maxValue: number): Tensor {
    const l: QClippedReLU = { ...this.unary('clippedrelu', x), maxValue, frac: x.frac };
    return this.push(l, x.frac);
  }

  relu(x: Tensor): Tensor {
    const l: QFormatKeeping = { ...this.unary('relu', x), frac: x.frac };
    return this.push(l, x.frac);
  }

  /** Ends the model with a Flatten of x: the logits are x itself. */
  finish(x: Tensor, seed: number): CompressedModel {
    const l: QFormatKeeping = { ...this.unary('flatten', x), outShape: [1, sizeOf(x.shape)], frac: x.frac };
    this.layers.push(l);
    const [, C] = this.inputShape;
    const m: CompressedModel = {
      inputShape: this.inputShape,
      classNames: Array.from({ length: sizeOf(x.shape) }, (_, i) => `c${i}`),
      normalization: { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) },
      inputFrac: this.inputFrac,
      layers: this.layers,
      meta: { generator: 'test/ops/opModels.ts', seed },
    };
    checkModel(m);
    return m;
  }
}

export { makeRng, pick, randInt };

/** Random int8 windows with the extremes mixed in, and the constant windows -128, 0, 127. */
export function windows(model: CompressedModel, seed: number, n = 12): Int8Array[] {
  const rng = makeRng(seed);
  const size = model.inputShape[0] * model.inputShape[1];
  const ws = Array.from({ length: n }, () =>
    Int8Array.from({ length: size }, () => {
      const r = rng();
      return r < 0.1 ? -128 : r < 0.2 ? 127 : randInt(rng, -128, 127);
    }),
  );
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

/** The host reference's logits for every window. */
export function referenceLogits(model: CompressedModel, ws: Int8Array[]): Int8Array[] {
  const p = prepareReference(model);
  return ws.map((w) => runPrepared(p, w).logits);
}

/** Host C with gcc and clang: logits equal to the reference's for every window. */
export async function expectHostBitExact(dir: string, models: CompressedModel[], inputs: Int8Array[][]) {
  const want = models.map((m, i) => referenceLogits(m, inputs[i]));
  for (const cc of ['gcc', 'clang']) {
    if (cc === 'clang' && !(await hasTool('clang'))) throw new Error('clang is not installed');
    const d = join(dir, cc);
    const built = await buildRunner(d, models, { cc, cflags: ['-O2'] });
    const out = await runRunner(built, d, models, inputs);
    expect(out.exitCode, out.stderr).toBe(0);
    models.forEach((_m, i) =>
      out.results[i].windows.forEach((w, k) => {
        expect(w.rc, `${cc} model ${i} window ${k}`).toBe(0);
        expect(Array.from(w.logits), `${cc} model ${i} window ${k}`).toEqual(Array.from(want[i][k]));
      }),
    );
  }
}

/** QEMU (Cortex-M4, TF_DSP): logits equal to the reference's; returns per-layer instructions. */
export async function expectTargetBitExact(
  dir: string,
  models: CompressedModel[],
  inputs: Int8Array[][],
): Promise<number[][]> {
  const run = await runOnTarget(dir, models, inputs, { hooks: true });
  models.forEach((m, i) => {
    expect(run.dsp[i]).toBe(1);
    const want = referenceLogits(m, inputs[i]);
    want.forEach((w, k) => {
      expect(run.rc[i][k], `model ${i} window ${k}`).toBe(0);
      expect(Array.from(run.logits[i][k]), `QEMU model ${i} window ${k}`).toEqual(Array.from(w));
    });
  });
  return run.layers;
}
