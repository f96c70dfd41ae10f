// Sweep configuration files (docs/sweep.md): which data, how to train the float model of each
// width, and the compression settings to try, as a grid of axes and/or an explicit list of points.
//
//   {
//     "format": "tinyforge-sweep/1",                    optional
//     "name": "uci-har", "description": "...",          optional
//     "data": "../../shared/data/uci-har",              default data (relative to this file); --data wins
//     "arch": "my-arch.json",                           optional: a file (relative to this file) or a
//                                                       built-in name (ds-cnn1d, tcn); default har-default
//     "seed": 1,
//     "training":    { "epochs": 30, "batchSize": 32, "lr": 0.002, "patience": 10 },
//     "compression": { "lr": 0.0005, "batchSize": 64, "pruneScope": "layer", "calibrationWindows": 1024 },
//     "axes": {                                          the full grid of these values
//       "widths": [16, 32, [24, 32, 48], { "scale": 0.5 }],
//       "prune": [0, 0.5, 0.9], "structured": [false], "bits": [2, 4, 8, "float"],
//       "perChannel": [true], "coding": ["auto"], "finetuneEpochs": [2]
//     },
//     "points": [ { "width": 16, "bits": 4, "prune": 0.5 } ]   extra explicit points
//   }
//
// Width: a number = that many filters in every Conv1D of the architecture; an array = filters per
// Conv1D in order; { "scale": s } = the architecture's own filter counts times s (rounded, >= 1).
// bits "float" is the unquantized model of that width (float accuracy, 32-bit parameter bytes):
// the other settings do not apply to it, so the grid holds one float point per width.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { CODINGS } from '../qmodel/model.js';
import type { CodingChoice } from '../qmodel/coding/index.js';
import { TinyforgeError } from '../util/errors.js';
import { isBuiltInArch } from '../train/archs/index.js';

export const SWEEP_FORMAT = 'tinyforge-sweep/1';

const WidthSchema = z.union([
  z.number().int().min(1).max(1024),
  z.array(z.number().int().min(1).max(1024)).min(1),
  z.strictObject({ scale: z.number().positive().max(16) }),
]);
export type WidthSpec = z.infer<typeof WidthSchema>;

const BitsSchema = z.union([z.number().int().min(2).max(8), z.literal('float')]);
export type BitsSetting = z.infer<typeof BitsSchema>;

const PruneSchema = z.number().min(0).max(0.95);
const CodingSchema = z.enum([...CODINGS, 'auto'] as unknown as [CodingChoice, ...CodingChoice[]]);
const EpochsSchema = z.number().int().min(0).max(1000);

const nonEmpty = <T extends z.ZodType>(t: T) => z.array(t).min(1);

const AxesSchema = z.strictObject({
  widths: nonEmpty(WidthSchema),
  prune: nonEmpty(PruneSchema).optional(),
  structured: nonEmpty(z.boolean()).optional(),
  bits: nonEmpty(BitsSchema).optional(),
  perChannel: nonEmpty(z.boolean()).optional(),
  coding: nonEmpty(CodingSchema).optional(),
  finetuneEpochs: nonEmpty(EpochsSchema).optional(),
});

const PointSchema = z.strictObject({
  width: WidthSchema,
  prune: PruneSchema.optional(),
  structured: z.boolean().optional(),
  bits: BitsSchema.optional(),
  perChannel: z.boolean().optional(),
  coding: CodingSchema.optional(),
  finetuneEpochs: EpochsSchema.optional(),
});

const TrainingSchema = z.strictObject({
  epochs: z.number().int().min(1).default(30),
  batchSize: z.number().int().min(1).default(32),
  lr: z.number().positive().default(0.002),
  /** Early-stopping patience in epochs, 0 = off. */
  patience: z.number().int().min(0).default(10),
});

const CompressionSchema = z.strictObject({
  lr: z.number().positive().default(5e-4),
  batchSize: z.number().int().min(1).default(64),
  pruneScope: z.enum(['layer', 'global']).default('layer'),
  calibrationWindows: z.number().int().min(1).default(1024),
});

export const SweepConfigSchema = z
  .strictObject({
    format: z.literal(SWEEP_FORMAT).optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    data: z.string().min(1).optional(),
    /** A built-in architecture's name (src/train/archs) or a JSON file. */
    arch: z.string().min(1).optional(),
    /**
     * A float model to compress instead of training one per width: a model directory or a .h5,
     * .keras, .tflite or .onnx file. Its width is its own, so every width must be 1.
     */
    model: z.string().min(1).optional(),
    seed: z.number().int().default(1),
    training: TrainingSchema.default(TrainingSchema.parse({})),
    compression: CompressionSchema.default(CompressionSchema.parse({})),
    axes: AxesSchema.optional(),
    points: z.array(PointSchema).min(1).optional(),
  })
  .refine((c) => c.axes !== undefined || c.points !== undefined, {
    message: 'give "axes" (a grid), "points" (a list) or both',
  })
  .refine((c) => c.model === undefined || c.arch === undefined, {
    message: 'give "model" (a model to compress) or "arch" (one to train), not both',
  })
  .refine((c) => c.model === undefined || allWidths(c).every((w) => w === 1), {
    message: 'with "model" the width is the model\'s own: every width must be 1 (or leave "widths" at [1])',
  });

