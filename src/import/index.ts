// Model files from other frameworks: which importer reads a file (by its extension), loaded lazily
// so commands that never import pay nothing for HDF5, flatbuffers or protobuf.
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { requireFiniteParams } from '../util/finite.js';
import type { ImportedModel, ImportOptions, SourceFormat } from './common.js';

const FORMATS: Record<string, SourceFormat> = {
  '.h5': 'keras-h5',
  '.hdf5': 'keras-h5',
  '.keras': 'keras',
  '.tflite': 'tflite',
  '.onnx': 'onnx',
};

/** The extensions `tinyforge import` and every model-taking command read. */
export const IMPORTABLE_EXTENSIONS = Object.keys(FORMATS);

/** The format of a model file from another framework, by its extension; undefined otherwise. */
export function importFormatOf(path: string): SourceFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** True for a Keras, TFLite or ONNX file (not a directory). */
export function isImportableFile(path: string): boolean {
  return importFormatOf(path) !== undefined && !(existsSync(path) && statSync(path).isDirectory());
}

/** Imports a Keras (.h5/.keras), TensorFlow Lite or ONNX file into the IR with its float weights. */
export async function importModelFile(file: string, opts: ImportOptions = {}): Promise<ImportedModel> {
  const format = importFormatOf(file);
  if (!format)
    throw new TinyforgeError(
      `${file}: not a model file tinyforge imports`,
      'usage',
      `give a file ending in ${IMPORTABLE_EXTENSIONS.join(', ')}`,
    );
  if (!existsSync(file) || !statSync(file).isFile())
    throw new TinyforgeError(`model file ${file} does not exist`, 'input');
  const imported = await importAs(format, file, opts);
  // The file's weights as stored: a NaN or infinite weight would quantize silently.
  requireFiniteParams(imported.model.params, file, {
    hint: 'the file holds NaN or infinite weights (a diverged training?): export a model with finite weights',
  });
  return imported;
}

async function importAs(format: SourceFormat, file: string, opts: ImportOptions): Promise<ImportedModel> {
  switch (format) {
    case 'keras-h5':
      return (await import('./keras/index.js')).importKerasH5(file, opts);
    case 'keras':
      return (await import('./keras/index.js')).importKerasArchive(file, opts);
    case 'tflite':
      return (await import('./tflite/index.js')).importTflite(file, opts);
    case 'onnx':
      return (await import('./onnx/index.js')).importOnnx(file, opts);
  }
}
