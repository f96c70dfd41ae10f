// `tinyforge check` configuration (docs/ci.md): tinyforge.check.json, every field also a flag.
//
//   {
//     "format": "tinyforge-check/1",                       optional
//     "model": "out/m.tfm",                                .tfm, model directory or .h5/.keras/.tflite/.onnx
//     "data": "../shared/data/uci-har",                    default: the data the model records
//     "split": "test", "limit": 500,                       which windows run on the target
//     "boards": ["netduinoplus2", "mps2-an386"],           default netduinoplus2
//     "optLevel": "-O2", "cflags": "", "timeout": 120,
//     "compression": { "prune": 0.8, "bits": 4, ... },     a float model only (the compress flags)
//     "floatModel": "out/har",                             for maxAccuracyDrop; default: the .tfm's record
//     "cacheDir": ".tinyforge-cache",                      builds reused while their inputs are unchanged
//     "thresholds": {
//       "minAccuracy": "92%", "minClassAccuracy": { "*": 0.8, "WALKING": 0.9 },
//       "maxAccuracyDrop": "1pt",
//       "maxModelFlash": "10 kB", "maxTotalFlash": 32768, "maxModelRam": "12 kB", "maxTotalRam": "24 kB",
//       "maxInstructions": "700k", "agreement": "bit-exact"    or "off", or a minimum same-class share
//     },
//     "baseline": "baseline.json",                         a previous check's --json / --results
//     "tolerances": { "accuracy": "0.5pt", "modelFlash": "64 B", "instructions": "2%" }
//   }
//
// Paths in the file are taken from its folder; flags win over the file, field by field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { CODINGS } from '../qmodel/model.js';
import type { CodingChoice } from '../qmodel/coding/index.js';
import { describeIssues, isSyntheticSpec } from '../sweep/config.js';
import { TinyforgeError } from '../util/errors.js';
import { DEFAULT_BOARD } from '../measure/index.js';
import { FIGURES, type FigureKey } from './figures.js';
import {
  AccuracySchema,
  AccuracyToleranceSchema,
  BytesSchema,
  CountSchema,
  toleranceSchema,
  type Tolerance,
} from './values.js';

export const CHECK_FORMAT = 'tinyforge-check/1';
/** Read from the working directory when --config is not given. */
export const DEFAULT_CONFIG_FILE = 'tinyforge.check.json';
/** Build cache folder (relative to the working directory) when the configuration names none. */
export const DEFAULT_CACHE_DIR = '.tinyforge-cache';
/** minClassAccuracy's key for every class not named. */
export const EVERY_CLASS = '*';

const CodingSchema = z.enum([...CODINGS, 'auto'] as unknown as [CodingChoice, ...CodingChoice[]]);

/** The compress flags (src/cli/commands/compress.ts), camelCase; unset ones take compress's defaults. */
const CompressionSchema = z.strictObject({
  prune: z.number().min(0).max(0.99).optional(),
  structured: z.boolean().optional(),
  pruneScope: z.enum(['layer', 'global']).optional(),
  bits: z.number().int().min(2).max(8).optional(),
  perChannel: z.boolean().optional(),
  coding: CodingSchema.optional(),
  finetuneEpochs: z.number().int().min(0).max(1000).optional(),
  seed: z.number().int().optional(),
  lr: z.number().positive().optional(),
  batchSize: z.number().int().min(1).optional(),
});
export type CompressionConfig = z.output<typeof CompressionSchema>;

const ClassAccuracySchema = z
  .union([AccuracySchema, z.record(z.string().min(1), AccuracySchema)])
  .transform((v) => (typeof v === 'number' ? { [EVERY_CLASS]: v } : v));

/** 'bit-exact' (every window's logits equal the host reference's), 'off', or a minimum same-class share. */
const AgreementSchema = z.union([z.literal('bit-exact'), z.literal('off'), AccuracySchema]);
export type AgreementRule = z.output<typeof AgreementSchema>;

