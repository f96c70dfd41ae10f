// The dataset description file (docs/data.md): a JSON file naming recordings (CSV/TSV) or
// already-windowed arrays (NPY/NPZ) and how to turn them into labelled windows and splits.
// Validated with zod; every error names the file and the JSON path of the offending value.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { TinyforgeError } from '../../util/errors.js';

export const DESCRIPTION_FORMAT = 'tinyforge-data/1';

const Name = z.string().min(1);

const ChannelSchema = z.union([
  Name,
  z.strictObject({
    name: Name,
    /** CSV column holding it (default: the name). */
    column: Name.optional(),
    unit: z.string().optional(),
    /** Raw value times scale (e.g. 0.10197 for m/s² to g). */
    scale: z
      .number()
      .refine((v) => Number.isFinite(v) && v !== 0, 'must be a finite, non-zero number')
      .optional(),
  }),
]);

const ArraySourceSchema = z.strictObject({ x: Name, y: Name, subject: Name.optional() });
const SourceSchema = z.union([Name, ArraySourceSchema]);
export type ArraySource = z.infer<typeof ArraySourceSchema>;

const Fraction = z.number().gt(0).lt(1);
const UnitList = z.array(Name).min(1);

/**
 * Sample rates are bounded (finding recordings-resample-huge: resampling to 2^53 Hz made the loader
 * generate samples for minutes): 100 kHz is above any inertial, audio or vibration sensor's rate.
 */
export const MAX_RATE_HZ = 100_000;
const Rate = z.number().positive().max(MAX_RATE_HZ);

const TimeSchema = z.strictObject({
  unit: z.enum(['s', 'ms', 'us', 'ns', 'iso']).default('s'),
  rate: Rate.optional(),
  resample: Rate.optional(),
  maxGap: z.number().positive().optional(),
});

const WindowsSchema = z.strictObject({
  length: z.number().int().min(2).max(1_000_000).optional(),
  hop: z.number().int().min(1).optional(),
  label: z.enum(['majority', 'center', 'last']).default('majority'),
  mixed: z.enum(['drop', 'keep']).default('drop'),
});

const ColumnsSchema = z.strictObject({
  label: Name.optional(),
  time: Name.optional(),
  subject: Name.optional(),
  session: Name.optional(),
  ignore: z.union([z.literal('*'), z.array(Name)]).optional(),
});

const SplitSchema = z.strictObject({
  by: z.enum(['subject', 'session', 'file']).default('subject'),
  train: UnitList.optional(),
  val: z.union([Fraction, UnitList]).optional(),
  test: z.union([Fraction, UnitList]),
  seed: z.number().int().default(0),
});

const RepairSchema = z.strictObject({
  nan: z.enum(['error', 'drop-window']).default('error'),
  unknownLabel: z.enum(['error', 'drop']).default('error'),
});

export const DescriptionSchema = z.strictObject({
  format: z.literal(DESCRIPTION_FORMAT).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  sources: z.union([SourceSchema, z.array(SourceSchema).min(1)]),
  delimiter: z.string().length(1).optional(),
  fileName: Name.optional(),
  channels: z.array(ChannelSchema).min(1).optional(),
  columns: ColumnsSchema.optional(),
  time: TimeSchema.optional(),
  windows: WindowsSchema.optional(),
  classes: z.array(Name).min(2).optional(),
  rename: z.record(z.string(), Name).optional(),
  dropClasses: z.array(z.string()).optional(),
  derived: z
    .array(z.strictObject({ name: Name, magnitude: z.array(Name).min(2), unit: z.string().optional() }))
    .optional(),
  inputs: z.array(Name).min(1).optional(),
  arrays: z
    .strictObject({
      x: Name.optional(),
      y: Name.optional(),
      subject: Name.optional(),
      /** Names of integer labels 0, 1, 2, ... (default: classes, when given). */
      labels: z.array(Name).min(1).optional(),
    })
    .optional(),
  split: SplitSchema,
  repair: RepairSchema.optional(),
});

export type DescriptionInput = z.input<typeof DescriptionSchema>;
type Parsed = z.output<typeof DescriptionSchema>;

export interface ChannelDef {
  name: string;
  column: string;
  unit: string;
  scale: number;
}

export interface DerivedDef {
  name: string;
  magnitude: string[];
  unit: string;
}

/** A validated description with defaults applied and names resolved. */
export interface Description {
  /** Absolute path of the description file; sources are relative to its folder `dir`. */
  path: string;
  dir: string;
  /** The validated JSON (defaults applied): the part of the cache key that is the description. */
  json: Parsed;
  sources: (string | ArraySource)[];
  delimiter?: string;
  fileName?: RegExp;
  channels?: ChannelDef[];
  columns: { label?: string; time?: string; subject?: string; session?: string; ignore: '*' | string[] };
  time: z.output<typeof TimeSchema>;
  windows: z.output<typeof WindowsSchema>;
  classes?: string[];
  rename: Map<string, string>;
  dropClasses: Set<string>;
  derived: DerivedDef[];
  inputs?: string[];
  arrays: { x: string; y: string; subject: string; labels?: string[] };
  split: z.output<typeof SplitSchema>;
  repair: z.output<typeof RepairSchema>;
}

/** `windows.hop[0]` style path of a zod issue or of a value checked here. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

const HINT = 'see docs/data.md for the description format and complete examples';

/** An 'input' error naming the description file and the JSON path. */
export function descriptionError(
  file: string,
  path: readonly PropertyKey[],
  message: string,
): TinyforgeError {
  return new TinyforgeError(`${file}: ${path.length ? `${jsonPath(path)}: ` : ''}${message}`, 'input', HINT);
}

