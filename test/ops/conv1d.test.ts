// Conv1D with stride, dilation and causal padding: the integer reference against a brute-force
// definition, the generated C on the host (gcc and clang, several optimization levels) and on the
// Cortex-M4 under QEMU against the reference over many random layers (every coding, widths 2..8,
// per-layer and per-channel formats), and training on the wasm backend.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { initBackend } from '../../src/train/backend.js';
import { initParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { conv1dCustomGrad, padInput } from '../../src/train/conv1d.js';
import { decodeWeights } from '../../src/qmodel/coding/index.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';
import { quantizedOps } from '../../src/ops/registry.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import { tempDir } from '../helpers/temp.js';
import { makeRng, randInt } from '../helpers/randomModel.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { CODINGS } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { randomInput } from '../helpers/randomModel.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { buildView } from '../../src/codegen/view.js';
import { expectTrainsAndAgrees, syntheticData, trainAndCompress } from '../helpers/trainCompress.js';
import { convBitExactTests, randomWindows } from './bitexactRuns.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Random models around Conv1D layers: every coding, widths 2..8, dilated and causal ones. */
function models(n: number, seed0: number): CompressedModel[] {
  const out: CompressedModel[] = [];
  for (let s = 0; s < n; s++) {
    const coding = CODINGS[s % 3];
    const bits = [2 + (s % 7)];
    out.push(randomOpModel(seed0 + s, ['conv1d', 'conv1d'], { codings: [coding], bits }));
  }
  return out;
}

describe('Conv1D generated C', () => {
  const ms = models(42, 7100);
  const inputs = ms.map((m, i) => randomWindows(m, i, 6));

  it('draws dilated, causal, strided and every-coding layers', () => {
    const seen = new Set<string>();
    for (const m of ms)
      for (const l of buildView(m).view.layers) {
        if (l.kind !== 'conv1d') continue;
        const v = l as unknown as {
          dilation: number;
          stride: number;
          weights: { coding: string };
          mac: { pointwise: boolean };
        };
        seen.add(`d${v.dilation}`).add(`s${v.stride}`).add(v.weights.coding);
        if (v.mac.pointwise) seen.add('pointwise-fast');
      }
    for (const m of ms)
      for (const l of m.layers)
        if (l.kind === 'conv1d') seen.add((l as unknown as { padding: string }).padding);
    for (const w of ['d1', 'd2', 'd3', 's1', 's2', 'same', 'valid', 'causal', 'pointwise-fast', ...CODINGS])
      expect(seen).toContain(w);
  });

  convBitExactTests('conv1d', ms, inputs, dirs);
});

/** The definition, spelt out: an explicitly zero-padded input, every tap, a rounding shift (ties up). */
function bruteForce(q: QConv1D, x: Int8Array): Int8Array {
  const [T, C] = q.inShape;
  const [L, F] = q.outShape;
  const k = q.kernelSize;
  const d = q.dilation ?? 1;
  const Tp = T + 2 * (k * d + q.stride);
  const padded = new Float64Array(Tp * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) padded[(t + q.padLeft) * C + c] = x[t * C + c];
  const wts = decodeWeights(q.weights).values;
  const y = new Int8Array(L * F);
  for (let t = 0; t < L; t++)
    for (let o = 0; o < F; o++) {
      let acc = q.bias[o];
      for (let j = 0; j < k; j++)
        for (let c = 0; c < C; c++) acc += padded[(t * q.stride + j * d) * C + c] * wts[(o * k + j) * C + c];
      const shift = q.inFrac + (q.wFrac.length === 1 ? q.wFrac[0] : q.wFrac[o]) - q.outFrac;
      y[t * F + o] = Math.max(q.relu ? 0 : -128, Math.min(127, Math.floor(acc / 2 ** shift + 0.5)));
    }
  return y;
}

describe('Conv1D integer reference', () => {
  it('is the definition on 300 random layers (dilated, causal, strided)', () => {
    let layers = 0;
    for (let s = 0; s < 150; s++) {
      const m = randomOpModel(9300 + s, ['conv1d', 'conv1d']);
      const rng = makeRng(s);
      for (const l of m.layers) {
        if (l.kind !== 'conv1d') continue;
        const q = l as QConv1D;
        const x = Int8Array.from({ length: q.inShape[0] * q.inShape[1] }, () => randInt(rng, -128, 127));
        const vals = decodeWeights(q.weights).values;
        const n = q.weights.rowLength;
        const got = quantizedOps('conv1d').reference(q, [x], (o) => vals.subarray(o * n, (o + 1) * n));
        expect(Array.from(got)).toEqual(Array.from(bruteForce(q, x)));
        layers++;
      }
    }
    expect(layers).toBe(300);
  });
});

describe('Conv1D with dilation and causal padding: training and compression (wasm backend)', () => {
  beforeAll(async () => {
    await initBackend({ quiet: true });
  });
  const { dataset, data } = syntheticData(5, 200, 80);
  const graph = archToGraph(
    {
      layers: [
        { type: 'conv1d', filters: 8, kernelSize: 3, dilation: 2, padding: 'causal', activation: 'relu' },
        { type: 'conv1d', filters: 8, kernelSize: 3, dilation: 3, padding: 'same' },
        { type: 'batchnorm' },
        { type: 'relu' },
        { type: 'conv1d', filters: 6, kernelSize: 4, stride: 2, padding: 'causal', activation: 'relu' },
        { type: 'gap1d' },
        { type: 'dense', units: 'classes' },
      ],
    },
    { inputShape: [128, 9], classNames: dataset.classNames },
  );
  const convs = graph.layers.filter((l) => l.kind === 'conv1d').map((l) => l.name);

  it('trains (every kernel moves), and tfjs and the float forward agree', async () => {
    await expectTrainsAndAgrees(graph, data, convs);
  });

  it('saves dilation_rate and causal padding in model.json and loads them back', async () => {
    const dir = join(tempDir(), 'conv1d-dilated');
    const model = { graph, params: initParams(graph, 4) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const loaded = loadModelDir(dir).model;
    const pick = (l: unknown) => {
      const c = l as { kernelSize: number; stride: number; dilation?: number; padding: string };
      return [c.kernelSize, c.stride, c.dilation ?? 1, c.padding];
    };
    const of = (ls: readonly unknown[]) =>
      ls.filter((l) => (l as { kind: string }).kind === 'conv1d').map(pick);
    expect(of(loaded.graph.layers)).toEqual(of(graph.layers));
    expect(of(loaded.graph.layers).map((a) => a[2])).toEqual([2, 3, 1]);
  });

  it('compresses (BatchNorm folded), and the reference agrees with the float model on most windows', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 6, epochs: 3 });
    expect(q.layers.map((l) => l.kind)).toEqual(['conv1d', 'conv1d', 'conv1d', 'gap1d', 'dense']);
    expect(q.layers.map((l) => (l as QConv1D).dilation ?? 1).slice(0, 3)).toEqual([2, 3, 1]);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.08);
  });
});

