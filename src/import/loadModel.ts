// Every command that takes a float model takes a model directory or a model file from another
// framework (imported on the fly, with identity normalization and placeholder class names unless
// the caller knows better; `tinyforge import` keeps what the file does not say).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeTfm } from '../qmodel/tfm.js';
import { identityNormalization } from '../data/normalize.js';
import { loadModelDir, type LoadedModelDir, type LoadModelDirOptions } from '../train/modelDir.js';
import { importModelFile, isImportableFile } from './index.js';

/** Where `tinyforge import` keeps a fully int8 .tflite's own quantization in a model directory. */
export const KEPT_INT8_FILE = 'int8.tfm';

export interface LoadModelOptions extends LoadModelDirOptions {
  /** A fully int8 .tflite is dequantized and compressed by tinyforge (no `int8`). */
  requantize?: boolean;
}

/**
 * A model directory, a tfjs model.json, or a .h5/.keras/.tflite/.onnx file. A fully int8 .tflite
 * (or a directory imported from one) also comes with its kept int8 model, unless `requantize`.
 */
export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<LoadedModelDir> {
  if (!isImportableFile(path)) {
    const loaded = loadModelDir(path, opts);
    const kept = join(loaded.meta.dir, KEPT_INT8_FILE);
    if (opts.requantize || !existsSync(kept)) return loaded;
    const { mean, std } = loaded.normalization;
    return { ...loaded, int8: { ...decodeTfm(readFileSync(kept), kept), normalization: { mean, std } } };
  }
  const imported = await importModelFile(path, { classNames: opts.classNames });
  const C = imported.model.graph.inputShape[1];
  const normalization = opts.normalization ?? identityNormalization(C);
  const int8 = opts.requantize ? undefined : imported.keptQuantization?.({ coding: 'packed' });
  return {
    model: imported.model,
    normalization,
    meta: { dir: dirname(path), origin: 'import', source: imported.source },
    ...(int8
      ? { int8: { ...int8, normalization: { mean: normalization.mean, std: normalization.std } } }
      : {}),
  };
}
