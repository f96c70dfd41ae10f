// Reshape, Flatten of rank 3, ZeroPadding1D and ZeroPadding2D: shapes as Keras infers them, the
// integer reference and the float forward against brute-force definitions and tfjs, gradients
// through training, model.json and .tfm round trips, and the generated C (gcc, clang, QEMU with
// TF_DSP) against the reference on random layers.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { inferShapes, sizeOf, type Layer, type ModelGraph } from '../../src/graph/ir.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { pruneFilters } from '../../src/compress/prune.js';
import { importTfjsLayersModel } from '../../src/graph/importTfjs.js';
import { opOf } from '../../src/ops/registry.js';
import type { KerasContext, TfContext } from '../../src/ops/types.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { saveModelDir } from '../../src/train/modelDir.js';
import { buildView } from '../../src/codegen/view.js';
import { ModelBuilder } from '../helpers/randomOps/builder.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { makeRng, randInt } from '../helpers/randomModel.js';
import { tempDir } from '../helpers/temp.js';
import { bitExactSuite, windowsFor } from './bitexactRuns.js';
import { syntheticData, trainAndCompress } from '../helpers/trainCompress.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const ctx: TfContext = {
  training: false,
  customGrad: false,
  logitsOut: false,
  bnMomentum: 0.99,
  param: () => undefined,
  variable: () => undefined,
};

const graphOf = (inputShape: [number, number], layers: object[]): ModelGraph => ({
  inputShape,
  classNames: ['a', 'b'],
  layers: layers as Layer[],
});

describe('Reshape and Flatten shapes', () => {
  it('infer the Keras shapes; -1 takes the rest; one dimension is a feature vector', () => {
    const shapes = (layers: object[]) =>
      inferShapes(graphOf([12, 6], layers)).map((n) => [n.outShape, n.flat]);
    expect(shapes([{ kind: 'reshape', name: 'r', targetShape: [12, 6, 1] }])).toEqual([[[12, 6, 1], false]]);
    expect(
      shapes([
        { kind: 'reshape', name: 'r', targetShape: [3, 4, -1] },
        { kind: 'reshape', name: 's', targetShape: [-1, 6] },
        { kind: 'reshape', name: 't', targetShape: [72] },
      ]),
    ).toEqual([
      [[3, 4, 6], false],
      [[12, 6], false],
      [[1, 72], true],
    ]);
    expect(
      shapes([
        { kind: 'reshape', name: 'r', targetShape: [4, 3, 6] },
        { kind: 'flatten', name: 'f' },
      ]),
    ).toEqual([
      [[4, 3, 6], false],
      [[1, 72], true],
    ]);
    expect(() => shapes([{ kind: 'reshape', name: 'r', targetShape: [5, -1] }])).toThrow(/no -1 makes/);
    expect(() => shapes([{ kind: 'reshape', name: 'r', targetShape: [12, 5] }])).toThrow(
      /60 elements, not 72/,
    );
  });

  it('keep the element order: float forward, tfjs forward and the model.json layer are the input', () => {
    const rng = makeRng(3);
    const x = Float32Array.from({ length: 72 }, () => rng());
    for (const layers of [
      [{ kind: 'reshape', name: 'r', targetShape: [3, 4, 6] }],
      [
        { kind: 'reshape', name: 'r', targetShape: [3, 4, 6] },
        { kind: 'flatten', name: 'f' },
      ],
      [
        { kind: 'reshape', name: 'r', targetShape: [3, 4, 6] },
        { kind: 'reshape', name: 's', targetShape: [-1, 6] },
      ],
    ]) {
      const graph = graphOf([12, 6], layers);
      const outs = floatForward({ graph, params: {} }, x).outputs;
      let t: tf.Tensor = tf.tensor3d(x, [1, 12, 6]);
      for (const [i, l] of graph.layers.entries()) {
        const viaLayer = opOf(l.kind).tfjs.layer(l).apply(t) as tf.Tensor;
        t = opOf(l.kind).tfjs.forward(l, [t], ctx);
        const info = inferShapes(graph)[i];
        // tfjs keeps the batch axis; a feature vector [1, F] is [batch, F] there.
        expect([...t.shape]).toEqual(info.flat ? [1, info.outShape[1]] : [1, ...info.outShape]);
        expect(Array.from(viaLayer.dataSync())).toEqual(Array.from(x));
        expect(Array.from(t.dataSync())).toEqual(Array.from(x));
        expect(Array.from(outs[i])).toEqual(Array.from(x));
      }
    }
  });
});

