// Add and Concatenate: a residual graph trains in tfjs (the gradient reaches both branches), tfjs and
// the plain TS float forward agree, the Keras mapping round-trips, the integer reference matches a
// brute-force definition (each input rounded onto the output grid, summed, saturated) and the float
// sum within the rounding, and random merge models are bit-exact between the host reference, host C
// (gcc, clang) and QEMU, with every rescaling shift 0..31 and saturating sums. Add on the Cortex-M4
// stays within 4 instructions per element.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { initBackend } from '../../src/train/backend.js';
import { fit } from '../../src/train/fit.js';
import { createVars, disposeVars, forward, initParams, readParams } from '../../src/train/forward.js';
import { opOf } from '../../src/ops/registry.js';
import { generateC } from '../../src/codegen/index.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { QMerge } from '../../src/ops/merge.js';
import type { QConcat } from '../../src/ops/concat.js';
import type { KerasContext } from '../../src/ops/types.js';
import { tempDir } from '../helpers/temp.js';
import { checkModel } from '../../src/qmodel/check.js';
import { ModelBuilder as RandomBuilder } from '../helpers/randomOps/builder.js';
import { add as addGenerator } from '../helpers/randomOps/add.js';
import { concat as concatGenerator } from '../helpers/randomOps/concat.js';
import {
  expectHostBitExact,
  expectTargetBitExact,
  makeRng,
  ModelBuilder,
  randInt,
  windows,
  type Tensor,
} from './opModels.js';
import { syntheticData, trainAndCompress } from '../helpers/trainCompress.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const { dataset, data } = syntheticData(7, 240, 120);
/** A residual block (Add of a conv and its input branch) and a Concatenate of two branches. */
const graph = archToGraph(
  {
    layers: [
      { type: 'conv1d', name: 'stem', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'conv1d', name: 'branch', filters: 6, kernelSize: 3, padding: 'same' },
      { type: 'add', name: 'residual', inputs: ['stem', 'branch'] },
      { type: 'conv1d', name: 'side', filters: 3, kernelSize: 1, padding: 'same' },
      { type: 'concat', name: 'joined', inputs: ['residual', 'side'] },
      { type: 'gap1d' },
      { type: 'dense', units: 'classes' },
    ],
  },
  { inputShape: [128, 9], classNames: dataset.classNames },
);

