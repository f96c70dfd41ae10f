import { describe, expect, it } from 'vitest';
import { decodeWeights, encodeWeights } from '../../src/qmodel/coding/weights.js';
import { CODINGS, type CompressedModel } from '../../src/qmodel/model.js';
import { wFracOf } from '../../src/ops/weighted.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import { quantizeInput } from '../../src/fixedpoint/semantics.js';
import { checkModel } from '../../src/qmodel/check.js';
import { quantizeWindow } from '../../src/reference/input.js';
import {
  prepareReference,
  runPrepared,
  runReference,
  runReferenceBatch,
} from '../../src/reference/interpreter.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { KNOWN_Q_KINDS, isConv, isPool, isWeighted, known, type AnyQLayer } from '../helpers/layers.js';

/**
 * Float forward of one layer on the int8 input the reference gave it, in real units: the
 * dequantized weights, biases and inputs, no rounding. Returns values in the output's int8 units.
 */
function floatLayer(l: AnyQLayer, x: Int8Array, inFrac: number, weights: Int8Array): number[] {
  const xf = [...x].map((v) => v * 2 ** -inFrac);
  const [T, C] = l.inShape;
  const [L, F] = l.outShape;
  const out = new Array<number>(L * F).fill(0);
  const at = (t: number, c: number): number | undefined => (t >= 0 && t < T ? xf[t * C + c] : undefined);
  switch (l.kind) {
    case 'conv1d':
    case 'dense': {
      const rowLength = l.weights.rowLength;
      const k = l.kind === 'conv1d' ? l.kernelSize : 1;
      const stride = l.kind === 'conv1d' ? l.stride : 1;
      const pad = l.kind === 'conv1d' ? l.padLeft : 0;
      for (let o = 0; o < F; o++) {
        const wf = wFracOf(l, o);
        for (let t = 0; t < L; t++) {
          let y = l.bias[o] * 2 ** -(inFrac + wf);
          for (let i = 0; i < rowLength; i++) {
            const w = weights[o * rowLength + i] * 2 ** -wf;
            const v = l.kind === 'dense' ? xf[i] : at(t * stride - pad + Math.floor(i / C), i % C);
            y += (v ?? 0) * w;
          }
          if (l.relu) y = Math.max(0, y);
          out[t * F + o] = y * 2 ** l.outFrac;
        }
      }
      void k;
      return out;
    }
    case 'maxpool1d':
    case 'avgpool1d':
      for (let t = 0; t < L; t++)
        for (let c = 0; c < C; c++) {
          const win = Array.from({ length: l.poolSize }, (_, j) =>
            at(t * l.stride - l.padLeft + j, c),
          ).filter((v): v is number => v !== undefined);
          const y = l.kind === 'maxpool1d' ? Math.max(...win) : win.reduce((s, v) => s + v, 0) / win.length;
          out[t * C + c] = y * 2 ** l.frac;
        }
      return out;
    case 'gap1d':
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += xf[t * C + c];
        out[c] = (s / T) * 2 ** l.frac;
      }
      return out;
    case 'gmp1d':
      for (let c = 0; c < C; c++) {
        let m = -Infinity;
        for (let t = 0; t < T; t++) m = Math.max(m, xf[t * C + c]);
        out[c] = m * 2 ** l.frac;
      }
      return out;
    case 'flatten':
      return xf.map((v) => v * 2 ** l.frac);
    case 'relu':
      return xf.map((v) => Math.max(0, v) * 2 ** l.frac);
  }
}

