// Sweep plots: Vega-Lite specs compiled to Vega, rendered headless to SVG, rasterized to PNG.
//   error-vs-memory:          error rate (log) against memory (log); shape = bits, colour = width,
//                             size = pruning; our Pareto front as a staircase, the paper's dashed.
//   accuracy-vs-instructions: only when instruction counts were measured on the target.
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/files.js';
import { KB } from './budget.js';
import { METRIC_TEXT, PAPER_FRONT, sortByMemory, type MemoryMetric, type SweepRow } from './results.js';

const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';
const OURS = 'this sweep: Pareto front';

const BASE_CONFIG = {
  font: FONT,
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 16, subtitleFontSize: 12, anchor: 'start' as const },
};

interface PlotPoint {
  label: string;
  kB: number;
  error: number;
  accuracy: number;
  bits: string;
  width: string;
  widthOrder: number;
  prune: number;
  instructions?: number;
  front: boolean;
}

function plotPoints(rows: readonly SweepRow[]): { points: PlotPoint[]; floor: number } {
  const ok = rows.filter((r) => r.status === 'ok' && r.errorRate !== undefined);
  // A log axis cannot show zero: a point without errors is drawn at half an error.
  const windows = Math.max(1, ...ok.map((r) => r.evalWindows ?? 1));
  const floor = 0.5 / windows;
  // Widths ordered by their filter count, so the colour ramp follows model size.
  const widths = [...new Set(ok.map((r) => r.width))];
  const size = (w: string) => {
    const f = ok
      .find((r) => r.width === w)!
      .filters.split('-')
      .map(Number);
    return f.reduce((s, v) => s + v, 0);
  };
  widths.sort((a, b) => size(a) - size(b) || (a < b ? -1 : 1));
  return {
    floor,
    points: ok.map((r) => ({
      label: r.label,
      kB: (r.memory ?? NaN) / KB,
      error: Math.max(r.errorRate!, floor),
      accuracy: r.accuracy!,
      bits: String(r.bits),
      width: r.width,
      widthOrder: widths.indexOf(r.width),
      prune: r.bits === 'float' ? 0 : r.prune,
      instructions: r.instructions,
      front: r.pareto,
    })),
  };
}

function bitsDomain(points: PlotPoint[]): string[] {
  const bits = [...new Set(points.map((p) => p.bits))];
  return bits.sort((a, b) => (a === 'float' ? 1 : b === 'float' ? -1 : Number(a) - Number(b)));
}

function widthDomain(points: PlotPoint[]): string[] {
  return [...new Set(points.map((p) => p.width))].sort(
    (a, b) => points.find((p) => p.width === a)!.widthOrder - points.find((p) => p.width === b)!.widthOrder,
  );
}

function markerEncoding(points: PlotPoint[]) {
  return {
    shape: { field: 'bits', type: 'nominal', title: 'weight bits', scale: { domain: bitsDomain(points) } },
    color: {
      field: 'width',
      type: 'ordinal',
      title: 'width (filters)',
      scale: { domain: widthDomain(points), scheme: 'viridis' },
    },
    size: {
      field: 'prune',
      type: 'quantitative',
      title: 'pruning',
      scale: { domain: [0, 0.95], range: [30, 260] },
      legend: { values: [0, 0.5, 0.8, 0.95], format: '.2~f' },
    },
    opacity: { value: 0.85 },
  } as const;
}

export interface ErrorPlotOptions {
  metric: MemoryMetric;
  title?: string;
  /** Draw the paper's published front (only meaningful on UCI HAR). */
  reference: boolean;
}

