// DepthwiseConv1D and DepthwiseConv2D: the integer reference against a brute-force definition, the
// generated C on the host (gcc, clang) and on QEMU bit for bit against the reference at every coding
// and width, tfjs (wasm, custom gradients) against the float forward and numerical gradients.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildView } from '../../src/codegen/view.js';
import type { LayerView } from '../../src/codegen/viewTypes.js';
import { runReference } from '../../src/reference/index.js';
import { decodeWeights } from '../../src/qmodel/coding/index.js';
import { requantize, requantShift } from '../../src/fixedpoint/semantics.js';
import { CODINGS, type CompressedModel } from '../../src/qmodel/model.js';
import type { QDepthwise } from '../../src/ops/depthwise.js';
import { depthwiseCustomGrad, type DwWindow } from '../../src/train/depthwise.js';
import { initBackend } from '../../src/train/backend.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { makeRng, randomInput } from '../helpers/randomModel.js';
import { buildRunner, runRunner } from '../codegen/cbuild.js';
import { runOnTarget } from '../kernels/target.js';
import { tempDir } from '../helpers/temp.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const KINDS = ['depthwise1d', 'depthwise2d'] as const;

/** Models with the kind alone (and its neighbours), at each coding and each width 2..8. */
function suite(): { name: string; model: CompressedModel }[] {
  const out: { name: string; model: CompressedModel }[] = [];
  for (const kind of KINDS)
    for (const coding of CODINGS)
      for (let bits = 2; bits <= 8; bits += 3)
        for (let i = 0; i < 2; i++) {
          const seed =
            4000 + 97 * bits + 13 * i + CODINGS.indexOf(coding) + (kind === 'depthwise2d' ? 500 : 0);
          out.push({
            name: `${kind} ${coding} ${bits} bits #${seed}`,
            model: randomOpModel(seed, [kind, kind], { codings: [coding], bits: [bits] }),
          });
        }
  out.push({
    name: 'mixed 1d + 2d 8-bit packed',
    model: randomOpModel(77, ['depthwise1d', 'depthwise2d'], { codings: ['packed'], bits: [8] }),
  });
  return out;
}

/** The code paths templates/kernels/depthwise.c.hbs can choose for a layer. */
const DW_PATHS = [
  'direct',
  'direct:loop',
  'direct:edges-only',
  'direct:tail',
  'direct:zero-load',
  'direct:skipped-output',
  'direct:several-rows',
  'planes:vertical-blocks',
  'planes:horizontal-blocks',
  'planes:column-tail',
  'planes:row-tail',
  'planes:generic-strided',
  'planes:generic-dilated',
  'planes:odd-width',
  'channels:not-multiple-of-4',
  'outputs:partial-block',
  'multiplier>1',
  'shift:per-channel',
  'shift:per-layer',
] as const;

/** The view fields that choose a path (src/ops/depthwise.ts depthwiseView). */
interface DwPathFields {
  dw: {
    C: number;
    OH: number;
    mult: number;
    partial: boolean;
    unit: boolean;
    dense: boolean;
    nbv: number;
    colTail: boolean;
    rowTail: boolean;
    wOdd: boolean;
    direct: {
      loop: unknown;
      head: { steps: { zero?: boolean; skip?: boolean }[] }[];
      tail: { steps: { zero?: boolean; skip?: boolean }[] }[];
    } | null;
  };
  requant: { shiftArray: boolean };
}

/** The paths one depthwise layer view takes, named as in DW_PATHS. */
function dwPaths(view: LayerView): string[] {
  const l = view as unknown as DwPathFields;
  const d = l.dw;
  const tags: string[] = [];
  if (d.direct) {
    const edges = [...d.direct.head, ...d.direct.tail].flatMap((b) => b.steps);
    tags.push('direct', d.direct.loop ? 'direct:loop' : 'direct:edges-only');
    if (d.direct.tail.length > 0) tags.push('direct:tail');
    if (edges.some((s) => s.zero)) tags.push('direct:zero-load');
    if (edges.some((s) => s.skip)) tags.push('direct:skipped-output');
    if (d.OH > 1) tags.push('direct:several-rows');
  } else {
    if (d.unit) tags.push(d.nbv > 1 ? 'planes:vertical-blocks' : 'planes:horizontal-blocks');
    if (d.unit && d.colTail) tags.push('planes:column-tail');
    if (d.unit && d.rowTail) tags.push('planes:row-tail');
    if (!d.unit) tags.push(d.dense ? 'planes:generic-strided' : 'planes:generic-dilated');
    if (d.wOdd) tags.push('planes:odd-width');
  }
  if (d.C % 4 !== 0) tags.push('channels:not-multiple-of-4');
  if (d.partial) tags.push('outputs:partial-block');
  if (d.mult > 1) tags.push('multiplier>1');
  tags.push(l.requant.shiftArray ? 'shift:per-channel' : 'shift:per-layer');
  return tags;
}