/** Every width the axes and points name (points without one take 1). */
function allWidths(c: { axes?: { widths: unknown[] }; points?: { width?: unknown }[] }): unknown[] {
  return [...(c.axes?.widths ?? []), ...(c.points ?? []).map((p) => p.width ?? 1)];
}

export type SweepConfigInput = z.input<typeof SweepConfigSchema>;
export type SweepConfig = z.output<typeof SweepConfigSchema>;
export type TrainingSettings = SweepConfig['training'];
export type CompressionSettings = SweepConfig['compression'];

/** One point of the sweep, every setting explicit and normalized (see normalizePoint). */
export interface SweepPoint {
  width: WidthSpec;
  bits: BitsSetting;
  prune: number;
  structured: boolean;
  perChannel: boolean;
  coding: CodingChoice;
  finetuneEpochs: number;
}

export const POINT_DEFAULTS: Omit<SweepPoint, 'width'> = {
  bits: 8,
  prune: 0,
  structured: false,
  perChannel: true,
  coding: 'auto',
  finetuneEpochs: 0,
};

export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 4)
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${path ? path.replace(/^\./, '') + ': ' : ''}${i.message}`;
    })
    .join('; ');
}

/** Validates a sweep configuration object; `where` names its origin in errors. */
export function parseSweepConfig(value: unknown, where = 'sweep configuration'): SweepConfig {
  const r = SweepConfigSchema.safeParse(value);
  if (!r.success)
    throw new TinyforgeError(
      `${where} is not a valid sweep configuration: ${describeIssues(r.error)}`,
      'input',
      'see docs/sweep.md (widths, prune 0..0.95, bits 2..8 or "float", coding packed|huffman|rle-huffman|auto)',
    );
  return r.data;
}

export interface LoadedSweepConfig {
  config: SweepConfig;
  /** The file it came from (undefined for the built-in default). */
  path?: string;
  /** `data`, `arch` and `model` resolved against the file's folder. */
  data?: string;
  archPath?: string;
  modelPath?: string;
}

/** `synthetic` or `synthetic:...` (not a path). */
export function isSyntheticSpec(data: string): boolean {
  return /^synthetic(?::|$)/.test(data.trim());
}

/** Reads and validates a sweep JSON file; relative `data` and `arch` paths are taken from its folder. */
export function loadSweepConfig(path: string): LoadedSweepConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TinyforgeError(`cannot read sweep configuration ${path}: ${(e as Error).message}`, 'input');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TinyforgeError(`${path} is not valid JSON: ${(e as Error).message}`, 'input');
  }
  const config = parseSweepConfig(json, path);
  const base = dirname(resolve(path));
  const rel = (p: string | undefined) =>
    p === undefined || isSyntheticSpec(p) || isAbsolute(p) ? p : resolve(base, p);
  const arch = config.arch !== undefined && isBuiltInArch(config.arch) ? config.arch : rel(config.arch);
  return { config, path, data: rel(config.data), archPath: arch, modelPath: rel(config.model) };
}

/**
 * Points equal in effect become equal objects: no pruning is the same structured or not, and a
 * float point ignores every compression setting.
 */
export function normalizePoint(p: Partial<SweepPoint> & { width: WidthSpec }): SweepPoint {
  const q: SweepPoint = { ...POINT_DEFAULTS, ...p };
  if (q.bits === 'float') return { ...POINT_DEFAULTS, width: q.width, bits: 'float' };
  if (q.prune === 0) q.structured = false;
  return {
    width: q.width,
    bits: q.bits,
    prune: q.prune,
    structured: q.structured,
    perChannel: q.perChannel,
    coding: q.coding,
    finetuneEpochs: q.finetuneEpochs,
  };
}

/** Short stable label, e.g. `w16 b4 p0.50s pc auto ft2` or `w24-32-48 float`. */
export function widthLabel(w: WidthSpec): string {
  if (typeof w === 'number') return String(w);
  if (Array.isArray(w)) return w.join('-');
  return `x${w.scale}`;
}

export function pointLabel(p: SweepPoint): string {
  const w = `w${widthLabel(p.width)}`;
  if (p.bits === 'float') return `${w} float`;
  return [
    w,
    `b${p.bits}`,
    `p${p.prune.toFixed(2)}${p.structured ? 's' : ''}`,
    p.perChannel ? 'pc' : 'pl',
    p.coding,
    `ft${p.finetuneEpochs}`,
  ].join(' ');
}

/** The grid (every combination of the axes) followed by the explicit points, duplicates removed. */
export function expandPoints(config: SweepConfig): SweepPoint[] {
  const out: SweepPoint[] = [];
  const seen = new Set<string>();
  const add = (p: SweepPoint) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  const a = config.axes;
  if (a) {
    const d = POINT_DEFAULTS;
    for (const width of a.widths)
      for (const bits of a.bits ?? [d.bits])
        for (const prune of a.prune ?? [d.prune])
          for (const structured of a.structured ?? [d.structured])
            for (const perChannel of a.perChannel ?? [d.perChannel])
              for (const coding of a.coding ?? [d.coding])
                for (const finetuneEpochs of a.finetuneEpochs ?? [d.finetuneEpochs])
                  add(normalizePoint({ width, bits, prune, structured, perChannel, coding, finetuneEpochs }));
  }
  for (const p of config.points ?? []) add(normalizePoint(p));
  return out;
}