type Pads = [number, number][];

/** out[h][w][c] = in[h - top][w - left][c] where that exists, else 0. */
function bruteZeroPad(x: ArrayLike<number>, [H, W, C]: number[], [[t, b], [l, r]]: Pads): number[] {
  const OH = H + t + b;
  const OW = W + l + r;
  const out: number[] = [];
  for (let h = 0; h < OH; h++)
    for (let w = 0; w < OW; w++)
      for (let c = 0; c < C; c++) {
        const ih = h - t;
        const iw = w - l;
        out.push(ih >= 0 && ih < H && iw >= 0 && iw < W ? x[(ih * W + iw) * C + c] : 0);
      }
  return out;
}

interface PadCase {
  rank: 1 | 2;
  shape: [number, number, number];
  pads: Pads;
}

/** Outputs of at most 256 values: the logits the target harness holds. */
function padCases(n: number, seed: number): PadCase[] {
  const rng = makeRng(seed);
  const draw = (rank: 1 | 2): PadCase => {
    const C = [1, 2, 3, 4, 5, 6, 7, 9][randInt(rng, 0, 7)];
    const side = (): [number, number] => [randInt(rng, 0, 3), randInt(rng, 0, 3)];
    return rank === 1
      ? { rank, shape: [1, randInt(rng, 1, 13), C], pads: [[0, 0], side()] }
      : { rank, shape: [randInt(rng, 1, 7), randInt(rng, 1, 7), C], pads: [side(), side()] };
  };
  const size = (c: PadCase) => bruteZeroPad(new Float32Array(sizeOf(c.shape)), c.shape, c.pads).length;
  return Array.from({ length: n }, (_, i) => {
    let c = draw(i % 2 ? 2 : 1);
    while (size(c) > 256) c = draw(c.rank);
    return c;
  });
}

/** Input [H*W, C] (-> Reshape [H, W, C] for 2D) -> the zero padding: its output is the logits. */
function padModel(c: PadCase, seed: number): CompressedModel {
  const [H, W, C] = c.shape;
  const b = new ModelBuilder(seed, [H * W, C]);
  const frac = b.current.frac;
  if (c.rank === 1) {
    const padding = c.pads[1];
    b.push(
      { ...b.base('zeropad1d', [W + padding[0] + padding[1], C]), kind: 'zeropad1d', padding, frac } as never,
      frac,
    );
  } else {
    b.reshape([H, W, C]);
    const [[t, bo], [l, r]] = c.pads;
    const out = [H + t + bo, W + l + r, C];
    b.push({ ...b.base('zeropad2d', out), kind: 'zeropad2d', padding: c.pads, frac } as never, frac);
  }
  return b.model({ test: 'zeropad', ...c });
}

const cases = padCases(40, 17);

function padLayer(c: PadCase): Layer {
  return (c.rank === 1
    ? { kind: 'zeropad1d', name: 'z', padding: c.pads[1] }
    : { kind: 'zeropad2d', name: 'z', padding: c.pads }) as unknown as Layer;
}