describe('reference interpreter on random models', () => {
  it('agrees with a float computation of every layer to within rounding (0.5 LSB) unless saturated', () => {
    let compared = 0;
    let saturated = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const m = randomModel(seed);
      const p = prepareReference(m);
      const r = runPrepared(p, randomInput(m, seed), { keepLayerOutputs: true });
      // Each layer reads the previous layer's output, or the one its `inputs` names.
      const outputs = new Map<string, { x: Int8Array; frac: number }>();
      let prev = { x: randomInput(m, seed), frac: m.inputFrac };
      m.layers.forEach((l, i) => {
        const { x, frac } = l.inputs ? outputs.get(l.inputs[0])! : prev;
        const want = floatLayer(known(l), x, frac, p.weights[i]);
        const got = r.layerOutputs![i];
        want.forEach((f, j) => {
          if (f > 127.5 || f < -128.5) {
            expect(got[j]).toBe(f > 0 ? 127 : -128);
            saturated++;
          } else {
            expect(Math.abs(got[j] - f)).toBeLessThanOrEqual(0.5 + 1e-9);
            compared++;
          }
        });
        const k = known(l);
        prev = { x: got, frac: k.kind === 'conv1d' || k.kind === 'dense' ? k.outFrac : k.frac };
        outputs.set(l.name, prev);
      });
    }
    // The generator's formats should keep most values in range.
    expect(compared).toBeGreaterThan(10 * saturated);
  });

  it('gives the same result for every coding of the same weights', () => {
    const m = randomModel(5, { codings: ['packed'] });
    const x = randomInput(m, 5);
    const want = runReference(m, x).logits;
    for (const coding of CODINGS) {
      const recoded: CompressedModel = {
        ...m,
        layers: m.layers.map((l) => {
          if (!isWeighted(l)) return l;
          const w = l.weights;
          return {
            ...l,
            weights: encodeWeights(decodeWeights(w).values, w.rows, w.rowLength, w.bits, coding),
          };
        }),
      };
      expect(runReference(recoded, x).logits).toEqual(want);
    }
  });

  it('batch results equal single-window results', () => {
    const m = randomModel(9);
    const [T, C] = m.inputShape;
    const n = 7;
    const inputs = new Int8Array(n * T * C);
    for (let i = 0; i < n; i++) inputs.set(randomInput(m, 100 + i), i * T * C);
    const progress: number[] = [];
    const b = runReferenceBatch(m, inputs, n, { onProgress: (d) => progress.push(d) });
    const classes = m.classNames.length;
    for (let i = 0; i < n; i++) {
      const r = runReference(m, inputs.subarray(i * T * C, (i + 1) * T * C));
      expect(b.logits.subarray(i * classes, (i + 1) * classes)).toEqual(r.logits);
      expect(b.classIndex[i]).toBe(r.classIndex);
    }
    expect(progress[progress.length - 1]).toBe(n);
    expect(b.corrupt).toBe(false);
  });

  it('reports a damaged bitstream as corrupt and still runs', () => {
    const m = randomModel(3, { codings: ['huffman'] });
    const first = m.layers.find(isConv);
    if (!first) throw new Error('randomModel puts a conv1d first');
    const damaged: CompressedModel = {
      ...m,
      layers: m.layers.map((l) =>
        l === first
          ? { ...first, weights: { ...first.weights, bitstream: first.weights.bitstream.slice(0, 1) } }
          : l,
      ),
    };
    const x = randomInput(m, 3);
    expect(runReference(m, x).corrupt).toBe(false);
    // checkModel refuses it; unchecked, the decoder reads zeros past the end and says so.
    expect(() => runReference(damaged, x)).toThrow(/the bitstream has 1 bytes/);
    const r = runReference(damaged, x, { skipCheck: true });
    expect(r.corrupt).toBe(true);
    expect(r.logits.length).toBe(m.classNames.length);
  });

  it('rejects an input of the wrong size', () => {
    const m = randomModel(4);
    expect(() => runReference(m, new Int8Array(3))).toThrow(/expected 1 window/);
  });
});

describe('random model generator', () => {
  it('covers every layer kind, stride, padding, width and coding over a few seeds', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const m = randomModel(seed);
      expect(randomModel(seed)).toEqual(m); // deterministic
      for (const l of m.layers) {
        seen.add(l.kind);
        if (isConv(l)) seen.add(`conv stride ${l.stride} ${l.padding}`);
        if (isPool(l)) seen.add(`pool ${l.padding}`);
        if (isWeighted(l)) {
          seen.add(`bits ${l.weights.bits}`);
          seen.add(l.weights.coding);
          seen.add(l.wFrac.length === 1 ? 'per-layer' : 'per-channel');
        }
      }
      if (m.inputShape[0] % 2 === 1) seen.add('odd length');
      if (m.layers.some((l) => l.inputs)) seen.add('branch');
    }
    const want = [
      ...KNOWN_Q_KINDS,
      'branch',
      'conv stride 1 same',
      'conv stride 1 valid',
      'conv stride 2 same',
      'conv stride 2 valid',
      'pool same',
      'pool valid',
      'per-layer',
      'per-channel',
      'odd length',
      ...CODINGS,
      ...[2, 3, 4, 5, 6, 7, 8].map((b) => `bits ${b}`),
    ];
    expect(want.filter((w) => !seen.has(w))).toEqual([]);
  });
});

