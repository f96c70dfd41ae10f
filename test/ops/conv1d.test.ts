// Conv1D with stride, dilation and causal padding: the integer reference against a brute-force
// definition, the generated C on the host (gcc and clang, several optimization levels) and on the
// Cortex-M4 under QEMU against the reference over many random layers (every coding, widths 2..8,
// per-layer and per-channel formats), and training on the wasm backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { prepareData } from '../../src/data/load.js';
import { archToGraph } from '../../src/graph/arch.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { compressModel, DEFAULT_COMPRESS_OPTIONS } from '../../src/compress/compress.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
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
import { buildRunner, runRunner } from '../codegen/cbuild.js';
import { runOnTarget } from '../kernels/target.js';
import { buildView } from '../../src/codegen/view.js';

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

function windows(m: CompressedModel, seed: number, n: number): Int8Array[] {
  return Array.from({ length: n }, (_, i) => randomInput(m, seed * 100 + i));
}

function expectSame(ms: CompressedModel[], inputs: Int8Array[][], got: (m: number, w: number) => number[]) {
  ms.forEach((m, i) => {
    const p = prepareReference(m);
    inputs[i].forEach((x, w) => {
      expect({ model: i, window: w, logits: got(i, w) }).toEqual({
        model: i,
        window: w,
        logits: Array.from(runPrepared(p, x).logits),
      });
    });
  });
}

describe('Conv1D generated C', () => {
  const ms = models(42, 7100);
  const inputs = ms.map((m, i) => windows(m, i, 6));

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

  for (const { cc, opt } of [
    { cc: 'gcc', opt: ['-O2'] },
    { cc: 'gcc', opt: ['-O0'] },
    { cc: 'gcc', opt: ['-O3', '-funroll-loops'] },
    { cc: 'clang', opt: ['-Os'] },
    { cc: 'clang', opt: ['-O2'] },
  ]) {
    it(`${cc} ${opt.join(' ')} gives the reference logits bit for bit`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tf-conv1d-'));
      dirs.push(dir);
      const out = await runRunner(await buildRunner(dir, ms, { cc, cflags: opt }), dir, ms, inputs);
      expect(out.stderr).toBe('');
      expect(out.exitCode).toBe(0);
      expectSame(ms, inputs, (m, w) => Array.from(out.results[m].windows[w].logits));
    });
  }

  it('gives the reference logits bit for bit on the Cortex-M4 (QEMU, TF_DSP)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-conv1d-m4-'));
    dirs.push(dir);
    const run = await runOnTarget(dir, ms, inputs);
    expect(run.dsp.every((d) => d === 1)).toBe(true);
    expectSame(ms, inputs, (m, w) => Array.from(run.logits[m][w] ?? []));
  }, 600_000);

  // The kernels pin every register their assembly uses: each optimization level must still build and
  // agree (at -O0 the firmware runs the portable C: TF_DSP needs an optimizing build).
  for (const opt of ['-O1', '-Os', '-O3']) {
    it(`gives the reference logits bit for bit on the Cortex-M4 at ${opt}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tf-conv-opt-'));
      dirs.push(dir);
      const sub = ms.slice(0, 14);
      const run = await runOnTarget(dir, sub, inputs.slice(0, 14), { optLevel: opt });
      expect(run.dsp.every((d) => d === 1)).toBe(true);
      expectSame(sub, inputs.slice(0, 14), (m, w) => Array.from(run.logits[m][w] ?? []));
    }, 600_000);
  }
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
  const dataset = generateSynthetic({ seed: 5, train: 200, test: 80 });
  const data = prepareData(dataset, { valFraction: 0.2 });
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
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = convs.map((n) => readParams(vars)[n].kernel!.slice());
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    convs.forEach((n, i) => expect(Array.from(model.params[n].kernel!)).not.toEqual(Array.from(before[i])));
    const x = data.test.x.subarray(0, 128 * 9);
    const trace = floatForward(model, x).outputs;
    const ours = trace[trace.length - 1];
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 3);
    disposeVars(vars);
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
    const vars = createVars({ graph, params: initParams(graph, 6) });
    await fit(graph, vars, data.train, { epochs: 3, batchSize: 32, lr: 0.01, seed: 6, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    disposeVars(vars);
    const { model: q, report } = await compressModel(
      model,
      data.normalization,
      { train: data.train, val: data.val, eval: data.test, evalName: 'test' },
      DEFAULT_COMPRESS_OPTIONS,
    );
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
