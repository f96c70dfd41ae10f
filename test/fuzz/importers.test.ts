// Property-based fuzzing of the model importers (src/import): Keras HDF5 (.h5) and archives
// (.keras), TensorFlow Lite (.tflite, float and int8) and ONNX (.onnx) fixture files with byte damage,
// each read through importModelFile as every command does.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importModelFile } from '../../src/import/index.js';
import { tempDir } from '../helpers/temp.js';
import { applyEdits, byteEdits, forAll, parsesOrRefusesAsync, Tally, timeoutFor } from './property.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'import');
const FIXTURES: Record<string, string[]> = {
  'Keras HDF5': ['keras/conv1d.h5', 'keras/add.h5', 'keras/batchnorm.h5'],
  'Keras archive': ['keras/conv1d.keras', 'keras/add.keras'],
  TFLite: [
    'tflite/add.tflite',
    'tflite/add.int8.tflite',
    'tflite/avgpool.int8.tflite',
    'tflite/maxpool_same.int8.tflite',
  ],
  ONNX: ['onnx/avgpool2d.onnx', 'onnx/batchnorm2d.onnx', 'onnx/cnn2d_flatten_linear.onnx'],
};

const NORMAL = 60;

describe('model importers under generated damage', () => {
  for (const [format, files] of Object.entries(FIXTURES)) {
    const bases = files.map((f) => ({ ext: f.slice(f.lastIndexOf('.')), bytes: readFileSync(join(DIR, f)) }));

    it(`the ${format} fixtures import`, async () => {
      for (const f of files)
        expect((await importModelFile(join(DIR, f))).model.graph.layers.length).toBeGreaterThan(0);
    });

    it(
      `${format}: damaged files import or raise TinyforgeError`,
      async () => {
        const dir = tempDir('tf-fuzz-import-');
        const t = new Tally(`${format} importer`);
        // Keras HDF5: a known open finding (hdf5-attribute-hang, test/fixtures/fuzz/) makes h5wasm
        // loop forever inside the HDF5 library; CI replays a fixed seed for it until that is fixed.
        await forAll(
          { normal: NORMAL, share: 1, ...(format === 'Keras HDF5' ? { seed: 20 } : {}) },
          fc.tuple(fc.integer({ min: 0, max: bases.length - 1 }), byteEdits(4)),
          async ([i, edits]) => {
            const path = join(dir, `model${bases[i].ext}`);
            writeFileSync(path, applyEdits(bases[i].bytes, edits));
            t.add(await parsesOrRefusesAsync('importModelFile', () => importModelFile(path)));
          },
        );
        t.report();
      },
      timeoutFor(NORMAL, 100),
    );
  }
});