/** The definition, written independently: pad the input explicitly, then sum every tap. */
function bruteForce(q: QDepthwise, x: Int8Array): Int8Array {
  const [H, W, C] = q.inShape.length === 3 ? q.inShape : [1, q.inShape[0], q.inShape[1]];
  const out = q.outShape;
  const [OH, OW, OC] = out.length === 3 ? out : [1, out[0], out[1]];
  const [kh, kw] = q.kernel;
  const [pt, pl] = q.pad;
  const values = decodeWeights(q.weights).values;
  const at = (yy: number, xx: number, c: number): number =>
    yy < 0 || yy >= H || xx < 0 || xx >= W ? 0 : x[(yy * W + xx) * C + c];
  const y = new Int8Array(OH * OW * OC);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let c = 0; c < C; c++)
        for (let m = 0; m < q.depthMultiplier; m++) {
          const o = c * q.depthMultiplier + m;
          let acc = q.bias[o];
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++)
              acc +=
                at(
                  oy * q.strides[0] + i * q.dilation[0] - pt,
                  ox * q.strides[1] + j * q.dilation[1] - pl,
                  c,
                ) * values[o * kh * kw + i * kw + j];
          const wf = q.wFrac.length === 1 ? q.wFrac[0] : q.wFrac[o];
          y[(oy * OW + ox) * OC + o] = requantize(acc, requantShift(q.inFrac, wf, q.outFrac), q.relu);
        }
  return y;
}

describe('depthwise integer kernels', () => {
  const models = suite();
  const inputs = models.map(({ model }, i) => [0, 1, 2].map((w) => randomInput(model, 31 * i + w)));

  it('the models take every code path of the C kernel', () => {
    const seen = new Set<string>();
    for (const { model } of models)
      for (const l of buildView(model).view.layers)
        if (l.kind.startsWith('depthwise')) dwPaths(l).forEach((t) => seen.add(t));
    expect([...DW_PATHS].filter((t) => !seen.has(t))).toEqual([]);
  });

  it('the reference is the brute-force definition', () => {
    let checked = 0;
    models.forEach(({ model }, i) => {
      const r = runReference(model, inputs[i][0], { keepLayerOutputs: true });
      model.layers.forEach((l, li) => {
        if (!l.kind.startsWith('depthwise')) return;
        const x = li === 0 ? inputs[i][0] : r.layerOutputs![li - 1];
        expect(Array.from(r.layerOutputs![li])).toEqual(Array.from(bruteForce(l as QDepthwise, x)));
        checked++;
      });
    });
    expect(checked).toBeGreaterThan(40);
  });

  for (const cc of ['gcc', 'clang'])
    it(`host C (${cc}) equals the reference bit for bit`, async () => {
      const dir = join(tempDir(), `dw-${cc}`);
      const ms = models.map((m) => m.model);
      const built = await buildRunner(dir, ms, { cc, cflags: ['-O2'] });
      const run = await runRunner(built, dir, ms, inputs);
      expect(run.exitCode, run.stderr).toBe(0);
      models.forEach(({ name, model }, m) =>
        inputs[m].forEach((x, w) => {
          const res = run.results[m].windows[w];
          expect(res.rc, name).toBe(0);
          expect(Array.from(res.logits), name).toEqual(Array.from(runReference(model, x).logits));
        }),
      );
    }, 300_000);

  it('QEMU (Cortex-M4, DSP) equals the reference bit for bit', async () => {
    const dir = join(tempDir(), 'dw-qemu');
    const ms = models.map((m) => m.model);
    const run = await runOnTarget(dir, ms, inputs);
    models.forEach(({ name, model }, m) => {
      expect(run.dsp[m]).toBe(1);
      inputs[m].forEach((x, w) => {
        expect(run.rc[m][w], name).toBe(0);
        expect(Array.from(run.logits[m][w]), name).toEqual(Array.from(runReference(model, x).logits));
      });
    });
  }, 600_000);
});

