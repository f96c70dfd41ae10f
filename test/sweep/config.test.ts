// Sweep configuration: validation, grid expansion (counts, normalization, duplicates), widths, and
// the shipped sweep files.
import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expandPoints,
  loadSweepConfig,
  normalizePoint,
  parseSweepConfig,
  pointLabel,
} from '../../src/sweep/config.js';
import { UCI_HAR_SWEEP } from '../../src/sweep/defaults.js';
import { archForWidth, baseArch, convFilters } from '../../src/sweep/width.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { REPO } from './helpers.js';
import { archToGraph } from '../../src/graph/arch.js';
import { channelsOf, inferShapes } from '../../src/graph/ir.js';
import { opOf } from '../../src/ops/registry.js';

describe('sweep configuration', () => {
  it('expands the full grid, one float point per width', () => {
    const c = parseSweepConfig({
      axes: { widths: [8, 16], bits: [2, 4, 'float'], prune: [0, 0.5, 0.9], perChannel: [true, false] },
    });
    const pts = expandPoints(c);
    // per width: 2 integer bit widths x 3 prune x 2 perChannel = 12, plus 1 float point
    expect(pts).toHaveLength(2 * (2 * 3 * 2 + 1));
    expect(pts.filter((p) => p.bits === 'float')).toHaveLength(2);
    expect(new Set(pts.map(pointLabel)).size).toBe(pts.length);
    for (const w of [8, 16])
      for (const bits of [2, 4])
        for (const prune of [0, 0.5, 0.9])
          for (const perChannel of [true, false])
            expect(
              pts.some(
                (p) => p.width === w && p.bits === bits && p.prune === prune && p.perChannel === perChannel,
              ),
            ).toBe(true);
  });

  it('structured without pruning is the same point as unstructured', () => {
    const c = parseSweepConfig({
      axes: { widths: [8], bits: [4], prune: [0, 0.5], structured: [false, true] },
    });
    // prune 0 collapses to one point; prune 0.5 stays two (structured or not)
    expect(expandPoints(c)).toHaveLength(3);
    expect(normalizePoint({ width: 8, prune: 0, structured: true }).structured).toBe(false);
  });

  it('explicit points add to the grid, defaults filled, duplicates dropped', () => {
    const c = parseSweepConfig({
      axes: { widths: [8], bits: [4] },
      points: [
        { width: 8, bits: 4 },
        { width: [4, 8, 8], bits: 'float', prune: 0.5 },
        { width: { scale: 0.5 } },
      ],
    });
    const pts = expandPoints(c);
    expect(pts).toHaveLength(3);
    expect(pts[1]).toEqual(normalizePoint({ width: [4, 8, 8], bits: 'float' }));
    expect(pts[2]).toMatchObject({
      width: { scale: 0.5 },
      bits: 8,
      prune: 0,
      perChannel: true,
      coding: 'auto',
    });
    expect(parseSweepConfig({ points: [{ width: 8 }] }).training.epochs).toBe(30);
  });

  it('rejects settings out of range, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ axes: { widths: [8], bits: [9] } }, /axes\.bits/],
      [{ axes: { widths: [8], bits: [1] } }, /axes\.bits/],
      [{ axes: { widths: [8], prune: [0.99] } }, /axes\.prune/],
      [{ axes: { widths: [8], coding: ['zip'] } }, /axes\.coding/],
      [{ axes: { widths: [] } }, /axes\.widths/],
      [{ axes: { widths: [0] } }, /axes\.widths/],
      [{ axes: { widths: [8] }, extra: 1 }, /extra/],
      [{}, /axes.*points/],
    ];
    for (const [v, re] of bad) {
      let err: unknown;
      try {
        parseSweepConfig(v, 'test.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(TinyforgeError);
      expect((err as Error).message, JSON.stringify(v)).toMatch(re);
      expect((err as Error).message).toContain('test.json');
    }
  });
});

