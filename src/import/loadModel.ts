// Every command that takes a float model takes a model directory or a model file from another
// framework (imported on the fly, with identity normalization and placeholder class names unless
// the caller knows better; `tinyforge import` keeps what the file does not say).
import { dirname } from 'node:path';
import { identityNormalization } from '../data/normalize.js';
import { loadModelDir, type LoadedModelDir, type LoadModelDirOptions } from '../train/modelDir.js';
import { importModelFile, isImportableFile } from './index.js';

/** A model directory, a tfjs model.json, or a .h5/.keras/.tflite/.onnx file. */
export async function loadModel(path: string, opts: LoadModelDirOptions = {}): Promise<LoadedModelDir> {
  if (!isImportableFile(path)) return loadModelDir(path, opts);
  const imported = await importModelFile(path, { classNames: opts.classNames });
  const C = imported.model.graph.inputShape[1];
  return {
    model: imported.model,
    normalization: opts.normalization ?? identityNormalization(C),
    meta: { dir: dirname(path), origin: 'import', source: imported.source },
  };
}
