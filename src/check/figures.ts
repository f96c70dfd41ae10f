// What a check measures on one board, kept in its JSON (and read back as a baseline or by
// --measured): the on-target figures of `tinyforge run`, reduced to the ones thresholds apply to.
import type { TargetResult } from '../measure/index.js';
import { bytes, num } from '../measure/summary.js';
import { pct } from '../util/table.js';

export interface BoardFigures {
  board: string;
  windows: number;
  /** On-target accuracy and that of the host reference on the same windows. */
  accuracy: number;
  hostAccuracy: number;
  perClass: { class: string; windows: number; accuracy: number | null }[];
  agreement: {
    /** Every window's logits equal the host reference's. */
    bitExact: boolean;
    mismatching: number;
    /** Fraction of windows whose class equals the host reference's. */
    sameClass: number;
    /** The first disagreement in words (window, logits, first differing layer), when there is one. */
    firstMismatch?: string;
  };
  /** Weights + tables + kernels, from the linker map. */
  modelFlash: number;
  totalFlash: number;
  /** Arena + the inference's stack. */
  modelRam: number;
  /** Static RAM + the measured peak stack. */
  totalRam: number;
  /** Mean instructions per inference. */
  instructions: number;
}

/** The figures of a target measurement; `mismatch` is agreementError's message, if any. */
export function figuresOf(r: TargetResult, mismatch?: string): BoardFigures {
  const same = r.predictions.reduce((s, p, i) => s + (p === r.hostPredictions[i] ? 1 : 0), 0);
  return {
    board: r.board,
    windows: r.windows,
    accuracy: r.accuracy,
    hostAccuracy: r.hostAccuracy,
    perClass: r.perClass.map((c) => ({ class: c.class, windows: c.windows, accuracy: c.accuracy })),
    agreement: {
      bitExact: r.agreement.equal,
      mismatching: r.agreement.mismatching,
      sameClass: r.windows ? same / r.windows : 1,
      ...(mismatch ? { firstMismatch: mismatch } : {}),
    },
    modelFlash: r.flash.model,
    totalFlash: r.flash.total,
    modelRam: r.ram.model,
    totalRam: r.ram.staticWithStack,
    instructions: r.instructions.mean,
  };
}

/** The figures a threshold or a baseline tolerance applies to. */
export type FigureId =
  'accuracy' | 'model-flash' | 'total-flash' | 'model-ram' | 'total-ram' | 'instructions';

export type FigureKey = 'accuracy' | 'modelFlash' | 'totalFlash' | 'modelRam' | 'totalRam' | 'instructions';

export type Unit = 'accuracy' | 'bytes' | 'count';

export interface FigureSpec {
  id: FigureId;
  /** Its name in a configuration's `tolerances` (camelCase, as every configuration key). */
  key: FigureKey;
  label: string;
  unit: Unit;
  /** Which way is better: a regression is a move the other way. */
  better: 'higher' | 'lower';
  get(f: BoardFigures): number;
}

export const FIGURES: readonly FigureSpec[] = [
  {
    id: 'accuracy',
    key: 'accuracy',
    label: 'on-target accuracy',
    unit: 'accuracy',
    better: 'higher',
    get: (f) => f.accuracy,
  },
  {
    id: 'model-flash',
    key: 'modelFlash',
    label: 'model flash',
    unit: 'bytes',
    better: 'lower',
    get: (f) => f.modelFlash,
  },
  {
    id: 'total-flash',
    key: 'totalFlash',
    label: 'firmware flash',
    unit: 'bytes',
    better: 'lower',
    get: (f) => f.totalFlash,
  },
  {
    id: 'model-ram',
    key: 'modelRam',
    label: 'model RAM',
    unit: 'bytes',
    better: 'lower',
    get: (f) => f.modelRam,
  },
  {
    id: 'total-ram',
    key: 'totalRam',
    label: 'total RAM',
    unit: 'bytes',
    better: 'lower',
    get: (f) => f.totalRam,
  },
  {
    id: 'instructions',
    key: 'instructions',
    label: 'instructions',
    unit: 'count',
    better: 'lower',
    get: (f) => f.instructions,
  },
];

export const FIGURE_IDS = FIGURES.map((f) => f.id) as [FigureId, ...FigureId[]];

/** A value as people read it: 93.18%, 8,316 B, 620,095. */
export function formatValue(unit: Unit, v: number): string {
  if (unit === 'accuracy') return pct(v);
  if (unit === 'bytes') return bytes(v);
  return num(v);
}

const signed = (s: string, v: number) => (v > 0 ? `+${s}` : v < 0 ? `-${s}` : `±${s}`);

/** A change against the baseline: -0.30 pt, +120 B, +12,345 (+2.1%) instructions. */
export function formatDelta(unit: Unit, delta: number, base: number): string {
  if (unit === 'accuracy') return signed(`${(100 * Math.abs(delta)).toFixed(2)} pt`, delta);
  if (unit === 'bytes') return signed(bytes(Math.abs(delta)), delta);
  const rel = base ? Math.abs(delta) / base : 0;
  return `${signed(num(Math.abs(delta)), delta)} (${signed(`${(100 * rel).toFixed(1)}%`, delta)})`;
}