describe('widths', () => {
  const arch = baseArch();
  const base = convFilters(arch, { scale: 1 });

  it('a number sets every Conv1D, a list each one, a scale multiplies', () => {
    expect(base.length).toBeGreaterThanOrEqual(2);
    expect(convFilters(arch, 16)).toEqual(base.map(() => 16));
    const explicit = base.map((_, i) => 4 + i);
    expect(convFilters(arch, explicit)).toEqual(explicit);
    expect(convFilters(arch, { scale: 0.5 })).toEqual(base.map((f) => Math.max(1, Math.round(f / 2))));
    const scaled = archForWidth(arch, 16);
    expect(
      scaled.layers.filter((l) => l.type === 'conv1d').map((l) => (l as { filters: number }).filters),
    ).toEqual(base.map(() => 16));
    // Other layers are untouched.
    expect(scaled.layers.map((l) => l.type)).toEqual(arch.layers.map((l) => l.type));
  });

  it('scales every built-in architecture: residual sums and depthwise blocks stay consistent', () => {
    for (const name of ['har-default', 'ds-cnn1d', 'tcn']) {
      const arch = baseArch(name);
      for (const width of [8, { scale: 0.5 }, { scale: 2 }]) {
        const graph = archToGraph(archForWidth(arch, width), {
          inputShape: [128, 9],
          classNames: ['a', 'b'],
        });
        const scaled = new Set(convFilters(arch, width));
        // Every scaled layer got its count: the graph's output channels come from that set.
        const outs = inferShapes(graph)
          .filter((n) => opOf(n.layer.kind).arch.widthKey)
          .map((n) => channelsOf(n.outShape));
        expect(
          outs.every((c) => scaled.has(c)),
          `${name} at ${JSON.stringify(width)}`,
        ).toBe(true);
      }
    }
  });

  it('a filter list of the wrong length is an input error saying how many', () => {
    expect(() => convFilters(arch, [8])).toThrow(new RegExp(`${base.length} Conv1D layers`));
  });
});

describe('shipped sweep files', () => {
  it('sweeps/uci-har.json is the built-in default sweep, of an affordable size', () => {
    const file = loadSweepConfig(join(REPO, 'sweeps', 'uci-har.json'));
    const raw = JSON.parse(readFileSync(join(REPO, 'sweeps', 'uci-har.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const { data, ...rest } = raw;
    expect(typeof data).toBe('string');
    expect(parseSweepConfig(rest)).toEqual(parseSweepConfig(UCI_HAR_SWEEP));
    const pts = expandPoints(file.config);
    expect(pts.length).toBeGreaterThanOrEqual(30);
    expect(pts.length).toBeLessThanOrEqual(110);
    // The paper's axes: 16..96 filters, 2..8 bits and float, pruning up to 0.95.
    const widths = pts.map((p) => p.width as number);
    expect(Math.min(...widths)).toBe(16);
    expect(Math.max(...widths)).toBe(96);
    const bits = new Set(pts.map((p) => p.bits));
    for (const b of [2, 8, 'float']) expect(bits.has(b as never)).toBe(true);
    expect(Math.max(...pts.map((p) => p.prune))).toBe(0.95);
    // The data path is resolved from the file's folder.
    expect(file.data).toBe(join(REPO, 'sweeps', data as string));
  });

  it('sweeps/ci.json is small and runs on synthetic data', () => {
    const file = loadSweepConfig(join(REPO, 'sweeps', 'ci.json'));
    expect(file.data).toMatch(/^synthetic/);
    const n = expandPoints(file.config).length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(12);
  });
});

describe('a sweep over a given model', () => {
  it('takes "model" instead of "arch", width 1 only, resolved against the file', () => {
    const c = parseSweepConfig({ model: 'm.h5', axes: { widths: [1], bits: [8, 4] } });
    expect(expandPoints(c)).toHaveLength(2);
    const bad = (v: unknown) => () => parseSweepConfig(v);
    expect(bad({ model: 'm.h5', arch: 'tcn', axes: { widths: [1] } })).toThrow(/"model".*not both/);
    expect(bad({ model: 'm.h5', axes: { widths: [1, 16] } })).toThrow(/every width must be 1/);
    expect(bad({ model: 'm.h5', points: [{ width: { scale: 2 } }] })).toThrow(/every width must be 1/);
    const dir = tempDir('tf-sweep-model-');
    writeFileSync(join(dir, 's.json'), JSON.stringify({ model: 'models/m.tflite', axes: { widths: [1] } }));
    expect(loadSweepConfig(join(dir, 's.json')).modelPath).toBe(join(dir, 'models', 'm.tflite'));
  });
});
