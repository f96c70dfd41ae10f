// Thresholds against measured figures: one row per threshold and board (measured, limit, verdict,
// change against the baseline), plus the figures without a limit (verdict 'info') so the table shows
// everything measured. Pure: the same figures checked against other limits need no second run.
import { TinyforgeError } from '../util/errors.js';
import { num } from '../measure/summary.js';
import { pct } from '../util/table.js';
import { EVERY_CLASS, type Thresholds, type Tolerances } from './config.js';
import {
  FIGURES,
  formatDelta,
  formatValue,
  type BoardFigures,
  type FigureId,
  type FigureSpec,
  type Unit,
} from './figures.js';
import type { Tolerance } from './values.js';

export type Verdict = 'pass' | 'fail' | 'info';

export interface CheckRow {
  board: string;
  /** Stable name: accuracy, class-accuracy:<class>, accuracy-drop, model-flash, ..., agreement, baseline:<figure>. */
  id: string;
  /** For people: 'on-target accuracy', 'model flash vs baseline', ... */
  name: string;
  measured: string;
  /** '>= 92.00%', '<= 10,240 B', or '-' for a figure without a limit. */
  limit: string;
  verdict: Verdict;
  /** Change against the baseline, when there is one for this board and figure. */
  delta?: string;
  /** The numbers behind measured and limit (JSON). */
  value: number | null;
  limitValue?: number;
}

/** Limit of a figure: which threshold key holds it. */
const LIMIT_KEY: Record<FigureId, keyof Thresholds> = {
  accuracy: 'minAccuracy',
  'model-flash': 'maxModelFlash',
  'total-flash': 'maxTotalFlash',
  'model-ram': 'maxModelRam',
  'total-ram': 'maxTotalRam',
  instructions: 'maxInstructions',
};

/** Floating-point slack: an accuracy equal to its limit, computed two ways, still passes. */
const EPS = 1e-9;

const holds = (value: number, limit: number, better: 'higher' | 'lower') =>
  better === 'higher' ? value >= limit - EPS : value <= limit + EPS;

const bound = (unit: Unit, limit: number, better: 'higher' | 'lower') =>
  `${better === 'higher' ? '>=' : '<='} ${formatValue(unit, limit)}`;

function figureRow(f: BoardFigures, spec: FigureSpec, t: Thresholds, base?: BoardFigures): CheckRow {
  const value = spec.get(f);
  const limit = t[LIMIT_KEY[spec.id]] as number | undefined;
  return {
    board: f.board,
    id: spec.id,
    name: spec.label,
    measured: formatValue(spec.unit, value),
    limit: limit === undefined ? '-' : bound(spec.unit, limit, spec.better),
    verdict: limit === undefined ? 'info' : holds(value, limit, spec.better) ? 'pass' : 'fail',
    ...(base ? { delta: formatDelta(spec.unit, value - spec.get(base), spec.get(base)) } : {}),
    value,
    ...(limit !== undefined ? { limitValue: limit } : {}),
  };
}

function classRows(f: BoardFigures, limits: Record<string, number>, base?: BoardFigures): CheckRow[] {
  const names = f.perClass.map((c) => c.class);
  const unknown = Object.keys(limits).filter((k) => k !== EVERY_CLASS && !names.includes(k));
  if (unknown.length)
    throw new TinyforgeError(
      `minClassAccuracy names ${unknown.map((u) => `'${u}'`).join(', ')}, not a class of the model`,
      'usage',
      `the classes are ${names.join(', ')}; "${EVERY_CLASS}" stands for every class not named`,
    );
  return f.perClass.flatMap((c): CheckRow[] => {
    const limit = limits[c.class] ?? limits[EVERY_CLASS];
    if (limit === undefined) return [];
    const before = base?.perClass.find((b) => b.class === c.class)?.accuracy;
    const common = { board: f.board, id: `class-accuracy:${c.class}`, name: `accuracy of ${c.class}` };
    const delta =
      c.accuracy !== null && before !== undefined && before !== null
        ? { delta: formatDelta('accuracy', c.accuracy - before, before) }
        : {};
    // A class without windows in the data has no accuracy: nothing to hold it to.
    if (c.accuracy === null)
      return [
        {
          ...common,
          measured: 'no windows',
          limit: bound('accuracy', limit, 'higher'),
          verdict: 'info',
          value: null,
          limitValue: limit,
        },
      ];
    return [
      {
        ...common,
        measured: `${pct(c.accuracy)} (${c.windows} windows)`,
        limit: bound('accuracy', limit, 'higher'),
        verdict: holds(c.accuracy, limit, 'higher') ? 'pass' : 'fail',
        ...delta,
        value: c.accuracy,
        limitValue: limit,
      },
    ];
  });
}

