// Property-based fuzzing of the model importers (src/import): Keras HDF5 (.h5) and archives
// (.keras), TensorFlow Lite (.tflite, float and int8) and ONNX (.onnx) fixture files with byte damage,
// each read through importModelFile as every command does.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importModelFile } from '../../src/import/index.js';
import { hdf5TimeLimitMs } from '../../src/import/keras/hdf5.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/temp.js';
import {
  applyEdits,
  byteEdits,
  type ByteEdit,
  forAll,
  parsesOrRefusesAsync,
  Tally,
  timeoutFor,
} from './property.js';

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

describe('hdf5-attribute-hang', () => {
  // A damaged .h5 (found by the fuzzer) on which the HDF5 library loops forever reading an
  // attribute: the read runs in a worker thread that is stopped after its time limit.
  const HANG = join(import.meta.dirname, '..', 'fixtures', 'fuzz', 'hdf5-attribute-hang.h5');

  it('a looping HDF5 read becomes an input error naming the file, then the next import works', async () => {
    const bytes = readFileSync(HANG).length;
    await importModelFile(join(DIR, 'keras/conv1d.h5')); // the worker is up: time only the read
    const t0 = Date.now();
    const err = await importModelFile(HANG).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(TinyforgeError);
    const e = err as TinyforgeError;
    expect(e.category).toBe('input');
    expect(e.message).toContain(HANG);
    expect(e.message).toMatch(/did not finish in \d+ s/);
    expect(e.hint).toMatch(/damaged .* or not HDF5/);
    // Stopped at its limit, not much later (the limit is what a looping read costs).
    expect(ms).toBeGreaterThanOrEqual(hdf5TimeLimitMs(bytes) - 50);
    expect(ms).toBeLessThan(hdf5TimeLimitMs(bytes) + 3_000);
    // A new worker replaces the stopped one.
    const ok = await importModelFile(join(DIR, 'keras/conv1d.h5'));
    expect(ok.model.graph.layers.length).toBeGreaterThan(0);
  }, 300_000);
});

describe('onnx-window-attribute-count', () => {
  // Found by the long run: a bit flip turns one of AveragePool's two strides into another field;
  // the output size became NaN and the converter threw a raw Error. Now refused naming the node.
  it('a pooling node with one stride for two axes is refused with TinyforgeError', async () => {
    const base = readFileSync(join(DIR, 'onnx/avgpool2d.onnx'));
    const edits: ByteEdit[] = [
      { op: 'flip', at: 0.478518545627594, mask: 32 },
      { op: 'delete', at: 0, n: 2 },
    ];
    const f = join(tempDir('tf-onnx-finding-'), 'pool.onnx');
    writeFileSync(f, applyEdits(base, edits));
    const err = await importModelFile(f).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).message).toMatch(/AveragePool.*strides \[2\] \(2 integers >= 1\)/);
  });
});

describe('keras-zip-size', () => {
  // Found by the long run: fflate allocates the size an archive's directory declares before it
  // inflates; one damaged byte declared 3.4 GB for model.weights.h5 (7 GB resident, 31 s). The
  // declared sizes are checked against what deflate can give, and the entry count is bounded.
  const base = readFileSync(join(DIR, 'keras/conv1d.keras'));
  const damaged = async (bytes: Uint8Array) => {
    const f = join(tempDir('tf-keras-finding-'), 'model.keras');
    writeFileSync(f, bytes);
    return importModelFile(f).then(
      () => undefined,
      (e: unknown) => e,
    );
  };

  it('a declared size deflate cannot give is refused before anything is allocated', async () => {
    const err = await damaged(applyEdits(base, [{ op: 'set', at: 0.9711211323738098, value: 204 }]));
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).category).toBe('input');
    expect((err as TinyforgeError).message).toMatch(
      /model\.weights\.h5 claims 3422564904 bytes from 1097 compressed \(deflate gives at most 1133128\)/,
    );
  });

  it('a directory claiming 2^32 - 1 entries is refused after 10,000', async () => {
    const b = Uint8Array.from(base);
    b.fill(0xff, b.length - 22 + 8, b.length - 22 + 12); // the end record's two entry counts
    const err = await damaged(b);
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).message).toMatch(/its zip directory claims more than 10000 entries/);
  });
});

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
        await forAll(
          { normal: NORMAL, share: 1 },
          fc.tuple(fc.integer({ min: 0, max: bases.length - 1 }), byteEdits(4)),
          async ([i, edits]) => {
            const path = join(dir, `model${bases[i].ext}`);
            writeFileSync(path, applyEdits(bases[i].bytes, edits));
            // The HDF5 reader stops a looping read at its own limit; a new worker starts after it.
            const limit = hdf5TimeLimitMs(bases[i].bytes.length) + 15_000;
            t.add(await parsesOrRefusesAsync('importModelFile', () => importModelFile(path), limit));
          },
        );
        t.report();
      },
      timeoutFor(NORMAL, 100),
    );
  }
});