describe('depthwise training on the default backend', () => {
  const windows: DwWindow[] = [
    { kh: 1, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, mult: 1, padding: 'same' },
    { kh: 1, kw: 3, sh: 1, sw: 2, dh: 1, dw: 2, mult: 2, padding: 'causal' },
    { kh: 2, kw: 3, sh: 2, sw: 1, dh: 1, dw: 2, mult: 3, padding: 'valid' },
    { kh: 3, kw: 2, sh: 1, sw: 2, dh: 2, dw: 1, mult: 1, padding: 'same' },
  ];

  /** Brute-force float depthwise conv (the definition in src/ops/depthwise.ts's header). */
  function floatDef(x: tf.Tensor4D, w: tf.Tensor4D, g: DwWindow): tf.Tensor4D {
    const [N, H, W, C] = x.shape;
    const xs = x.arraySync();
    const ws = w.arraySync();
    const { out: OH, before: pt } = axisOf(H, g.kh, g.sh, g.dh, g.padding);
    const { out: OW, before: pl } = axisOf(W, g.kw, g.sw, g.dw, g.padding);
    const y: number[][][][] = [];
    for (let n = 0; n < N; n++) {
      y.push([]);
      for (let oy = 0; oy < OH; oy++) {
        y[n].push([]);
        for (let ox = 0; ox < OW; ox++) {
          const row: number[] = [];
          for (let c = 0; c < C; c++)
            for (let m = 0; m < g.mult; m++) {
              let acc = 0;
              for (let i = 0; i < g.kh; i++)
                for (let j = 0; j < g.kw; j++) {
                  const yy = oy * g.sh + i * g.dh - pt;
                  const xx = ox * g.sw + j * g.dw - pl;
                  if (yy >= 0 && yy < H && xx >= 0 && xx < W) acc += xs[n][yy][xx][c] * ws[i][j][c][m];
                }
              row.push(acc);
            }
          y[n][oy].push(row);
        }
      }
    }
    return tf.tensor4d(y);
  }

  function axisOf(len: number, k: number, s: number, d: number, p: string) {
    const span = (k - 1) * d + 1;
    const out = p === 'valid' ? Math.floor((len - span) / s) + 1 : Math.ceil(len / s);
    const before =
      p === 'valid' ? 0 : p === 'causal' ? span - 1 : Math.floor(Math.max((out - 1) * s + span - len, 0) / 2);
    return { out, before };
  }

  for (const g of windows)
    it(`forward and gradients match the definition (${JSON.stringify(g)})`, () => {
      const rng = makeRng(11);
      const C = 3;
      const x = tf.tensor4d(
        Array.from({ length: 2 * 5 * 7 * C }, () => rng() * 2 - 1),
        [2, 5, 7, C],
      );
      const w = tf.tensor4d(
        Array.from({ length: g.kh * g.kw * C * g.mult }, () => rng() * 2 - 1),
        [g.kh, g.kw, C, g.mult],
      );
      const ours = depthwiseCustomGrad(x, w, g, true);
      const def = floatDef(x, w, g);
      expect(ours.shape).toEqual(def.shape);
      const a = ours.dataSync();
      const b = def.dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
      // Loss = sum(y * r) for a fixed random r: its gradient against central differences.
      const r = tf.tensor(
        Array.from({ length: a.length }, () => rng() * 2 - 1),
        ours.shape,
      );
      const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) =>
        tf.sum(tf.mul(depthwiseCustomGrad(xx, ww, g, true), r));
      const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => loss(xx as tf.Tensor4D, ww as tf.Tensor4D))(
        [x, w],
      );
      const numeric = (t: tf.Tensor4D, which: 0 | 1, idx: number): number => {
        const h = 1e-2;
        const v = t.dataSync().slice();
        const at = (d: number) => {
          const u = v.slice();
          u[idx] += d;
          const tt = tf.tensor4d(u, t.shape);
          const val = (which === 0 ? loss(tt, w) : loss(x, tt)).dataSync()[0];
          tt.dispose();
          return val;
        };
        return (at(h) - at(-h)) / (2 * h);
      };
      for (const idx of [0, 5, 17, 40, x.size - 1])
        expect(gx.dataSync()[idx]).toBeCloseTo(numeric(x, 0, idx), 2);
      for (let idx = 0; idx < w.size; idx++) expect(gw.dataSync()[idx]).toBeCloseTo(numeric(w, 1, idx), 2);
    });
});
