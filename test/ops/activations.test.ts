// The activation layers: clipped ReLU (ReLU6), LeakyReLU and the table activations sigmoid, tanh and
// hard-swish. They train in tfjs (the gradient reaches the conv before them), tfjs and the plain TS
// float forward agree, a model with all of them round-trips through model.json, the Keras forms map
// onto them, the integer reference matches brute-force definitions (the tables within half an LSB of
// the float function), the generated C embeds exactly the table the reference uses (checked by its
// FNV-1a hash), and random layers are bit-exact between host reference, host C and QEMU.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { opOf } from '../../src/ops/registry.js';
import { generateC } from '../../src/codegen/index.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { lutHash, lutTable, type QLut } from '../../src/ops/lut.js';
import { sigmoidFn } from '../../src/ops/sigmoid.js';
import { hardSwishFn } from '../../src/ops/hardswish.js';
import { leakyFn, type QLeakyReLU } from '../../src/ops/leakyrelu.js';
import type { QClippedReLU } from '../../src/ops/clippedrelu.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { KerasContext } from '../../src/ops/types.js';
import { tempDir } from '../helpers/temp.js';
import { checkModel } from '../../src/qmodel/check.js';
import { ModelBuilder as RandomBuilder } from '../helpers/randomOps/builder.js';
import { sigmoid as sigmoidGenerator } from '../helpers/randomOps/sigmoid.js';
import { tanh as tanhGenerator } from '../helpers/randomOps/tanh.js';
import { hardswish as hardswishGenerator } from '../helpers/randomOps/hardswish.js';
import { leakyrelu as leakyreluGenerator } from '../helpers/randomOps/leakyrelu.js';
import { clippedrelu as clippedreluGenerator } from '../helpers/randomOps/clippedrelu.js';
import {
  expectHostBitExact,
  expectTargetBitExact,
  makeRng,
  ModelBuilder,
  pick,
  randInt,
  windows,
  type Tensor,
} from './opModels.js';
import { syntheticData, trainAndCompress } from '../helpers/trainCompress.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const { dataset, data } = syntheticData(9, 240, 120);
const ACTS = [
  { type: 'clippedrelu', maxValue: 2.5 },
  { type: 'leakyrelu', alpha: 0.1 },
  { type: 'sigmoid' },
  { type: 'tanh' },
  { type: 'hardswish' },
] as const;
/** One conv before each activation, so that each activation's gradient can be seen at a conv. */
const graph = archToGraph(
  {
    layers: [
      ...ACTS.flatMap((a, i) => [
        { type: 'conv1d' as const, name: `conv${i}`, filters: 6, kernelSize: 3, padding: 'same' as const },
        { ...a, name: `act${i}` },
      ]),
      { type: 'gap1d' },
      { type: 'dense', units: 'classes' },
    ],
  },
  { inputShape: [128, 9], classNames: dataset.classNames },
);

