// Writing an imported model as a model directory: what the file does not say (class names, input
// normalization, the data it belongs to) is given once and kept. The directory appears whole or
// not at all: it is written beside the target and renamed into place.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadDataset } from '../data/load.js';
import { computeNormalization, identityNormalization, type Normalization } from '../data/normalize.js';
import type { HarDataset } from '../data/dataset.js';
import { checkDataFitsModel } from '../cli/data.js';
import { reloadableDataSpec, saveModelDir } from '../train/modelDir.js';
import { TinyforgeError } from '../util/errors.js';
import type { ImportedModel, InputMeaning } from './common.js';
import { importModelFile } from './index.js';

export interface ImportRequest {
  file: string;
  out: string;
  /** Class names, in output order. */
  classes?: string[];
  /** A text file with one class name per line. */
  labels?: string;
  /** One value for every channel, or one per channel. */
  inputMean?: number[];
  inputStd?: number[];
  /** Data the model belongs to: its class names and (without --input-mean/std) its statistics. */
  data?: string;
  inputMeaning?: InputMeaning;
}

export interface ImportResult {
  imported: ImportedModel;
  normalization: Normalization;
  out: string;
  data?: string;
}

/** Class names from --classes or --labels (one per line, blank lines ignored). */
function givenClasses(r: ImportRequest): string[] | undefined {
  if (r.classes && r.labels) throw new TinyforgeError('give --classes or --labels, not both', 'usage');
  if (r.classes) return r.classes;
  if (!r.labels) return undefined;
  if (!existsSync(r.labels)) throw new TinyforgeError(`labels file ${r.labels} does not exist`, 'input');
  return readFileSync(r.labels, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A per-channel list from one value or C values. */
function perChannel(name: string, v: number[], C: number): number[] {
  if (v.some((x) => !Number.isFinite(x)))
    throw new TinyforgeError(`--${name} has a value that is not a finite number`, 'usage');
  if (v.length === 1) return new Array<number>(C).fill(v[0]);
  if (v.length !== C)
    throw new TinyforgeError(
      `--${name} has ${v.length} values; the model's input has ${C} channels`,
      'usage',
      `give one value, or ${C}`,
    );
  return v;
}

function normalizationFor(
  r: ImportRequest,
  C: number,
  ds: HarDataset | undefined,
  spec?: string,
): Normalization {
  if (r.inputMean || r.inputStd) {
    const mean = perChannel('input-mean', r.inputMean ?? [0], C);
    const std = perChannel('input-std', r.inputStd ?? [1], C);
    if (std.some((s) => s <= 0)) throw new TinyforgeError('--input-std values must be > 0', 'usage');
    return { mean, std, source: '--input-mean/--input-std' };
  }
  if (ds) return computeNormalization(ds.train, ds.channelNames, `${spec} (training split)`);
  return identityNormalization(C);
}

/** Replaces `out` with the directory written at `tmp` (the old one is removed only afterwards). */
function moveIntoPlace(tmp: string, out: string): void {
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
}

/** `out` may be new, empty or a model directory (replaced whole); anything else is the user's. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new TinyforgeError(`${out} exists and is not a directory`, 'usage', 'choose another --out');
  if (readdirSync(out).length > 0 && !existsSync(join(out, 'model.json')))
    throw new TinyforgeError(
      `${out} is not a model directory (no model.json) and not empty`,
      'usage',
      'choose another --out: import replaces a model directory whole',
    );
}

/** Imports a model file and writes it as a model directory. */
export async function importToModelDir(r: ImportRequest): Promise<ImportResult> {
  checkOut(resolve(r.out));
  let classNames = givenClasses(r);
  const spec = r.data ? reloadableDataSpec(r.data) : undefined;
  const ds = spec ? loadDataset(spec) : undefined;
  classNames ??= ds?.classNames;
  const imported = await importModelFile(r.file, { classNames, inputMeaning: r.inputMeaning });
  const graph = imported.model.graph;
  if (ds && spec) checkDataFitsModel(graph, r.file, ds, spec, 'give data whose windows are the model input');
  const normalization = normalizationFor(r, graph.inputShape[1], ds, spec);
  const out = resolve(r.out);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await saveModelDir(tmp, imported.model, {
      normalization,
      source: { ...imported.source, file: resolve(r.file) },
      // The data the model belongs to, as a trained model records it: later commands default to it.
      ...(spec ? { training: { data: spec, importedFrom: resolve(r.file) } } : {}),
    });
    moveIntoPlace(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { imported, normalization, out, ...(spec ? { data: spec } : {}) };
}
