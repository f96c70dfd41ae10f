// Results files and plots from hand-made point results (no training): rows, front marks, CSV,
// Markdown order, the memory metric with and without the target stage, rendered plots.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizePoint, pointLabel, type SweepPoint } from '../../src/sweep/config.js';
import { accuracyVsInstructionsSpec, errorVsMemorySpec, writePlots } from '../../src/sweep/plot.js';
import { POINT_RESULT_SCHEMA, type PointResult } from '../../src/sweep/result.js';
import {
  buildRows,
  chooseMetric,
  PAPER_FRONT,
  parseCsv,
  toCsv,
  writeResults,
} from '../../src/sweep/results.js';
import { pngInfo } from './png.js';
import { tempDir } from './helpers.js';

function result(
  p: Partial<SweepPoint> & { width: number },
  accuracy: number,
  paramBytes: number,
  target?: { accuracy: number; modelFlash: number; ram: number; instr: number },
): PointResult {
  const point = normalizePoint(p);
  return {
    schema: POINT_RESULT_SCHEMA,
    hash: `h-${pointLabel(point).replace(/\s+/g, '-')}`,
    label: pointLabel(point),
    point,
    modelHash: `m${p.width}`,
    widthFilters: [p.width, p.width, p.width],
    status: 'ok',
    host: {
      accuracy,
      evalWindows: 1000,
      floatAccuracy: 0.95,
      codedWeightBytes: paramBytes - 100,
      tableBytes: 60,
      biasBytes: 40,
      paramBytes,
      weights: 1000,
      sparsity: point.prune,
      codings: ['huffman', 'packed'],
    },
    target: target && {
      target: 'test board',
      accuracy: target.accuracy,
      windows: 1000,
      agreement: 1,
      modelFlash: target.modelFlash,
      totalFlash: target.modelFlash + 20000,
      ram: target.ram,
      instructionsPerInference: target.instr,
      stageId: 'test',
    },
    seconds: { compress: 1 },
    code: 'test',
    date: '2024-01-01T00:00:00Z',
  };
}

function failed(width: number): PointResult {
  const r = result({ width, bits: 2 }, 0, 0);
  return {
    ...r,
    status: 'failed',
    host: undefined,
    error: { stage: 'compress', message: 'boom, "quoted"\nsecond line', category: 'model' },
  };
}

// Host-only sweep: memory = parameter bytes. Front by hand: 2 kB/20% and 6 kB/8% and 30 kB/6%;
// 4 kB/25% is beaten by 2 kB/20%; 12 kB/9% by 6 kB/8%.
const HOST = [
  result({ width: 16, bits: 4, prune: 0.5 }, 0.8, 2048),
  result({ width: 16, bits: 8 }, 0.75, 4096),
  result({ width: 32, bits: 4, prune: 0.5 }, 0.92, 6144),
  result({ width: 32, bits: 8 }, 0.91, 12288),
  result({ width: 32, bits: 'float' }, 0.94, 30720),
  failed(64),
];

describe('rows and the front', () => {
  it('without a target stage the metric is parameter bytes and the front is the hand-made one', () => {
    expect(chooseMetric(HOST)).toBe('paramBytes');
    const rows = buildRows(HOST);
    expect(rows.map((r) => r.pareto)).toEqual([true, false, true, false, true, false]);
    expect(rows[0]).toMatchObject({
      memory: 2048,
      accuracySource: 'host-reference',
      errorRate: 0.19999999999999996,
    });
    expect(rows[4]).toMatchObject({ accuracySource: 'float', coding: 'none' });
    expect(rows[5]).toMatchObject({
      status: 'failed',
      memory: undefined,
      failedStage: 'compress',
      failedCategory: 'model',
    });
  });

  it('with target measurements the front is on model flash and target accuracy', () => {
    const measured = [
      result({ width: 16, bits: 4 }, 0.8, 2048, { accuracy: 0.8, modelFlash: 9000, ram: 3000, instr: 2e5 }),
      // Fewer parameter bytes but more flash than the next: flash decides.
      result({ width: 16, bits: 2 }, 0.7, 1024, { accuracy: 0.7, modelFlash: 9500, ram: 3000, instr: 3e5 }),
      result({ width: 32, bits: 4 }, 0.9, 6144, { accuracy: 0.9, modelFlash: 15000, ram: 5000, instr: 6e5 }),
      result({ width: 32, bits: 'float' }, 0.94, 30720),
    ];
    expect(chooseMetric(measured)).toBe('modelFlash');
    const rows = buildRows(measured);
    expect(rows.map((r) => r.pareto)).toEqual([true, false, true, false]);
    expect(rows[1].memory).toBe(9500);
    // A float point has no firmware: no flash figure, not on a flash front.
    expect(rows[3].memory).toBeUndefined();
    expect(rows[0].accuracySource).toBe('target');
  });
});