const FLOAT: Record<string, (x: number) => number> = {
  clippedrelu: (x) => Math.min(Math.max(x, 0), 2.5),
  leakyrelu: (x) => (x >= 0 ? x : 0.1 * x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  hardswish: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
};

describe('activations in tfjs and the float forward', () => {
  it('train (every conv before an activation moves), and tfjs == float forward == the definitions', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars);
    const kernels = ACTS.map((_a, i) => before[`conv${i}`].kernel!.slice());
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    ACTS.forEach((a, i) =>
      expect(Array.from(model.params[`conv${i}`].kernel!), a.type).not.toEqual(Array.from(kernels[i])),
    );
    const x = data.test.x.subarray(0, 128 * 9);
    const trace = floatForward(model, x).outputs;
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    const ours = trace[trace.length - 1];
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 4);
    ACTS.forEach((a, i) => {
      const [pre, post] = [trace[2 * i], trace[2 * i + 1]];
      for (let e = 0; e < pre.length; e++) expect(post[e], a.type).toBeCloseTo(FLOAT[a.type](pre[e]), 5);
    });
    disposeVars(vars);
  });

  it('a model with every activation saves as model.json and loads back with its attributes', async () => {
    const dir = join(tempDir(), 'acts');
    const model = { graph, params: initParams(graph, 4) };
    await saveModelDir(dir, model, { normalization: data.normalization });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const classes = (json.modelTopology.config ?? json.modelTopology.model_config.config).layers.map(
      (l: { class_name: string }) => l.class_name,
    );
    expect(classes).toContain('LeakyReLU');
    expect(classes).toContain('ReLU');
    expect(classes.filter((c: string) => c === 'Activation')).toHaveLength(3);
    const loaded = loadModelDir(dir);
    expect(loaded.model.graph.layers.map(({ inputs: _i, ...l }) => l)).toEqual(
      graph.layers.map(({ inputs: _i, ...l }) => l),
    );
  });

  it('Keras ReLU(max_value), ReLU(negative_slope), LeakyReLU(alpha | negative_slope) map onto them', () => {
    const k = {
      unsupported: (_l: unknown, what: string) => {
        throw new Error(what);
      },
    } as unknown as KerasContext;
    const map = (className: string, config: object) =>
      opOf(className === 'LeakyReLU' ? 'leakyrelu' : 'relu').keras!.fromKeras(
        { className, name: 'a', config, inbound: [] },
        k,
      ).layers;
    expect(map('ReLU', { max_value: 6 })).toEqual([{ kind: 'clippedrelu', name: 'a', maxValue: 6 }]);
    expect(map('ReLU', { negative_slope: 0.25 })).toEqual([{ kind: 'leakyrelu', name: 'a', alpha: 0.25 }]);
    expect(map('ReLU', {})).toEqual([{ kind: 'relu', name: 'a' }]);
    expect(() => map('ReLU', { max_value: 6, negative_slope: 0.1 })).toThrow(/together/);
    expect(map('LeakyReLU', { alpha: 0.3 })).toEqual([{ kind: 'leakyrelu', name: 'a', alpha: 0.3 }]);
    expect(map('LeakyReLU', { negative_slope: 0.05 })).toEqual([
      { kind: 'leakyrelu', name: 'a', alpha: 0.05 },
    ]);
    const names = ['clippedrelu', 'leakyrelu', 'sigmoid', 'tanh', 'hardswish'].map(
      (kind) => opOf(kind).keras!.activationName,
    );
    expect(names).toEqual(['relu6', 'leaky_relu', 'sigmoid', 'tanh', 'hard_silu']);
    // An Activation('relu6') entry without attributes is ReLU6.
    expect(opOf('clippedrelu').arch.toLayer({}, { name: 'r', classes: 2 })).toEqual({
      kind: 'clippedrelu',
      name: 'r',
      maxValue: 6,
    });
  });

  it('compress: table activations get the calibrated format, the others keep their input format', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 6, epochs: 2 });
    const byKind = (kind: string) => q.layers.find((l) => l.kind === kind)!;
    expect((byKind('leakyrelu') as QLeakyReLU).outFrac).toBe((byKind('leakyrelu') as QLeakyReLU).inFrac);
    // Sigmoid's outputs lie in (0, 1): at least 6 fractional bits.
    expect((byKind('sigmoid') as QLut).outFrac).toBeGreaterThanOrEqual(6);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.08);
  });
});

// ---------------------------------------------------------------------------------------------
// Integer semantics.

const FN: Record<string, (q: QLut) => (x: number) => number> = {
  sigmoid: () => sigmoidFn,
  tanh: () => Math.tanh,
  hardswish: () => hardSwishFn,
  leakyrelu: (q) => leakyFn((q as QLeakyReLU).alpha),
};

describe('the tables', () => {
  it('are within half an LSB of the float function (or saturated on the right side), at many formats', () => {
    let checked = 0;
    for (const [kind, fnOf] of Object.entries(FN))
      for (let inFrac = -3; inFrac <= 10; inFrac++)
        for (let outFrac = -2; outFrac <= 12; outFrac++) {
          const f = fnOf({ alpha: 0.3 } as unknown as QLut);
          const t = lutTable(f, inFrac, outFrac);
          for (let x = -128; x <= 127; x++) {
            const want = f(x * 2 ** -inFrac) * 2 ** outFrac;
            const y = t[x & 255];
            if (want >= 127) expect(y, `${kind} ${x}`).toBe(127);
            else if (want <= -128) expect(y, `${kind} ${x}`).toBe(-128);
            else
              expect(Math.abs(y - want), `${kind}(${x}) at ${inFrac} -> ${outFrac}`).toBeLessThanOrEqual(0.5);
            checked++;
          }
        }
    expect(checked).toBe(4 * 14 * 15 * 256);
  });
});