describe('Add and Concatenate in tfjs and the float forward', () => {
  it('a residual graph trains (both Add inputs get gradients), and tfjs == float forward', async () => {
    const vars = createVars({ graph, params: initParams(graph, 3) });
    const before = readParams(vars);
    const stem = before.stem.kernel!.slice();
    const branch = before.branch.kernel!.slice();
    const side = before.side.kernel!.slice();
    await fit(graph, vars, data.train, { epochs: 1, batchSize: 32, lr: 0.01, seed: 3, progress: 'none' });
    const model = { graph, params: readParams(vars) };
    expect(Array.from(model.params.stem.kernel!)).not.toEqual(Array.from(stem));
    expect(Array.from(model.params.branch.kernel!)).not.toEqual(Array.from(branch));
    // Concatenate passes gradients to the branch that only it reads.
    expect(Array.from(model.params.side.kernel!)).not.toEqual(Array.from(side));
    const x = data.test.x.subarray(0, 128 * 9);
    const trace = floatForward(model, x).outputs;
    const n = graph.layers.length;
    const theirs = tf.tidy(() =>
      forward(graph, vars, tf.tensor3d(x, [1, 128, 9]), { logits: true }).dataSync(),
    );
    const ours = trace[n - 1];
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i], 4);
    // The merges themselves, against their definitions on the traced inputs.
    const [stemOut, branchOut, added, sideOut, joined] = trace;
    for (let i = 0; i < added.length; i++) expect(added[i]).toBeCloseTo(stemOut[i] + branchOut[i], 5);
    for (let t = 0; t < 128; t++)
      for (let c = 0; c < 9; c++)
        expect(joined[t * 9 + c]).toBe(c < 6 ? added[t * 6 + c] : sideOut[t * 3 + c - 6]);
    disposeVars(vars);
  });

  it('the tfjs layers are Keras Add / Concatenate and map back to the same IR layers', () => {
    const k = {
      unsupported: (_l: unknown, what: string) => {
        throw new Error(what);
      },
    } as unknown as KerasContext;
    for (const layer of graph.layers.filter((l) => l.kind === 'add' || l.kind === 'concat')) {
      const op = opOf(layer.kind);
      const t = op.tfjs.layer(layer);
      const cls = t.getClassName();
      expect(op.keras!.classNames).toContain(cls);
      const back = op.keras!.fromKeras(
        { className: cls, name: layer.name, config: t.getConfig(), inbound: [...layer.inputs!] },
        k,
      );
      expect(back.layers).toEqual([layer]);
    }
    // Concatenate on another axis is refused.
    expect(() =>
      opOf('concat').keras!.fromKeras(
        { className: 'Concatenate', name: 'c', config: { axis: 1 }, inbound: ['a', 'b'] },
        k,
      ),
    ).toThrow(/axis 1/);
  });

  it('shape inference refuses mismatched inputs', () => {
    const bad = (inputs: string[], type: string) => () =>
      archToGraph(
        {
          layers: [
            { type: 'conv1d', name: 'a', filters: 4, kernelSize: 3, padding: 'same' },
            { type: 'conv1d', name: 'b', filters: 5, kernelSize: 3, padding: 'valid' },
            { type, name: 'm', inputs },
            { type: 'gap1d' },
            { type: 'dense', units: 'classes' },
          ],
        },
        { inputShape: [16, 3], classNames: ['x', 'y'] },
      );
    expect(bad(['a', 'b'], 'add')).toThrow(/do not agree/);
    expect(bad(['a', 'b'], 'concat')).toThrow(/do not agree outside the channels/);
  });

  it('compresses: the Add output format is the calibrated one, at most the coarsest input', async () => {
    const { q, report } = await trainAndCompress(graph, data, { seed: 5, epochs: 2 });
    const add = q.layers.find((l) => l.kind === 'add') as QMerge;
    const cat = q.layers.find((l) => l.kind === 'concat') as QConcat;
    expect(add.outFrac).toBeLessThanOrEqual(Math.min(...add.inFracs));
    expect(cat.outFrac).toBeLessThanOrEqual(Math.min(...cat.inFracs));
    expect(cat.channels).toEqual([6, 3]);
    expect(report.fixedAccuracy).toBeGreaterThan(report.floatAccuracy - 0.08);
    // The compiled model plans the Add over its first input when that input is dead afterwards.
    const { plan } = generateC(q);
    expect(plan.arenaBytes).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Integer semantics, brute force.

/** The definition spelled out in floats: each input onto the output grid (round half up), summed, clamped. */
function bruteAdd(xs: number[], fracs: number[], outFrac: number): number {
  let s = 0;
  for (let k = 0; k < xs.length; k++) s += Math.floor(xs[k] * 2 ** (outFrac - fracs[k]) + 0.5);
  return Math.max(-128, Math.min(127, s));
}

/** Random models around Add and Concatenate: branches in different formats, merged. */
function randomMergeModel(seed: number, shifts?: [number, number]): CompressedModel {
  const rng = makeRng(seed);
  const T = randInt(rng, 2, 9);
  const C = randInt(rng, 1, 6);
  const b = new ModelBuilder([T, C], randInt(rng, 2, 6));
  const outFracFor = (xs: Tensor[]): number => {
    const lo = Math.min(...xs.map((x) => x.frac));
    const room = 31 - (Math.max(...xs.map((x) => x.frac)) - lo);
    return lo - (rng() < 0.2 ? randInt(rng, 0, room) : randInt(rng, 0, Math.min(2, room)));
  };
  if (shifts) {
    // Two table activations of the input in formats that give exactly these shifts.
    const fo = randInt(rng, -4, 2);
    const a = b.lut('tanh', b.input, fo + shifts[0]);
    const c = b.lut('sigmoid', b.input, fo + shifts[1]);
    return b.finish(b.add([a, c], fo), seed);
  }
  const F = rng() < 0.3 ? C : randInt(rng, 1, 9);
  const a = b.conv(rng, b.input, F);
  const c = b.conv(rng, b.input, F);
  let s = b.add([a, c], outFracFor([a, c]));
  if (F === C) s = b.add([s, b.input], outFracFor([s, b.input]));
  if (rng() < 0.5) s = b.add([s, a, c], outFracFor([s, a, c]));
  const parts = [s, b.input, a].filter(() => rng() < 0.8);
  if (parts.length < 2) parts.push(s, c);
  const cat = b.concat(parts, outFracFor(parts));
  return b.finish(rng() < 0.5 ? cat : b.relu(cat), seed);
}

const SHIFT_MODELS = Array.from({ length: 32 }, (_, s) => randomMergeModel(500 + s, [s, (s * 7 + 3) % 32]));
const RANDOM_MODELS = Array.from({ length: 24 }, (_, i) => randomMergeModel(i + 1));
/** Models from the random-model generators (test/helpers/randomOps), merges over merges. */
function generated(seed: number): CompressedModel {
  const b = new RandomBuilder(seed, [randInt(makeRng(seed), 2, 8), randInt(makeRng(seed + 1), 1, 5)]);
  const n = b.int(1, 4);
  for (let i = 0; i < n; i++) b.pick([addGenerator, concatGenerator]).add(b);
  b.flatten();
  const m = b.model({ generator: 'randomOps', seed });
  checkModel(m);
  return m;
}

const GENERATED = Array.from({ length: 12 }, (_, i) => generated(700 + i));
const MODELS = [...RANDOM_MODELS, ...SHIFT_MODELS, ...GENERATED];
const INPUTS = MODELS.map((m, i) => windows(m, 900 + i));

describe('the integer Add and Concatenate', () => {
  it('the models exercise every shift 0..31, 2 and 3 inputs, saturation and the model input as an operand', () => {
    const shifts = new Set<number>();
    const arity = new Set<number>();
    let saturated = 0;
    let withInput = 0;
    MODELS.forEach((m, i) => {
      const p = prepareReference(m);
      for (const l of m.layers) {
        if (l.kind !== 'add' && l.kind !== 'concat') continue;
        const q = l as QMerge;
        q.inFracs.forEach((f) => shifts.add(f - q.outFrac));
        arity.add(q.inFracs.length);
        if (q.inputs!.includes('<input>')) withInput++;
      }
      for (const w of INPUTS[i]) {
        const outs = runPrepared(p, w, { keepLayerOutputs: true }).layerOutputs!;
        m.layers.forEach((l, j) => {
          if (l.kind === 'add' && outs[j].some((v) => v === 127 || v === -128)) saturated++;
        });
      }
    });
    for (let sh = 0; sh <= 31; sh++) expect(shifts.has(sh), `shift ${sh}`).toBe(true);
    expect([...arity].sort()).toEqual([2, 3]);
    expect(saturated).toBeGreaterThan(20);
    expect(withInput).toBeGreaterThan(3);
    // Some Adds run in place over their first input (the planner found it dead), some cannot.
    const inPlace = MODELS.map((m) => {
      const { plan } = generateC(m);
      return m.layers.filter((l, j) => l.kind === 'add' && plan.steps[j].aliased).length;
    });
    expect(inPlace.filter((n) => n > 0).length).toBeGreaterThan(5);
    expect(inPlace.filter((n) => n === 0).length).toBeGreaterThan(0);
  });

  it('the reference equals the brute-force definition, and the float sum within the roundings', () => {
    MODELS.forEach((m, i) => {
      const p = prepareReference(m);
      const names = m.layers.map((l) => l.name);
      for (const w of INPUTS[i]) {
        const outs = runPrepared(p, w, { keepLayerOutputs: true }).layerOutputs!;
        const tensor = (name: string) => (name === '<input>' ? w : outs[names.indexOf(name)]);
        m.layers.forEach((l, j) => {
          if (l.kind === 'add') {
            const q = l as QMerge;
            const xs = q.inputs!.map(tensor);
            for (let e = 0; e < outs[j].length; e++) {
              const vals = xs.map((x) => x[e]);
              const y = outs[j][e];
              expect(y).toBe(bruteAdd(vals, q.inFracs, q.outFrac));
              const exact = vals.reduce((s, v, k) => s + v * 2 ** -q.inFracs[k], 0) * 2 ** q.outFrac;
              if (y > -128 && y < 127) expect(Math.abs(y - exact)).toBeLessThanOrEqual(vals.length / 2);
            }
          } else if (l.kind === 'concat') {
            const q = l as QConcat;
            const xs = q.inputs!.map(tensor);
            const C = q.channels.reduce((a, b) => a + b, 0);
            for (let e = 0; e < outs[j].length; e++) {
              const pos = Math.floor(e / C);
              let c = e % C;
              let k = 0;
              while (c >= q.channels[k]) c -= q.channels[k++];
              const v = xs[k][pos * q.channels[k] + c];
              expect(outs[j][e]).toBe(bruteAdd([v], [q.inFracs[k]], q.outFrac));
            }
          }
        });
      }
    });
  });
});

describe('generated C == host reference', () => {
  const dir = tempDir('tf-merge-');
  it(`host gcc and clang -O2: ${MODELS.length} models`, async () => {
    await expectHostBitExact(dir, MODELS, INPUTS);
  }, 600_000);

  it('QEMU (Cortex-M4, DSP path), and Add <= 4 instructions per element', async () => {
    // A wide Add with equal formats and one with shifts, to measure per-element cost.
    const wide = (sa: number, sb: number, seed: number): CompressedModel => {
      const b = new ModelBuilder([32, 8], 4);
      const a = b.lut('tanh', b.input, 3 + sa);
      const c = b.lut('sigmoid', b.input, 3 + sb);
      return b.finish(b.add([a, c], 3), seed);
    };
    const perf = [wide(0, 0, 1), wide(1, 2, 2)];
    const models = [...MODELS, ...perf];
    const inputs = [...INPUTS, ...perf.map((m, i) => windows(m, 77 + i, 2))];
    const layers = await expectTargetBitExact(dir, models, inputs);
    perf.forEach((m, i) => {
      const at = m.layers.findIndex((l) => l.kind === 'add');
      const perElement = layers[MODELS.length + i][at] / (32 * 8);
      console.log(
        `Add [32, 8] shifts ${i === 0 ? '0, 0' : '1, 2'}: ${perElement.toFixed(2)} instructions per element`,
      );
      expect(perElement).toBeLessThanOrEqual(4);
    });
  }, 600_000);
});