const ThresholdsSchema = z.strictObject({
  minAccuracy: AccuracySchema.optional(),
  minClassAccuracy: ClassAccuracySchema.optional(),
  /** Float model's accuracy minus the on-target accuracy, on the same windows. */
  maxAccuracyDrop: AccuracySchema.optional(),
  maxModelFlash: BytesSchema.optional(),
  maxTotalFlash: BytesSchema.optional(),
  maxModelRam: BytesSchema.optional(),
  maxTotalRam: BytesSchema.optional(),
  maxInstructions: CountSchema.optional(),
  agreement: AgreementSchema.default('bit-exact'),
});
export type Thresholds = z.output<typeof ThresholdsSchema>;

const TolerancesSchema = z.strictObject({
  accuracy: AccuracyToleranceSchema.optional(),
  modelFlash: toleranceSchema(BytesSchema).optional(),
  totalFlash: toleranceSchema(BytesSchema).optional(),
  modelRam: toleranceSchema(BytesSchema).optional(),
  totalRam: toleranceSchema(BytesSchema).optional(),
  instructions: toleranceSchema(CountSchema).optional(),
});
export type Tolerances = Partial<Record<FigureKey, Tolerance>>;

export const CheckConfigSchema = z.strictObject({
  format: z.literal(CHECK_FORMAT).optional(),
  model: z.string().min(1).optional(),
  data: z.string().min(1).optional(),
  split: z.enum(['test', 'train']).default('test'),
  limit: z.number().int().min(1).optional(),
  boards: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .transform((b) => [...new Set(typeof b === 'string' ? [b] : b)])
    .default([DEFAULT_BOARD]),
  optLevel: z.string().min(1).optional(),
  cflags: z.string().optional(),
  timeout: z.number().positive().optional(),
  compression: CompressionSchema.optional(),
  floatModel: z.string().min(1).optional(),
  cacheDir: z.string().min(1).default(DEFAULT_CACHE_DIR),
  thresholds: ThresholdsSchema.prefault({}),
  baseline: z.string().min(1).optional(),
  tolerances: TolerancesSchema.prefault({}),
});
export type CheckConfig = z.output<typeof CheckConfigSchema>;

/** Every figure a baseline compares, in the configuration's spelling. */
export const TOLERANCE_KEYS = FIGURES.map((f) => f.key);

/** A raw configuration object: parsed JSON, or flags put in the same shape. */
export type RawConfig = Record<string, unknown>;

/** Reads a configuration file; its relative paths are taken from its folder. */
export function readCheckConfigFile(path: string): RawConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TinyforgeError(`cannot read check configuration ${path}: ${(e as Error).message}`, 'input');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new TinyforgeError(`${path} is not a check configuration (a JSON object)`, 'input');
  const base = dirname(resolve(path));
  const out: RawConfig = { ...(json as RawConfig) };
  for (const k of ['model', 'data', 'floatModel', 'cacheDir', 'baseline'] as const) {
    const v = out[k];
    if (typeof v === 'string' && !isAbsolute(v) && !(k === 'data' && isSyntheticSpec(v)))
      out[k] = resolve(base, v);
  }
  return out;
}

/** The file to read: --config, else tinyforge.check.json when the working directory has one. */
export function configFileToUse(given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

const isObject = (v: unknown): v is RawConfig => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The file's fields with the flags' over them; the nested objects merge field by field. */
export function mergeConfig(file: RawConfig, flags: RawConfig): RawConfig {
  const out: RawConfig = { ...file };
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? { ...out[k], ...v } : v;
  }
  return out;
}

/**
 * Validates a merged configuration; `where` names its origin in errors, which are 'input' errors
 * when a file was read (the file may be at fault) and 'usage' errors for flags alone.
 */
export function parseCheckConfig(value: unknown, where: string, fromFile: boolean): CheckConfig {
  const r = CheckConfigSchema.safeParse(value);
  if (!r.success)
    throw new TinyforgeError(
      `${where} is not a valid check configuration: ${describeIssues(r.error)}`,
      fromFile ? 'input' : 'usage',
      'see docs/ci.md: accuracies as 0.92 or "92%", sizes as bytes or "10 kB", tolerances as amounts or "2%"',
    );
  return r.data;
}