describe('checkModel', () => {
  const base = randomModel(2);
  const conv = base.layers.find(isConv)!;
  const convIdx = base.layers.indexOf(conv);
  const withConv = (patch: Partial<QConv1D>): CompressedModel => {
    const patched: QConv1D = { ...conv, ...patch };
    return { ...base, layers: base.layers.map((l, i) => (i === convIdx ? patched : l)) };
  };
  const expectModelError = (m: CompressedModel, re: RegExp): void => {
    try {
      checkModel(m);
    } catch (e) {
      expect(e).toBeInstanceOf(TinyforgeError);
      expect((e as TinyforgeError).category).toBe('model');
      expect((e as Error).message).toMatch(re);
      return;
    }
    throw new Error(`checkModel accepted a model that should fail with ${re}`);
  };

  it('accepts the generated models', () => {
    expect(() => checkModel(base)).not.toThrow();
  });
  it('names the layer and the problem', () => {
    expectModelError(
      withConv({ outFrac: conv.inFrac + Math.min(...conv.wFrac) + 1 }),
      new RegExp(`layer '${conv.name}'.*shift .* -1 is outside \\[0, 31\\]`),
    );
    expectModelError(
      withConv({ outFrac: conv.inFrac + Math.max(...conv.wFrac) - 32 }),
      /shift .* is outside/,
    );
    expectModelError(
      withConv({ bias: Int32Array.from(conv.bias, () => 2 ** 30) }),
      /worst-case accumulator .* not below 2\^30/,
    );
    expectModelError(
      withConv({ wFrac: new Array<number>(conv.filters + 1).fill(0) }),
      /wFrac has .* entries/,
    );
    expectModelError(withConv({ bias: new Int32Array(conv.filters + 1) }), /bias has .* entries/);
    expectModelError(
      withConv({ weights: { ...conv.weights, rowLength: conv.weights.rowLength + 1 } }),
      /weights are .* expected/,
    );
    expectModelError(
      withConv({ outShape: [conv.outShape[0] + 1, conv.outShape[1]] }),
      /outShape .* computes/,
    );
    expectModelError(withConv({ inFrac: conv.inFrac + 1 }), /inFrac .* differs/);
    expectModelError(withConv({ padLeft: conv.padLeft + 1 }), /padLeft/);
    expectModelError(withConv({ weights: { ...conv.weights, bits: 9 } }), /width 9/);
    expectModelError({ ...base, classNames: ['only'] }, /logits but there are 1 classes/);
    expectModelError({ ...base, normalization: { mean: [0], std: [] } }, /normalization/);
    const dup = { ...base, layers: [...base.layers, { ...base.layers[base.layers.length - 1] }] };
    expectModelError(dup, /duplicate layer name/);
  });
});

describe('quantizeWindow', () => {
  it('normalizes per channel and quantizes with inputFrac', () => {
    const m: CompressedModel = {
      ...randomModel(6),
      inputShape: [2, 2],
      normalization: { mean: [1, -2], std: [2, 0.5] },
      inputFrac: 3,
    };
    // (x - mean) / std * 8, round half up, saturate: (3-1)/2*8 = 8; (-2+2)/0.5*8 = 0; (1.0625-1)/2*8 = 0.25 -> 0;
    // (100+2)/0.5*8 -> 127
    expect([...quantizeWindow(m, Float32Array.of(3, -2, 1.0625, 100))]).toEqual([8, 0, 0, 127]);
    expect(quantizeWindow(m, [1.125, -2.0625, 0, 0])[1]).toBe(quantizeInput(-0.125, 3));
    expect(() => quantizeWindow(m, [1, 2, 3])).toThrow(/expected 2 x 2/);
  });
});
