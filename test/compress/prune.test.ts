import { describe, expect, it } from 'vitest';
import { archToGraph } from '../../src/graph/arch.js';
import { initParams } from '../../src/train/forward.js';
import type { FloatModel } from '../../src/graph/ir.js';
import { inferShapes } from '../../src/graph/ir.js';
import type { AnyLayer } from '../helpers/layers.js';
import { floatForward } from '../../src/compress/floatForward.js';
import {
  applyMasks,
  magnitudeMasks,
  pruneFilters,
  sparsityAt,
  sparsityReport,
} from '../../src/compress/prune.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function tinyModel(seed = 1): FloatModel {
  const r = rng(seed);
  const arr = (n: number) => Float32Array.from({ length: n }, r);
  const layers: AnyLayer[] = [
    {
      kind: 'conv1d',
      name: 'c1',
      filters: 8,
      kernelSize: 3,
      stride: 1,
      padding: 'same',
      activation: 'relu',
      useBias: true,
    },
    { kind: 'maxpool1d', name: 'p1', poolSize: 2, stride: 2, padding: 'valid' },
    {
      kind: 'conv1d',
      name: 'c2',
      filters: 6,
      kernelSize: 3,
      stride: 1,
      padding: 'valid',
      activation: 'relu',
      useBias: true,
    },
    { kind: 'flatten', name: 'f' },
    { kind: 'dense', name: 'd', units: 3, activation: 'linear', useBias: true },
  ];
  return {
    graph: {
      inputShape: [16, 3],
      classNames: ['a', 'b', 'c'],
      layers,
    },
    params: {
      c1: { kernel: arr(3 * 3 * 8), bias: arr(8) },
      c2: { kernel: arr(3 * 8 * 6), bias: arr(6) },
      d: { kernel: arr(6 * 6 * 3), bias: arr(3) },
    },
  };
}

describe('magnitude pruning', () => {
  it('per layer: each layer reaches exactly floor(n * s) zeros and the smallest weights go', () => {
    const m = tinyModel();
    const pruned = applyMasks(m, magnitudeMasks(m, 0.8, 'layer'));
    for (const r of sparsityReport(pruned)) {
      expect(r.zeros).toBe(Math.floor(r.weights * 0.8));
      const orig = Array.from(m.params[r.layer].kernel!, Math.abs).sort((a, b) => a - b);
      const kept = Array.from(pruned.params[r.layer].kernel!)
        .filter((v) => v !== 0)
        .map(Math.abs);
      expect(Math.min(...kept)).toBeGreaterThanOrEqual(orig[r.zeros - 1]);
    }
  });
  it('global: total sparsity reached, layers may differ', () => {
    const m = tinyModel(2);
    const rep = sparsityReport(applyMasks(m, magnitudeMasks(m, 0.5, 'global')));
    const zeros = rep.reduce((s, r) => s + r.zeros, 0);
    const total = rep.reduce((s, r) => s + r.weights, 0);
    expect(zeros).toBeGreaterThanOrEqual(Math.floor(total * 0.5));
    expect(zeros).toBeLessThanOrEqual(Math.floor(total * 0.5) + 2);
  });
  it('gradual schedule rises monotonically to the target', () => {
    const v = Array.from({ length: 11 }, (_, i) => sparsityAt(i, 10, 0.9));
    expect(v[0]).toBe(0);
    expect(v[10]).toBeCloseTo(0.9);
    for (let i = 1; i < v.length; i++) expect(v[i]).toBeGreaterThanOrEqual(v[i - 1]);
  });
});

describe('structured filter pruning', () => {
  it('refuses a graph with a residual Add instead of summing mismatched channels', () => {
    const graph = archToGraph(
      {
        layers: [
          { type: 'conv1d', name: 'a', filters: 6, kernelSize: 3, padding: 'same' },
          { type: 'conv1d', name: 'b', filters: 6, kernelSize: 3, padding: 'same' },
          { type: 'add', inputs: ['a', 'b'] },
          { type: 'gap1d' },
          { type: 'dense', units: 'classes' },
        ],
      },
      { inputShape: [16, 3], classNames: ['x', 'y'] },
    );
    const model: FloatModel = { graph, params: initParams(graph, 2) };
    expect(() => pruneFilters(model, 0.5)).toThrow(/structured pruning needs a chain of layers.*'add_1'/);
  });

  it('removing zero-norm filters leaves the function unchanged and shrinks shapes', () => {
    const m = tinyModel(3);
    // Make filters 1, 4 and 6 of c1 dead (zero weights and bias): removing them must not change outputs.
    for (const o of [1, 4, 6]) {
      for (let i = 0; i < 9; i++) m.params.c1.kernel![i * 8 + o] = 0;
      m.params.c1.bias![o] = 0;
    }
    // c2 dead filters 0 and 5.
    for (const o of [0, 5]) {
      for (let i = 0; i < 24; i++) m.params.c2.kernel![i * 6 + o] = 0;
      m.params.c2.bias![o] = 0;
    }
    const p = pruneFilters(m, 0.375); // drops 3 of 8 in c1, 2 of 6 in c2
    const infos = inferShapes(p.graph);
    expect(infos[0].outShape).toEqual([16, 5]);
    expect(infos[2].outShape).toEqual([6, 4]);
    const x = Float32Array.from({ length: 48 }, rng(9));
    const a = floatForward(m, x).outputs.at(-1)!;
    const b = floatForward(p, x).outputs.at(-1)!;
    for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(a[i], 5);
  });
});
