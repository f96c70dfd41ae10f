// Writing an imported model as a model directory: what the file does not say (class names, input
// normalization, the data it belongs to) is given once and kept. The directory appears whole or
// not at all: it is written beside the target and renamed into place.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDataset } from '../data/load.js';
import { computeNormalization, identityNormalization, type Normalization } from '../data/normalize.js';
import type { HarDataset } from '../data/dataset.js';
import { checkDataFitsModel } from '../cli/data.js';
import { checkModelDirOut, reloadableDataSpec, saveModelDir } from '../train/modelDir.js';
import { TinyforgeError } from '../util/errors.js';
import type { ImportedModel, InputMeaning } from './common.js';
import { importModelFile } from './index.js';
import { KEPT_INT8_FILE } from './loadModel.js';
import type { CompressedModel } from '../qmodel/model.js';
import { encodeTfm } from '../qmodel/tfm.js';
import { replaceDirectory, writeFileAtomic } from '../util/files.js';

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
  /**
   * A fully int8 .tflite: 'keep' (the default for one) writes its own quantization beside the float
   * model (KEPT_INT8_FILE), 'requantize' does not (tinyforge then quantizes the dequantized model).
   */
  quantization?: 'keep' | 'requantize';
}

export interface ImportResult {
  imported: ImportedModel;
  /** The kept int8 model (written as KEPT_INT8_FILE), when there is one. */
  int8?: CompressedModel;
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
    if (![...mean, ...std].every(Number.isFinite))
      throw new TinyforgeError('--input-mean and --input-std values must be finite numbers', 'usage');
    if (std.some((s) => s <= 0)) throw new TinyforgeError('--input-std values must be > 0', 'usage');
    return { mean, std, source: '--input-mean/--input-std' };
  }
  if (ds) return computeNormalization(ds.train, ds.channelNames, `${spec} (training split)`);
  return identityNormalization(C);
}

/** The file's own int8 quantization, kept unless asked otherwise (only a fully int8 .tflite has one). */
function keptInt8(r: ImportRequest, imported: ImportedModel, n: Normalization): CompressedModel | undefined {
  if (r.quantization === 'requantize') return undefined;
  if (!imported.keptQuantization) {
    if (r.quantization === 'keep')
      throw new TinyforgeError(
        `${r.file} is not a fully int8 TensorFlow Lite model: there is no int8 quantization to keep`,
        'usage',
        'import it without --keep-quantization',
      );
    return undefined;
  }
  const model = imported.keptQuantization({ coding: 'packed' });
  return { ...model, normalization: { mean: n.mean, std: n.std } };
}

/** Imports a model file and writes it as a model directory. */
export async function importToModelDir(r: ImportRequest): Promise<ImportResult> {
  checkModelDirOut(resolve(r.out), 'import');
  let classNames = givenClasses(r);
  const spec = r.data ? reloadableDataSpec(r.data) : undefined;
  const ds = spec ? loadDataset(spec) : undefined;
  classNames ??= ds?.classNames;
  const imported = await importModelFile(r.file, { classNames, inputMeaning: r.inputMeaning });
  const graph = imported.model.graph;
  if (ds && spec) checkDataFitsModel(graph, r.file, ds, spec, 'give data whose windows are the model input');
  const normalization = normalizationFor(r, graph.inputShape[1], ds, spec);
  const int8 = keptInt8(r, imported, normalization);
  const out = resolve(r.out);
  await replaceDirectory(out, async (tmp) => {
    await saveModelDir(tmp, imported.model, {
      normalization,
      source: { ...imported.source, file: resolve(r.file) },
      // The data the model belongs to, as a trained model records it: later commands default to it.
      ...(spec ? { training: { data: spec, importedFrom: resolve(r.file) } } : {}),
    });
    if (int8) writeFileAtomic(join(tmp, KEPT_INT8_FILE), encodeTfm(int8));
  });
  return { imported, normalization, out, ...(int8 ? { int8 } : {}), ...(spec ? { data: spec } : {}) };
}