describe('Conv1D custom gradient', () => {
  it('equals autodiff (cpu backend) of an undilated conv with the kernel spread by the dilation', async () => {
    const was = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const rng = makeRng(78);
      for (let i = 0; i < 24; i++) {
        const k = randInt(rng, 1, 4);
        const dilated = i % 2 === 1;
        const stride = dilated ? 1 : randInt(rng, 1, 2);
        const d = dilated ? randInt(rng, 2, 3) : 1;
        const padding = (['same', 'valid', 'causal'] as const)[i % 3];
        const shape: [number, number, number] = [2, randInt(rng, 12, 17), randInt(rng, 1, 3)];
        const x = tf.randomNormal(shape, 0, 1, 'float32', i) as tf.Tensor3D;
        const w = tf.randomNormal([k, shape[2], 3], 0, 1, 'float32', 100 + i) as tf.Tensor3D;
        // sum(sin(y)): dy = cos(y) differs at every output.
        const loss = (f: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.sin(f(a as tf.Tensor3D, b as tf.Tensor3D)));
        const span = (k - 1) * d + 1;
        const spread = tf.tensor2d(
          Array.from({ length: k * span }, (_, e) => (e % span === Math.floor(e / span) * d ? 1 : 0)),
          [k, span],
        );
        const ours = tf.grads(loss((a, b) => conv1dCustomGrad(a, b, stride, padding, d)))([x, w]);
        const theirs = tf.grads(
          loss((a, b) => {
            const wd = tf.matMul(spread, b.reshape([k, -1]), true, false).reshape([span, shape[2], 3]);
            return tf.conv1d(padInput(a, k, stride, padding, d), wd as tf.Tensor3D, stride, 'valid');
          }),
        )([x, w]);
        for (let j = 0; j < 2; j++) {
          const a = ours[j].dataSync();
          const b = theirs[j].dataSync();
          expect(a.length).toBe(b.length);
          for (let e = 0; e < a.length; e++) expect(a[e]).toBeCloseTo(b[e], 3);
        }
      }
    } finally {
      await tf.setBackend(was);
    }
  });
});

describe('Conv1D in a .tfm file', () => {
  it('keeps dilation and causal padding, and a layer without dilation (an older file) stays valid', () => {
    const ms = models(30, 7400);
    const dilated = ms.flatMap((m) => m.layers).filter((l) => (l as QConv1D).dilation);
    expect(dilated.length).toBeGreaterThan(0);
    for (const m of ms) {
      const back = decodeTfm(encodeTfm(m));
      const fields = (mm: CompressedModel) =>
        mm.layers.map((l) => {
          const q = l as QConv1D;
          return [q.kind, q.padding, q.dilation, q.padLeft];
        });
      expect(fields(back)).toEqual(fields(m));
      const x = randomInput(m, 3);
      expect(Array.from(runPrepared(prepareReference(back), x).logits)).toEqual(
        Array.from(runPrepared(prepareReference(m), x).logits),
      );
    }
    // A dilated layer whose padLeft does not fit its dilation is refused.
    const m = ms.find((mm) =>
      mm.layers.some((l) => ((l as QConv1D).dilation ?? 1) > 1 && (l as QConv1D).padding !== 'valid'),
    )!;
    const bad = {
      ...m,
      layers: m.layers.map((l) => (((l as QConv1D).dilation ?? 1) > 1 ? { ...l, dilation: undefined } : l)),
    };
    expect(() => decodeTfm(encodeTfm(bad as CompressedModel))).toThrow(/padLeft|window/);
  });
});