describe('Zero padding', () => {
  it('the integer reference is the brute-force definition (zero = int8 0, the format kept)', () => {
    cases.forEach((c, i) => {
      const m = padModel(c, 100 + i);
      const p = prepareReference(m);
      for (const x of windowsFor(m, i, 2))
        expect(Array.from(runPrepared(p, x).logits)).toEqual(bruteZeroPad(x, c.shape, c.pads));
    });
  });

  it('the float forward is tfjs (forward and model.json layer) and the definition', () => {
    const rng = makeRng(8);
    for (const c of cases) {
      const [H, W, C] = c.shape;
      const layer = padLayer(c);
      const graph = graphOf(
        [H * W, C],
        c.rank === 1 ? [layer] : [{ kind: 'reshape', name: 'r', targetShape: [H, W, C] }, layer],
      );
      const x = Float32Array.from({ length: H * W * C }, () => rng() * 2 - 1);
      const ours = floatForward({ graph, params: {} }, x).outputs.at(-1)!;
      expect(Array.from(ours)).toEqual(bruteZeroPad(x, c.shape, c.pads).map((v) => Math.fround(v)));
      tf.tidy(() => {
        const t = c.rank === 1 ? tf.tensor3d(x, [1, W, C]) : tf.tensor4d(x, [1, H, W, C]);
        const op = opOf(layer.kind);
        expect(Array.from(op.tfjs.forward(layer, [t], ctx).dataSync())).toEqual(Array.from(ours));
        expect(Array.from((op.tfjs.layer(layer).apply(t) as tf.Tensor).dataSync())).toEqual(Array.from(ours));
      });
    }
  });

  it('gradients pass back to the input positions only', () => {
    for (const c of cases.slice(0, 10)) {
      const [H, W, C] = c.shape;
      const layer = padLayer(c);
      const shape = c.rank === 1 ? [1, W, C] : [1, H, W, C];
      const w = tf.tensor(
        Float32Array.from(
          { length: bruteZeroPad(new Float32Array(H * W * C), c.shape, c.pads).length },
          (_, i) => i + 1,
        ),
      );
      const g = tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => opOf(layer.kind).tfjs.forward(layer, [t], ctx).flatten().mul(w).sum())(
            tf.zeros(shape),
          )
          .dataSync(),
      );
      // Each input position gets the weight of the output position it lands on.
      const positions = bruteZeroPad(
        Float32Array.from({ length: H * W * C }, (_, i) => i + 1),
        c.shape,
        c.pads,
      );
      const want = new Array<number>(H * W * C).fill(0);
      positions.forEach((v, o) => {
        if (v) want[v - 1] = o + 1;
      });
      expect(Array.from(g)).toEqual(want);
      w.dispose();
    }
  });

  it('maps Keras configs: an int, a pair, a pair of pairs', () => {
    const k = {
      unsupported: (_l: unknown, what: string): never => {
        throw new Error(what);
      },
      checkChannelsLast: () => {},
    } as unknown as KerasContext;
    const map = (className: string, kind: string, config: object) =>
      (
        opOf(kind).keras!.fromKeras({ className, name: 'z', config, inbound: [] }, k)
          .layers[0] as unknown as { padding: unknown }
      ).padding;
    expect(map('ZeroPadding1D', 'zeropad1d', { padding: 2 })).toEqual([2, 2]);
    expect(map('ZeroPadding1D', 'zeropad1d', { padding: [1, 3] })).toEqual([1, 3]);
    expect(map('ZeroPadding2D', 'zeropad2d', { padding: 1 })).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(map('ZeroPadding2D', 'zeropad2d', { padding: [1, 2] })).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(
      map('ZeroPadding2D', 'zeropad2d', {
        padding: [
          [0, 1],
          [2, 3],
        ],
      }),
    ).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(() =>
      map('ZeroPadding2D', 'zeropad2d', {
        padding: [
          [0, -1],
          [2, 3],
        ],
      }),
    ).toThrow(/padding/);
    const reshape = opOf('reshape').keras!.fromKeras(
      { className: 'Reshape', name: 'r', config: { target_shape: [-1, 3, 1] }, inbound: [] },
      k,
    );
    expect(reshape.layers).toEqual([{ kind: 'reshape', name: 'r', targetShape: [-1, 3, 1] }]);
  });
});