function dropRow(f: BoardFigures, floatAccuracy: number, limit: number): CheckRow {
  const drop = floatAccuracy - f.accuracy;
  const pts = (v: number) => `${(100 * v).toFixed(2)} pt`;
  return {
    board: f.board,
    id: 'accuracy-drop',
    name: 'accuracy drop from float',
    measured: `${pts(drop)} (float ${pct(floatAccuracy)})`,
    limit: `<= ${pts(limit)}`,
    verdict: holds(drop, limit, 'lower') ? 'pass' : 'fail',
    value: drop,
    limitValue: limit,
  };
}

function agreementRow(f: BoardFigures, rule: Thresholds['agreement']): CheckRow {
  const a = f.agreement;
  // The first mismatch's details (window, logits, layer) go below the table and into JUnit.
  const logits = a.bitExact
    ? `bit-exact (${f.windows}/${f.windows})`
    : `${a.mismatching}/${f.windows} windows differ, ${pct(a.sameClass)} same class`;
  const row = { board: f.board, id: 'agreement', name: 'host agreement', measured: logits };
  if (rule === 'off') return { ...row, limit: '-', verdict: 'info', value: a.sameClass };
  if (rule === 'bit-exact')
    return {
      ...row,
      limit: 'bit-exact',
      verdict: a.bitExact ? 'pass' : 'fail',
      value: a.mismatching,
      limitValue: 0,
    };
  return {
    ...row,
    limit: `>= ${pct(rule)} same class`,
    verdict: holds(a.sameClass, rule, 'higher') ? 'pass' : 'fail',
    value: a.sameClass,
    limitValue: rule,
  };
}

/** How much worse than the baseline a figure may be, in its unit. */
function allowance(t: Tolerance | undefined, base: number): number {
  if (!t) return 0;
  return 'relative' in t ? t.relative * Math.abs(base) : t.absolute;
}

function toleranceText(spec: FigureSpec, t: Tolerance | undefined): string {
  if (!t) return 'no regression';
  const sign = spec.better === 'higher' ? '>= -' : '<= +';
  if ('relative' in t) return `${sign}${(100 * t.relative).toFixed(1)}%`;
  const a = t.absolute;
  if (spec.unit === 'accuracy') return `${sign}${(100 * a).toFixed(2)} pt`;
  return `${sign}${spec.unit === 'bytes' ? formatValue('bytes', a) : num(a)}`;
}

function regressionRow(f: BoardFigures, spec: FigureSpec, base: BoardFigures, tol: Tolerances): CheckRow {
  const now = spec.get(f);
  const before = spec.get(base);
  const worse = spec.better === 'higher' ? before - now : now - before;
  const t = tol[spec.key];
  return {
    board: f.board,
    id: `baseline:${spec.id}`,
    name: `${spec.label} vs baseline`,
    measured: `${formatDelta(spec.unit, now - before, before)} (${formatValue(spec.unit, before)} -> ${formatValue(spec.unit, now)})`,
    limit: toleranceText(spec, t),
    verdict: worse <= allowance(t, before) + EPS ? 'pass' : 'fail',
    value: now - before,
    limitValue: allowance(t, before),
  };
}

export interface EvaluateInput {
  figures: BoardFigures;
  thresholds: Thresholds;
  /** The float model's accuracy on the same windows (needed by maxAccuracyDrop). */
  floatAccuracy?: number;
  /** The baseline's figures for this board, if it has them. */
  baseline?: BoardFigures;
  tolerances: Tolerances;
}

/** Every row of one board, in the table's order. */
export function evaluateBoard(o: EvaluateInput): CheckRow[] {
  const { figures: f, thresholds: t, baseline: base } = o;
  const rows: CheckRow[] = [figureRow(f, FIGURES[0], t, base)];
  if (t.minClassAccuracy) rows.push(...classRows(f, t.minClassAccuracy, base));
  if (t.maxAccuracyDrop !== undefined) {
    if (o.floatAccuracy === undefined)
      throw new TinyforgeError('maxAccuracyDrop needs the float model, and none is known', 'usage');
    rows.push(dropRow(f, o.floatAccuracy, t.maxAccuracyDrop));
  }
  for (const spec of FIGURES.slice(1)) rows.push(figureRow(f, spec, t, base));
  rows.push(agreementRow(f, t.agreement));
  if (base) for (const spec of FIGURES) rows.push(regressionRow(f, spec, base, o.tolerances));
  return rows;
}

/** "accuracy on netduinoplus2 (91.20%, limit >= 92.00%)": how an exit-1 message names a failure. */
export function describeFailure(r: CheckRow): string {
  return `${r.id} on ${r.board} (${r.measured}, limit ${r.limit})`;
}