/** Vega-Lite spec of error rate against memory. */
export function errorVsMemorySpec(rows: readonly SweepRow[], opts: ErrorPlotOptions): TopLevelSpec {
  const { points: all, floor } = plotPoints(rows);
  const points = all.filter((p) => Number.isFinite(p.kB));
  const front = sortByMemory(rows.filter((r) => r.pareto))
    .map((r) => points.find((p) => p.label === r.label))
    .filter((p): p is PlotPoint => p !== undefined)
    .map((p) => ({ ...p, series: OURS }));
  const x = {
    field: 'kB',
    type: 'quantitative',
    title: `${METRIC_TEXT[opts.metric].short}, kB (log scale)`,
    scale: { type: 'log', nice: false, padding: 14 },
    axis: { grid: true, format: '~g' },
  } as const;
  const y = {
    field: 'error',
    type: 'quantitative',
    title: 'error rate (log scale)',
    scale: { type: 'log', nice: false, padding: 14 },
    axis: { format: '.1~%', grid: true },
  } as const;
  const seriesDomain = opts.reference ? [OURS, PAPER_FRONT.label] : [OURS];
  // Colour and dash both encode the series; the colour legend names them.
  const series = {
    color: {
      field: 'series',
      type: 'nominal',
      title: 'front',
      scale: { domain: seriesDomain, range: ['#111111', '#d62728'].slice(0, seriesDomain.length) },
      legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300 },
    },
    strokeDash: {
      field: 'series',
      type: 'nominal',
      title: 'front',
      scale: {
        domain: seriesDomain,
        range: [
          [1, 0],
          [6, 4],
        ].slice(0, seriesDomain.length),
      },
      legend: null,
    },
  } as const;
  const lines: unknown[] = [
    {
      data: { values: front },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8 },
      encoding: { x, y, ...series },
    },
  ];
  if (opts.reference)
    lines.push({
      data: { values: PAPER_FRONT.points.map((p) => ({ ...p, series: PAPER_FRONT.label })) },
      mark: { type: 'line', strokeWidth: 1.6, point: { filled: true, size: 30 } },
      encoding: { x, y, ...series },
    });
  const layers: unknown[] = [
    {
      data: { values: points },
      mark: { type: 'point', filled: true, stroke: '#222', strokeWidth: 0.4 },
      encoding: {
        x,
        y,
        ...markerEncoding(points),
        tooltip: [
          { field: 'label', type: 'nominal' },
          { field: 'kB', type: 'quantitative', format: '.2f' },
          { field: 'error', type: 'quantitative', format: '.2%' },
        ],
      },
    },
    { layer: lines },
  ];
  const zero = all.some((p) => p.error === floor)
    ? `; points without errors drawn at ${(100 * floor).toFixed(2)}%`
    : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    width: 640,
    height: 400,
    padding: 12,
    title: {
      text: opts.title ?? 'Error rate against memory',
      subtitle: `${points.length} points, ${front.length} on the front (black line)${zero}`,
    },
    config: BASE_CONFIG,
    layer: layers,
    // Markers are coloured by width, lines by series: two colour scales.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}

/** Vega-Lite spec of accuracy against instructions per inference (points measured on the target). */
export function accuracyVsInstructionsSpec(
  rows: readonly SweepRow[],
  title?: string,
): TopLevelSpec | undefined {
  const points = plotPoints(rows).points.filter((p) => p.instructions !== undefined && p.instructions > 0);
  if (points.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    width: 640,
    height: 400,
    padding: 12,
    title: {
      text: title ?? 'Accuracy against instructions per inference',
      subtitle: 'measured on the target',
    },
    config: BASE_CONFIG,
    data: { values: points },
    mark: { type: 'point', filled: true, stroke: '#222', strokeWidth: 0.4 },
    encoding: {
      x: {
        field: 'instructions',
        type: 'quantitative',
        title: 'instructions per inference (log scale)',
        scale: { type: 'log', nice: false, padding: 14 },
        axis: { format: '~s' },
      },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        title: 'accuracy',
        scale: { zero: false, padding: 14 },
        axis: { format: '.1~%' },
      },
      ...markerEncoding(points),
      tooltip: [{ field: 'label', type: 'nominal' }],
    },
  } as TopLevelSpec;
}

/** Vega-Lite -> SVG text (headless View). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG -> PNG at twice the SVG's size, with the system's fonts. */
export function svgToPng(svg: string): Uint8Array {
  return new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}

export interface PlotOptions extends ErrorPlotOptions {
  name?: string;
}

/** Writes the plots as SVG and PNG into `out`; returns the file names (relative to `out`). */
export async function writePlots(
  out: string,
  rows: readonly SweepRow[],
  opts: PlotOptions,
): Promise<string[]> {
  const written: string[] = [];
  const put = async (base: string, spec: TopLevelSpec) => {
    const svg = await renderSvg(spec);
    writeFileAtomic(join(out, `${base}.svg`), svg);
    writeFileAtomic(join(out, `${base}.png`), svgToPng(svg));
    written.push(`${base}.png`, `${base}.svg`);
  };
  if (rows.some((r) => r.memory !== undefined && r.errorRate !== undefined))
    await put(
      'error-vs-memory',
      errorVsMemorySpec(rows, {
        ...opts,
        title: `${opts.name ? `${opts.name}: e` : 'E'}rror rate against ${METRIC_TEXT[opts.metric].short}`,
      }),
    );
  const instr = accuracyVsInstructionsSpec(
    rows,
    opts.name ? `${opts.name}: accuracy against instructions per inference` : undefined,
  );
  if (instr) await put('accuracy-vs-instructions', instr);
  return written;
}