describe('results files', () => {
  it('CSV, JSON and Markdown agree and the CSV survives commas, quotes and newlines', () => {
    const out = tempDir();
    const rows = buildRows(HOST);
    writeResults(out, rows, {
      name: 't',
      data: 'synthetic',
      code: 'test',
      metric: 'paramBytes',
      plots: ['p.png'],
    });
    const csv = parseCsv(readFileSync(join(out, 'results.csv'), 'utf8'));
    expect(csv).toHaveLength(rows.length);
    expect(csv[5].failure).toBe('boom, "quoted"\nsecond line');
    expect(csv.map((r) => r.pareto)).toEqual(rows.map((r) => String(r.pareto)));
    expect(Number(csv[2].memory)).toBe(6144);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.front).toEqual([rows[0].label, rows[2].label, rows[4].label]);
    expect(json.counts).toEqual({ points: 6, ok: 5, failed: 1, front: 3 });
    expect(json.metricDescription).toMatch(/NOT linked flash/);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    // Table rows by memory; the failed point listed apart.
    const order = [...md.matchAll(/^\|[^|]*\| `([^`]+)`/gm)].map((m) => m[1]);
    expect(order.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => rows[i].label));
    expect(md).toMatch(/## Failed points[\s\S]*boom/);
    expect(md).toMatch(/NOT linked flash/);
    expect(toCsv(rows)).toBe(readFileSync(join(out, 'results.csv'), 'utf8'));
  });
});

describe('plots', () => {
  it('the error plot has markers, our front and, for UCI HAR, the paper front', () => {
    const rows = buildRows(HOST);
    type Layer = {
      data: { values: Record<string, unknown>[] };
      encoding: Record<string, { field?: string; scale?: { type?: string } }>;
      layer?: Layer[];
    };
    const layersOf = (reference: boolean) =>
      (
        errorVsMemorySpec(rows, { metric: 'paramBytes', reference }) as unknown as { layer: Layer[] }
      ).layer.flatMap((l) => l.layer ?? [l]);
    const [markers, front, paper] = layersOf(true);
    expect(markers.data.values).toHaveLength(5);
    expect(markers.encoding.shape.field).toBe('bits');
    expect(markers.encoding.color.field).toBe('width');
    expect(markers.encoding.size.field).toBe('prune');
    expect(markers.encoding.x.scale?.type).toBe('log');
    expect(markers.encoding.y.scale?.type).toBe('log');
    expect(front.data.values.map((v) => v.label)).toEqual([rows[0].label, rows[2].label, rows[4].label]);
    expect(paper.data.values.map((v) => [v.kB, v.error])).toEqual(
      PAPER_FRONT.points.map((p) => [p.kB, p.error]),
    );
    expect(paper.data.values[0].series).toBe('SYSINT 2022 (paper)');
    expect(front.encoding.strokeDash.field).toBe('series');
    expect(layersOf(false)).toHaveLength(2);
    expect(accuracyVsInstructionsSpec(rows)).toBeUndefined();
  });

  it('renders SVG and PNG files of both plots when instructions were measured', async () => {
    const out = tempDir();
    const rows = buildRows([
      result({ width: 16, bits: 4, prune: 0.8 }, 0.85, 3000, {
        accuracy: 0.85,
        modelFlash: 7500,
        ram: 3000,
        instr: 2.1e5,
      }),
      result({ width: 32, bits: 4, prune: 0.5 }, 0.91, 9000, {
        accuracy: 0.91,
        modelFlash: 18000,
        ram: 5000,
        instr: 7e5,
      }),
      result({ width: 64, bits: 6 }, 0.935, 40000, {
        accuracy: 0.935,
        modelFlash: 50000,
        ram: 9000,
        instr: 2.4e6,
      }),
      result({ width: 96, bits: 8 }, 0.94, 90000, {
        accuracy: 0.94,
        modelFlash: 98000,
        ram: 14000,
        instr: 5e6,
      }),
    ]);
    const files = await writePlots(out, rows, { metric: 'modelFlash', reference: true, name: 'test' });
    expect(files.sort()).toEqual(
      [
        'accuracy-vs-instructions.png',
        'accuracy-vs-instructions.svg',
        'error-vs-memory.png',
        'error-vs-memory.svg',
      ].sort(),
    );
    for (const base of ['error-vs-memory', 'accuracy-vs-instructions']) {
      const svg = readFileSync(join(out, `${base}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      const png = pngInfo(readFileSync(join(out, `${base}.png`)));
      expect(png.width).toBeGreaterThan(800);
      expect(png.height).toBeGreaterThan(500);
    }
    expect(readFileSync(join(out, 'error-vs-memory.svg'), 'utf8')).toContain('SYSINT 2022 (paper)');
    expect(readFileSync(join(out, 'error-vs-memory.svg'), 'utf8')).toContain('model flash');
    expect(existsSync(join(out, 'error-vs-memory.png'))).toBe(true);
  });
});
