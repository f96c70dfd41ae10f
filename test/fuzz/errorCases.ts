// One case per row of docs/errors.md: the bad input of that row, fed to the reader every command
// uses for it. errors.test.ts runs each case, holds its message to the row's pattern and its exit
// code (the CLI's, through reportError) to the row's code, and fails for a row without a case or a
// case without a row.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packTfm, unpackTfm } from '../../src/qmodel/container.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';
import { readWindowsFile, encodeWindowsFile, quantizeWindows } from '../../src/measure/windows.js';
import { parseMap } from '../../src/size/index.js';
import { parseUciHar } from '../../src/data/uciHar.js';
import { parseNpy, npyBytes } from '../../src/data/recordings/npy.js';
import { loadRecordings } from '../../src/data/recordings/index.js';
import { loadSweepConfig } from '../../src/sweep/config.js';
import { readArchFile } from '../../src/graph/arch.js';
import { loadBoardFile } from '../../src/boards/boards.js';
import { parseCheckConfig, readCheckConfigFile } from '../../src/check/config.js';
import { importModelFile } from '../../src/import/index.js';
import { readBuildInfo } from '../../src/measure/firmware.js';
import { HDF5_LIMITS, stopHdf5Reader } from '../../src/import/keras/hdf5.js';
import { readResultsFile, writeResults } from '../../src/sweep/results.js';
import { computeNormalization } from '../../src/data/normalize.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { loadModelDir, saveModelDir } from '../../src/train/modelDir.js';
import { archToGraph } from '../../src/graph/arch.js';
import { initParams } from '../../src/train/forward.js';
import { quantizeModel } from '../../src/compress/quantize.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { encodeWeights } from '../../src/qmodel/coding/weights.js';
import { trainModel } from '../../src/train/trainer.js';
import { randomModel } from '../helpers/randomModel.js';
import { writeJson, writeRecording } from '../data/recordingFixtures.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const TFM = encodeTfm(randomModel(2));

/** Re-frames a .tfm with its header changed (a valid CRC: the payload checks are reached). */
function reframed(edit: (h: Record<string, unknown>, payload: Uint8Array) => Uint8Array | void): Uint8Array {
  const { header, payload } = unpackTfm(TFM, 'x');
  const h = structuredClone(header) as Record<string, unknown>;
  const p = Uint8Array.from(payload);
  return packTfm(h, edit(h, p) ?? p);
}