function checkUnique(file: string, names: string[], where: string): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw descriptionError(file, [where, i], `'${n}' is named twice`);
    seen.add(n);
  });
}

function channelDefs(file: string, d: Parsed): ChannelDef[] | undefined {
  if (!d.channels) return undefined;
  const defs = d.channels.map((c) =>
    typeof c === 'string'
      ? { name: c, column: c, unit: '', scale: 1 }
      : { name: c.name, column: c.column ?? c.name, unit: c.unit ?? '', scale: c.scale ?? 1 },
  );
  checkUnique(
    file,
    defs.map((c) => c.name),
    'channels',
  );
  return defs;
}

/** The file-name pattern, which must name a `subject` or `session` group. */
function fileNamePattern(file: string, d: Parsed): RegExp | undefined {
  if (d.fileName === undefined) return undefined;
  let re: RegExp;
  try {
    re = new RegExp(d.fileName);
  } catch (e) {
    throw descriptionError(file, ['fileName'], `not a valid regular expression: ${(e as Error).message}`);
  }
  if (!/\(\?<(subject|session)>/.test(d.fileName))
    throw descriptionError(file, ['fileName'], 'needs a named group (?<subject>...) or (?<session>...)');
  if (/\(\?<subject>/.test(d.fileName) && d.columns?.subject)
    throw descriptionError(file, ['fileName'], 'the subject comes from columns.subject already: keep one');
  if (/\(\?<session>/.test(d.fileName) && d.columns?.session)
    throw descriptionError(file, ['fileName'], 'the session comes from columns.session already: keep one');
  return re;
}

function checkDerivedAndInputs(file: string, d: Parsed, channels: ChannelDef[] | undefined): void {
  const base = new Set((channels ?? []).map((c) => c.name));
  (d.derived ?? []).forEach((dc, i) => {
    if (base.has(dc.name))
      throw descriptionError(file, ['derived', i, 'name'], `'${dc.name}' is a channel already`);
    dc.magnitude.forEach((m, j) => {
      if (!base.has(m))
        throw descriptionError(file, ['derived', i, 'magnitude', j], `'${m}' is not one of channels`);
    });
  });
  checkUnique(
    file,
    (d.derived ?? []).map((c) => c.name),
    'derived',
  );
  if (!d.inputs) return;
  checkUnique(file, d.inputs, 'inputs');
  const known = new Set([...base, ...(d.derived ?? []).map((c) => c.name)]);
  d.inputs.forEach((n, i) => {
    if (channels && !known.has(n))
      throw descriptionError(file, ['inputs', i], `'${n}' is neither a channel nor a derived channel`);
  });
}

function checkTimeAndSplit(file: string, d: Parsed): void {
  const time = d.time;
  if (time?.resample && !time.rate && !d.columns?.time)
    throw descriptionError(
      file,
      ['time', 'resample'],
      'needs time.rate or a timestamp column (columns.time)',
    );
  if (time?.unit && time.unit !== 's' && !d.columns?.time)
    throw descriptionError(file, ['time', 'unit'], 'applies to a timestamp column: set columns.time');
  const w = d.windows;
  if (w?.hop !== undefined && w.length === undefined)
    throw descriptionError(file, ['windows', 'hop'], 'needs windows.length');
  const { val, test, train } = d.split;
  const fractions = [val, test].filter((v): v is number => typeof v === 'number');
  if (fractions.reduce((a, b) => a + b, 0) >= 1)
    throw descriptionError(file, ['split'], 'the val and test fractions must add up to less than 1');
  if (train && fractions.length)
    throw descriptionError(
      file,
      ['split', 'train'],
      'a train list goes with val and test lists, not fractions',
    );
  (d.dropClasses ?? []).forEach((c, i) => {
    if (d.classes?.includes(c))
      throw descriptionError(file, ['dropClasses', i], `'${c}' is in classes too: keep it in one of the two`);
  });
  if (d.classes) checkUnique(file, d.classes, 'classes');
}

/** Validates parsed JSON; `file` names it in errors. */
export function parseDescription(value: unknown, file: string): Description {
  const r = DescriptionSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problems)` : '';
    throw descriptionError(file, issue.path, `${issue.message}${more}`);
  }
  const d = r.data;
  const channels = channelDefs(file, d);
  const fileName = fileNamePattern(file, d);
  checkDerivedAndInputs(file, d, channels);
  checkTimeAndSplit(file, d);
  const path = resolve(file);
  return {
    path,
    dir: dirname(path),
    json: d,
    sources: Array.isArray(d.sources) ? d.sources : [d.sources],
    delimiter: d.delimiter,
    fileName,
    channels,
    columns: { ...d.columns, ignore: d.columns?.ignore ?? [] },
    time: d.time ?? TimeSchema.parse({}),
    windows: d.windows ?? WindowsSchema.parse({}),
    classes: d.classes,
    rename: new Map(Object.entries(d.rename ?? {})),
    dropClasses: new Set(d.dropClasses ?? []),
    derived: (d.derived ?? []).map((c) => ({ ...c, unit: c.unit ?? '' })),
    inputs: d.inputs,
    arrays: {
      x: d.arrays?.x ?? 'X',
      y: d.arrays?.y ?? 'y',
      subject: d.arrays?.subject ?? 'subject',
      labels: d.arrays?.labels,
    },
    split: d.split,
    repair: d.repair ?? RepairSchema.parse({}),
  };
}

/** Reads and validates a description file. */
export function readDescription(file: string): Description {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TinyforgeError(`cannot read data description ${file}: ${(e as Error).message}`, 'input', HINT);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TinyforgeError(`${file} is not valid JSON: ${(e as Error).message}`, 'input', HINT);
  }
  return parseDescription(json, file);
}
