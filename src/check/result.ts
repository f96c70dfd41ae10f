// A check's result: the measurements, every row and the verdict. Its JSON (--json, --results) is
// what --baseline compares with and --measured checks again, so reading it back is validated.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeIssues } from '../sweep/config.js';
import { TinyforgeError } from '../util/errors.js';
import type { CheckConfig } from './config.js';
import { describeFailure, evaluateBoard, type CheckRow } from './evaluate.js';
import type { CheckMeasurements } from './measure.js';

export const CHECK_SCHEMA = 'tinyforge.check/1';

export interface CheckResult extends CheckMeasurements {
  schema: typeof CHECK_SCHEMA;
  passed: boolean;
  /** The failing rows in words, as the exit-1 message names them. */
  failed: string[];
  checks: CheckRow[];
  baseline?: { file: string; missingBoards: string[] };
  /** Where the measurements came from: this run, or --measured FILE. */
  measuredIn: 'this run' | string;
}

const FiguresSchema = z.object({
  board: z.string(),
  windows: z.number(),
  accuracy: z.number(),
  hostAccuracy: z.number(),
  perClass: z.array(z.object({ class: z.string(), windows: z.number(), accuracy: z.number().nullable() })),
  agreement: z.object({
    bitExact: z.boolean(),
    mismatching: z.number(),
    sameClass: z.number(),
    firstMismatch: z.string().optional(),
  }),
  modelFlash: z.number(),
  totalFlash: z.number(),
  modelRam: z.number(),
  totalRam: z.number(),
  instructions: z.number(),
});

/** The part of a check's JSON that later checks read (the rest is for people and CI systems). */
const MeasurementsSchema = z.object({
  schema: z.literal(CHECK_SCHEMA),
  model: z.object({
    input: z.string(),
    tfm: z.string(),
    compression: z.enum(['given', 'compressed', 'cached']),
  }),
  data: z.object({
    spec: z.string(),
    recorded: z.boolean(),
    split: z.enum(['test', 'train']),
    windows: z.number(),
  }),
  floatAccuracy: z.number().optional(),
  boards: z
    .array(
      z.object({
        board: z.string(),
        build: z.object({ dir: z.string(), cached: z.boolean() }),
        figures: FiguresSchema,
      }),
    )
    .min(1),
});

/** Reads a previous check's JSON (`what` says which flag gave it, for messages). */
export function readCheckJson(path: string, what: string): CheckMeasurements {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TinyforgeError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'input');
  }
  const r = MeasurementsSchema.safeParse(json);
  if (!r.success)
    throw new TinyforgeError(
      `${what} ${path} is not a tinyforge check result: ${describeIssues(r.error)}`,
      'input',
      'give a file written by tinyforge check --results FILE (or its --json output)',
    );
  const { schema: _s, ...m } = r.data;
  void _s;
  return m;
}

/** Checks measurements against the configuration's thresholds and, if given, a baseline. */
export function checkMeasurements(
  m: CheckMeasurements,
  config: CheckConfig,
  measuredIn: CheckResult['measuredIn'],
): CheckResult {
  const base = config.baseline !== undefined ? readCheckJson(config.baseline, '--baseline') : undefined;
  const baseOf = (board: string) => base?.boards.find((b) => b.board === board)?.figures;
  const checks = m.boards.flatMap((b) =>
    evaluateBoard({
      figures: b.figures,
      thresholds: config.thresholds,
      floatAccuracy: m.floatAccuracy,
      baseline: baseOf(b.board),
      tolerances: config.tolerances,
    }),
  );
  const failed = checks.filter((r) => r.verdict === 'fail').map(describeFailure);
  return {
    schema: CHECK_SCHEMA,
    passed: failed.length === 0,
    failed,
    ...m,
    checks,
    ...(base && config.baseline
      ? {
          baseline: {
            file: config.baseline,
            missingBoards: m.boards.map((b) => b.board).filter((b) => baseOf(b) === undefined),
          },
        }
      : {}),
    measuredIn,
  };
}

/** The exit-1 error: every failing threshold named. */
export function thresholdError(r: CheckResult): TinyforgeError | null {
  if (r.passed) return null;
  const n = r.failed.length;
  return new TinyforgeError(
    `${n} threshold${n === 1 ? '' : 's'} failed: ${r.failed.join('; ')}`,
    'threshold',
    'the table above shows each measured figure against its limit; change the model or the limits in the check configuration',
  );
}