/** Random chains of activations over branches in new formats; some read the model input directly. */
function randomActivationModel(seed: number): CompressedModel {
  const rng = makeRng(seed);
  const T = randInt(rng, 2, 10);
  const C = randInt(rng, 1, 6);
  const b = new ModelBuilder([T, C], randInt(rng, 1, 6));
  let x: Tensor = rng() < 0.3 ? b.input : b.conv(rng, b.input, randInt(rng, 1, 9));
  const n = randInt(rng, 2, 5);
  for (let i = 0; i < n; i++) {
    const kind = pick(rng, ['clippedrelu', 'leakyrelu', 'sigmoid', 'tanh', 'hardswish'] as const);
    if (kind === 'clippedrelu') x = b.clipped(x, pick(rng, [6, 1, 0.4, 3.3, 40]));
    else if (kind === 'leakyrelu') x = b.leaky(x, pick(rng, [0.01, 0.1, 0.3, 0.5, 1.5, -0.5]));
    else x = b.lut(kind, x, randInt(rng, -2, 12));
  }
  return b.finish(x, seed);
}

/** Models from the random-model generators (test/helpers/randomOps). */
function generated(seed: number): CompressedModel {
  const b = new RandomBuilder(seed, [randInt(makeRng(seed), 2, 8), randInt(makeRng(seed + 1), 1, 5)]);
  const gens = [
    sigmoidGenerator,
    tanhGenerator,
    hardswishGenerator,
    leakyreluGenerator,
    clippedreluGenerator,
  ];
  const n = b.int(2, 5);
  for (let i = 0; i < n; i++) b.pick(gens).add(b);
  b.flatten();
  const m = b.model({ generator: 'randomOps', seed });
  checkModel(m);
  return m;
}

const MODELS = [
  ...Array.from({ length: 40 }, (_, i) => randomActivationModel(i + 1)),
  ...Array.from({ length: 12 }, (_, i) => generated(800 + i)),
];
const INPUTS = MODELS.map((m, i) => windows(m, 300 + i));

describe('the integer activations', () => {
  it('the reference equals brute-force definitions on every layer', () => {
    const kinds = new Set<string>();
    MODELS.forEach((m, i) => {
      const p = prepareReference(m);
      for (const w of INPUTS[i]) {
        const outs = runPrepared(p, w, { keepLayerOutputs: true }).layerOutputs!;
        m.layers.forEach((l, j) => {
          if (l.kind === 'conv1d') return;
          const x = j === 0 ? w : outs[j - 1];
          kinds.add(l.kind);
          for (let e = 0; e < x.length; e++) {
            let want: number;
            if (l.kind === 'clippedrelu') {
              const q = l as QClippedReLU;
              want = Math.max(0, Math.min(x[e], Math.min(127, Math.floor(q.maxValue * 2 ** q.frac + 0.5))));
            } else if (l.kind === 'flatten') {
              want = x[e];
            } else {
              const q = l as QLut;
              const v = FN[l.kind](q)(x[e] * 2 ** -q.inFrac) * 2 ** q.outFrac;
              want = Math.max(-128, Math.min(127, Math.floor(v + 0.5)));
            }
            expect(outs[j][e], `${l.kind} of ${x[e]}`).toBe(want);
          }
        });
      }
    });
    expect([...kinds].sort()).toEqual([
      'clippedrelu',
      'flatten',
      'hardswish',
      'leakyrelu',
      'sigmoid',
      'tanh',
    ]);
  });

  it('the generated C embeds the very table the reference uses (FNV-1a of the parsed C array)', () => {
    let tables = 0;
    for (const m of MODELS.slice(0, 8)) {
      const src = generateC(m).files.find((f) => f.name === 'model.c')!.content;
      for (const l of m.layers) {
        if (!(l.kind in FN)) continue;
        const q = l as QLut;
        const ident = src.match(
          new RegExp(
            `Layer \\d+ '${l.name}'[\\s\\S]*?FNV-1a ([0-9a-f]{8})[\\s\\S]*?tf_lut_(\\w+)\\[256\\][^{]*\\{([^}]*)\\}`,
          ),
        );
        expect(ident, l.name).not.toBeNull();
        const parsed = Int8Array.from(ident![3].split(',').map((v) => Number(v.trim())));
        const table = lutTable(FN[l.kind](q), q.inFrac, q.outFrac);
        expect(Array.from(parsed)).toEqual(Array.from(table));
        expect(ident![1]).toBe(lutHash(parsed));
        tables++;
      }
    }
    expect(tables).toBeGreaterThan(5);
  });
});

describe('generated C == host reference', () => {
  const dir = tempDir('tf-acts-');
  it(`host gcc and clang -O2: ${MODELS.length} models`, async () => {
    await expectHostBitExact(dir, MODELS, INPUTS);
  }, 600_000);

  it('QEMU (Cortex-M4, DSP path)', async () => {
    await expectTargetBitExact(dir, MODELS, INPUTS);
  }, 600_000);
});