const SMALL = {
  layers: [
    { type: 'conv1d', filters: 4, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
};

export type ErrorCase = (dir: string) => unknown;

export const ERROR_CASES: Record<string, ErrorCase> = {
  'tfm-magic': () => decodeTfm(Buffer.from('PK\u0003\u0004 not a model file'), 'm.tfm'),
  'tfm-truncated': () => decodeTfm(TFM.subarray(0, TFM.length - 9), 'm.tfm'),
  'tfm-crc': () => {
    const b = Uint8Array.from(TFM);
    b[40] ^= 1;
    return decodeTfm(b, 'm.tfm');
  },
  'tfm-header': () =>
    decodeTfm(
      reframed((h) => void (h.inputFrac = 'four')),
      'm.tfm',
    ),
  'tfm-bound': () =>
    decodeTfm(
      reframed((h) => void (h.inputShape = [1_000_000_000, 2])),
      'm.tfm',
    ),
  'tfm-range': () =>
    decodeTfm(
      reframed((_h, p) => p.subarray(0, 3)),
      'm.tfm',
    ),
  'tfm-inconsistent': () =>
    decodeTfm(
      reframed(
        (h) => void (((h.classNames as string[]).length = 0), (h.classNames as string[]).push('only')),
      ),
      'm.tfm',
    ),
  'tfm-bitstream': () =>
    decodeTfm(
      reframed((h, p) => {
        // Every byte of every bitstream set: no code decodes to exactly its rows.
        for (const l of h.layers as {
          weights?: { coding: string; bitstream: { offset: number; bytes: number } };
        }[])
          if (l.weights && l.weights.coding !== 'packed')
            p.fill(0xff, l.weights.bitstream.offset, l.weights.bitstream.offset + l.weights.bitstream.bytes);
      }),
      'm.tfm',
    ),
  'windows-file': (dir) => {
    const f = join(dir, 'w.bin');
    const b = encodeWindowsFile(new Int8Array(16), 2, 4, 2);
    writeFileSync(f, b.subarray(0, b.length - 1));
    return readWindowsFile(f);
  },
  'map-not-a-map': () => parseMap('hello\nworld\n', 'firmware.map'),
  'uci-ragged': (dir) => {
    const root = join(dir, 'UCI HAR Dataset');
    cpSync(join(FIXTURES, 'uci-har-mini', 'UCI HAR Dataset'), root, { recursive: true });
    const f = join(root, 'train', 'Inertial Signals', 'body_acc_x_train.txt');
    // The file cut in the middle of its first line.
    writeFileSync(f, readFileSync(f, 'latin1').slice(0, 200) + '\n', 'latin1');
    return parseUciHar(root);
  },
  'uci-nan': (dir) => {
    const root = join(dir, 'UCI HAR Dataset');
    cpSync(join(FIXTURES, 'uci-har-mini', 'UCI HAR Dataset'), root, { recursive: true });
    const f = join(root, 'test', 'Inertial Signals', 'total_acc_z_test.txt');
    writeFileSync(f, readFileSync(f, 'latin1').replace(/\S+/, 'NaN'), 'latin1');
    return parseUciHar(root);
  },
  'npy-damaged': () => {
    const b = npyBytes(new Float32Array(12), [3, 4]);
    return parseNpy(b.subarray(0, b.length - 4), 'X.npy');
  },
  'recordings-description': (dir) => {
    mkdirSync(join(dir, 'rec'));
    writeRecording(join(dir, 'rec', 'S01_s1.csv'), { rate: 20, runs: [['walk', 3]], seed: 1 });
    const d = writeJson(dir, 'data.json', {
      sources: 'rec/*.csv',
      channels: ['ramp', 'down', 'flat', 'code'],
      columns: { time: 't', label: 'label' },
      windows: { length: 10, hop: 5 },
      split: { by: 'subject', test: 1.5 },
    });
    return loadRecordings(d, { cache: false });
  },
  'recordings-csv': (dir) => {
    mkdirSync(join(dir, 'rec'));
    for (const s of [1, 2, 3, 4])
      writeRecording(join(dir, 'rec', `S0${s}_s1.csv`), {
        rate: 20,
        runs: [
          ['walk', 2],
          ['run', 2],
        ],
        seed: s,
      });
    const f = join(dir, 'rec', 'S03_s1.csv');
    const lines = readFileSync(f, 'utf8').split('\n');
    lines[5] = lines[5].replace(/^([^,]*),[^,]*/, '$1,1.5e');
    writeFileSync(f, lines.join('\n'));
    const d = writeJson(dir, 'data.json', {
      sources: 'rec/*.csv',
      fileName: '(?<subject>S\\d+)_s(?<session>\\d+)\\.csv$',
      channels: ['ramp', 'down', 'flat', 'code'],
      columns: { time: 't', label: 'label' },
      windows: { length: 10, hop: 5 },
      split: { by: 'subject', test: 0.25, val: 0.25, seed: 3 },
    });
    return loadRecordings(d, { cache: false });
  },
  'json-syntax': (dir) => {
    const f = join(dir, 'sweep.json');
    writeFileSync(f, '{ "widths": [1, 2], }');
    return loadSweepConfig(f);
  },
  'sweep-config': (dir) => {
    const f = join(dir, 'sweep.json');
    writeFileSync(
      f,
      JSON.stringify({ format: 'tinyforge-sweep/1', widths: [1], compression: { bits: [9] } }),
    );
    return loadSweepConfig(f);
  },
  'arch-file': (dir) => {
    const f = join(dir, 'net.json');
    writeFileSync(f, JSON.stringify({ layers: [{ type: 'conv1d', filters: -3, kernelSize: 3 }] }));
    return readArchFile(f);
  },
  'board-file': (dir) => {
    const f = join(dir, 'myboard.json');
    const b = JSON.parse(
      readFileSync(join(FIXTURES, '..', '..', 'src', 'boards', 'netduinoplus2.json'), 'utf8'),
    ) as Record<string, unknown>;
    writeFileSync(f, JSON.stringify({ ...b, name: 'myboard', flashSize: 'big' }));
    return loadBoardFile(f);
  },
  'check-config-file': (dir) => {
    const f = join(dir, 'tinyforge.check.json');
    writeFileSync(
      f,
      JSON.stringify({ format: 'tinyforge-check/1', model: 'm.tfm', thresholds: { minAccuracy: 'high' } }),
    );
    return parseCheckConfig(readCheckConfigFile(f), f, true);
  },
  'check-config-flags': () => parseCheckConfig({ model: 'm.tfm', boards: [] }, 'the command line', false),
  'import-damaged': async (dir) => {
    const f = join(dir, 'net.tflite');
    const b = readFileSync(join(FIXTURES, 'import', 'tflite', 'add.tflite'));
    writeFileSync(f, b.subarray(0, 40));
    return importModelFile(f);
  },
  'import-hdf5-hang': () => importModelFile(join(FIXTURES, 'fuzz', 'hdf5-attribute-hang.h5')),
  'import-zip-sizes': (dir) => {
    // Finding keras-zip-size: the weights entry's declared size made 3.4 GB by one damaged byte.
    const b = Buffer.from(readFileSync(join(FIXTURES, 'import', 'keras', 'conv1d.keras')));
    const entry = b.lastIndexOf(Buffer.from('PK\x01\x02', 'latin1')); // model.weights.h5 is the last
    b.writeUInt32LE(0xcc000000, entry + 24); // its uncompressed size
    const f = join(dir, 'model.keras');
    writeFileSync(f, b);
    return importModelFile(f);
  },
  'import-hdf5-limits': async () => {
    // A file beyond the reader's bounds: the fixture, read with a bound of 3 objects.
    const saved = { ...HDF5_LIMITS };
    HDF5_LIMITS.maxObjects = 3;
    await stopHdf5Reader();
    try {
      return await importModelFile(join(FIXTURES, 'import', 'keras', 'conv1d.h5'));
    } finally {
      Object.assign(HDF5_LIMITS, saved);
      await stopHdf5Reader();
    }
  },
  'build-folder': (dir) => readBuildInfo(dir),
  'sweep-results-changed': (dir) => {
    const meta = { data: 'synthetic', code: 'x', metric: 'modelFlash' as const, plots: [] };
    writeResults(dir, [], meta);
    writeFileSync(join(dir, 'results.csv'), 'edited\n');
    return readResultsFile(dir);
  },
  'import-unsupported': () => importModelFile(join(FIXTURES, 'import', 'tflite', 'custom_op.tflite')),
  'nan-window': () => {
    const m = randomModel(2);
    const x = new Float32Array(2 * m.inputShape[0] * m.inputShape[1]);
    x[x.length - 1] = NaN;
    return quantizeWindows(m, x, 2);
  },
  'nan-imported-weights': async (dir) => {
    const src = join(FIXTURES, 'import', 'tflite', 'add.tflite');
    const ok = await importModelFile(src);
    const kernel = Object.values(ok.model.params).find((p) => p.kernel)!.kernel!;
    const bytes = Buffer.from(readFileSync(src));
    bytes.writeFloatLE(NaN, bytes.indexOf(Buffer.from(kernel.buffer, kernel.byteOffset, 4)));
    const f = join(dir, 'add.tflite');
    writeFileSync(f, bytes);
    return importModelFile(f);
  },
  'nan-model-dir': async (dir) => {
    const ds = generateSynthetic({ seed: 1, train: 24, test: 8 });
    const graph = archToGraph(SMALL, { inputShape: [128, 9], classNames: ds.classNames });
    const out = join(dir, 'model');
    await saveModelDir(
      out,
      { graph, params: initParams(graph, 1) },
      { normalization: computeNormalization(ds.train) },
    );
    const w = readFileSync(join(out, 'weights.bin'));
    w.writeFloatLE(NaN, 0);
    writeFileSync(join(out, 'weights.bin'), w);
    return loadModelDir(out);
  },
  'nan-normalization': () => {
    const ds = generateSynthetic({ seed: 1, train: 24, test: 8 });
    const x = Float32Array.from(ds.train.x);
    x[3] = Infinity;
    return computeNormalization({ ...ds.train, x }, undefined, 'data.json (training split)');
  },
  'nan-quantization': () => {
    const ds = generateSynthetic({ seed: 1, train: 24, test: 8 });
    const graph = archToGraph(SMALL, { inputShape: [128, 9], classNames: ds.classNames });
    const model = deployableGraph({ graph, params: initParams(graph, 1) });
    const name = Object.keys(model.params).find((k) => model.params[k].kernel)!;
    const kernel = Float32Array.from(model.params[name].kernel!);
    kernel[0] = NaN;
    return quantizeModel(
      { ...model, params: { ...model.params, [name]: { ...model.params[name], kernel } } },
      {
        bits: 8,
        perChannel: false,
        encode: (v, rows, rowLength, bits) => encodeWeights(v, rows, rowLength, bits, 'packed'),
        calibration: { windows: ds.train.x, n: 4 },
        normalization: { mean: new Array<number>(9).fill(0), std: new Array<number>(9).fill(1) },
      },
    );
  },
  'training-diverged': (dir) =>
    trainModel({
      data: 'synthetic:train=64,test=32,seed=2',
      out: join(dir, 'm'),
      arch: SMALL,
      epochs: 1,
      lr: 1e30,
      progress: 'none',
      quietBackend: true,
    }),
  'model-dir-out': (dir) => {
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    return trainModel({ data: 'synthetic', out: dir, epochs: 1, progress: 'none', quietBackend: true });
  },
};