describe('Shapes through training, model.json and .tfm', () => {
  const { dataset, data } = syntheticData(6, 240, 60);
  const graph = archToGraph(
    {
      layers: [
        { type: 'conv1d', filters: 6, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
        { type: 'zeropad1d', padding: [1, 2] },
        { type: 'reshape', targetShape: [-1, 6, 1] },
        {
          type: 'zeropad2d',
          padding: [
            [0, 1],
            [1, 0],
          ],
        },
        { type: 'maxpool2d', poolSize: 2 },
        { type: 'reshape', targetShape: [-1, 3] },
        { type: 'flatten' },
        { type: 'dense', units: 'classes' },
      ],
    },
    { inputShape: [128, 9], classNames: dataset.classNames },
  );

  it('infers [64, 6] -> [67, 6] -> [67, 6, 1] -> [68, 7, 1] -> [34, 3, 1] -> [34, 3] -> [1, 102]', () => {
    expect(
      inferShapes(graph)
        .map((n) => n.outShape)
        .slice(0, 7),
    ).toEqual([
      [64, 6],
      [67, 6],
      [67, 6, 1],
      [68, 7, 1],
      [34, 3, 1],
      [34, 3],
      [1, 102],
    ]);
  });

  it('trains (gradients pass every shape layer to the convolution), and tfjs equals the float forward', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars).conv1d_1.kernel!.slice();
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    expect(Array.from(model.params.conv1d_1.kernel!)).not.toEqual(Array.from(before));
    const x = data.test.x.subarray(0, 128 * 9);
    const ours = floatForward(model, x).outputs.at(-1)!;
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 4);
    disposeVars(vars);
  });

  it('structured pruning passes zero padding and Flatten, and refuses to reshape pruned channels', () => {
    const g = archToGraph(
      {
        layers: [
          { type: 'conv1d', filters: 6, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
          { type: 'zeropad1d', padding: [1, 2] },
          { type: 'flatten' },
          { type: 'dense', units: 'classes' },
        ],
      },
      { inputShape: [128, 9], classNames: dataset.classNames },
    );
    const pruned = pruneFilters({ graph: g, params: initParams(g, 5) }, 0.5);
    expect(
      inferShapes(pruned.graph)
        .map((n) => n.outShape)
        .slice(0, 3),
    ).toEqual([
      [64, 3],
      [67, 3],
      [1, 201],
    ]);
    expect(pruned.params[g.layers[3].name].kernel!.length).toBe(201 * dataset.classNames.length);
    expect(() => pruneFilters({ graph, params: initParams(graph, 5) }, 0.5)).toThrow(
      /structured pruning cannot remove channels read by Reshape/,
    );
  });

  it('saves as ZeroPadding1D / Reshape / ZeroPadding2D / Flatten in model.json and imports back', async () => {
    const dir = join(tempDir(), 'shapes');
    await saveModelDir(dir, { graph, params: initParams(graph, 4) }, { normalization: data.normalization });
    expect(importTfjsLayersModel(join(dir, 'model.json')).graph.layers).toEqual(graph.layers);
  });

  it('compresses; the .tfm round trip keeps the model; the reference follows the float model', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 6, epochs: 2 });
    expect(q.layers.map((l) => l.kind)).toEqual(graph.layers.map((l) => l.kind));
    expect(decodeTfm(encodeTfm(q))).toEqual(q);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.1);
  });
});

/** Zero-padding cases, random models with Reshape / zero padding / Flatten, and mixtures. */
function cModels(): CompressedModel[] {
  const ms = cases.map((c, i) => padModel(c, 700 + i));
  for (let s = 0; s < 4; s++) {
    ms.push(randomOpModel(4000 + s, ['reshape', 'zeropad2d', 'maxpool2d', 'flatten']));
    ms.push(randomOpModel(4100 + s, ['zeropad1d', 'reshape', 'zeropad2d', 'gap2d']));
    ms.push(randomOpModel(4200 + s, ['reshape', 'reshape', 'zeropad1d', 'gmp1d']));
  }
  return ms;
}

describe('Shape layers generated C', () => {
  it('draws both ranks, row lengths that are not whole words, rows of zeros', () => {
    const seen = new Set<string>();
    for (const m of cModels())
      for (const l of buildView(m).view.layers) {
        seen.add(l.kind);
        if (!l.kind.startsWith('zeropad')) continue;
        const v = l as unknown as Record<string, number>;
        seen.add(`row mod 4 = ${(v.W * v.C) % 4}`);
        if (v.top + v.bottom > 0) seen.add('zero rows');
      }
    for (const w of ['reshape', 'flatten', 'zeropad1d', 'zeropad2d', 'zero rows']) expect(seen).toContain(w);
    for (const r of [0, 1, 2, 3]) expect(seen).toContain(`row mod 4 = ${r}`);
  });

  bitExactSuite('shapes', cModels);
});
