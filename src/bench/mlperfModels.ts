// The MLPerf Tiny reference models in ../shared/models/mlperf-tiny (never copied into the repo):
// which file tinyforge imports for each, which board it runs on, and the inputs the committed
// expected outputs were computed on (test/fixtures/import/make_mlperf_expected.py): the sample
// inputs, synthetic inputs from a formula Python and TypeScript compute alike, and five-slice
// windows of the anomaly-detection spectrogram. Shared by the import tests and the mlperf bench.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNpy, writeNpy } from '../data/recordings/npy.js';
import { PACKAGE_ROOT } from '../sweep/hash.js';

export const MLPERF_DIR =
  process.env.MLPERF_TINY_DIR ?? resolve(PACKAGE_ROOT, '..', 'shared', 'models', 'mlperf-tiny');
export const haveMlperf = (): boolean => existsSync(join(MLPERF_DIR, 'SOURCE.md'));

export type MlperfName = 'kws' | 'vww' | 'ic' | 'ad';
export const MLPERF_MODELS: MlperfName[] = ['kws', 'vww', 'ic', 'ad'];

export type InputRecipe =
  | { kind: 'sample'; index: number; scale?: number; zeroPoint?: number }
  | { kind: 'synthetic'; seed: number; lo: number; hi: number }
  | { kind: 'slices'; first: number };

/** test/fixtures/import/mlperf/<name>.json: the inputs and the frameworks' outputs on them. */
export interface MlperfExpected {
  model: MlperfName;
  h5: string | null;
  tflite: string;
  inputs: InputRecipe[];
  tfliteOutputs: number[][];
  kerasOutputs?: number[][];
}

export function mlperfExpected(name: MlperfName): MlperfExpected {
  const path = join(PACKAGE_ROOT, 'test', 'fixtures', 'import', 'mlperf', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as MlperfExpected;
}

export const mlperfFile = (rel: string): string => join(MLPERF_DIR, rel);

/** The file tinyforge imports: the Keras .h5 where upstream ships one, else the float .tflite. */
export const importedFile = (name: MlperfName): string => {
  const e = mlperfExpected(name);
  return mlperfFile(e.h5 ?? e.tflite);
};

/**
 * The board each runs on: VWW needs 146,684 B of RAM with the fast kernels (a 92,260 B arena, its 27,648 B
 * input window, stack and heap), more than the STM32F405's 128 KB, so it runs on the MPS2 Cortex-M4.
 */
export const boardFor = (name: MlperfName): string => (name === 'vww' ? 'mps2-an386' : 'netduinoplus2');

/** Synthetic input i of a seed: the formula of make_mlperf_expected.py, exact in float64. */
export function synthetic(n: number, seed: number, lo: number, hi: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = ((i * 1103515245 + 12345 + seed * 7919) % 2 ** 31) / 2 ** 31;
    x[i] = lo + (hi - lo) * u;
  }
  return x;
}

/** The five-slice windows of the AD spectrogram: rows first..first+4 of [200, 128]. */
export function adSlices(first: number): Float32Array {
  const bytes = readFileSync(mlperfFile('ad/normal_id_01_00000000_hist_librosa.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return all.slice(first * 128, (first + 5) * 128);
}

/** One sample input as the float model takes it (int8 samples dequantized, pixels as they are). */
function sample(name: MlperfName, r: { index: number; scale?: number; zeroPoint?: number }): Float32Array {
  const a = readNpy(mlperfFile(`${name}/sample_inputs.npy`));
  const per = a.shape.slice(1).reduce((p, d) => p * d, 1);
  const x = Float32Array.from(a.data.slice(r.index * per, (r.index + 1) * per) as ArrayLike<number>);
  // float32 arithmetic as numpy did it: the exact float64 product of two float32 values, rounded once.
  const scale = Math.fround(r.scale ?? 1);
  if (r.scale !== undefined) for (let i = 0; i < x.length; i++) x[i] = (x[i] - (r.zeroPoint ?? 0)) * scale;
  return x;
}

/** The input of a recipe, flat in channels-last order. */
export function mlperfInput(name: MlperfName, r: InputRecipe, size: number): Float32Array {
  if (r.kind === 'synthetic') return synthetic(size, r.seed, r.lo, r.hi);
  if (r.kind === 'slices') return adSlices(r.first);
  return sample(name, r);
}

/** The recipes' inputs, then synthetic windows in their range up to `n` (a saturated output says little). */
export function mlperfWindows(name: MlperfName, size: number, n: number): Float32Array[] {
  const inputs = mlperfExpected(name).inputs.map((r) => mlperfInput(name, r, size));
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of inputs) for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  for (let s = 2; inputs.length < n; s++) inputs.push(synthetic(size, s, lo, hi));
  return inputs;
}

/**
 * A dataset description of windows (already [T, C]): train and test halves with every one of K
 * classes in each (labels go round; the data only carries windows to run, not ground truth).
 */
export function writeWindowsData(
  dir: string,
  windows: Float32Array[],
  T: number,
  C: number,
  K: number,
): string {
  const half = Math.max(K, Math.ceil(windows.length / 2));
  const n = 2 * half;
  const x = new Float32Array(n * T * C);
  for (let i = 0; i < n; i++) x.set(windows[i % windows.length], i * T * C);
  const y = Int32Array.from({ length: n }, (_, i) => (i % half) % K);
  const subjects = Array.from({ length: n }, (_, i) => `w${i}`);
  writeNpy(join(dir, 'X.npy'), x, [n, T, C]);
  writeNpy(join(dir, 'y.npy'), y, [n]);
  writeNpy(join(dir, 'subject.npy'), subjects, [n]);
  const description = {
    sources: [{ x: 'X.npy', y: 'y.npy', subject: 'subject.npy' }],
    split: { by: 'subject', test: subjects.slice(half) },
  };
  const path = join(dir, 'windows.json');
  writeFileSync(path, JSON.stringify(description));
  return path;
}

// ---- The int8 models (kept int8: scheme 'tflite-int8') ----------------------------------------------

/** test/fixtures/import/mlperf/<name>.int8.json (make_mlperf_int8_expected.py): every tensor's CRC-32 per run. */
export interface MlperfInt8Expected {
  model: MlperfName;
  /** The int8 .tflite, relative to MLPERF_DIR. */
  file: string;
  input: number;
  output: number;
  operators: { op: string; inputs: number[]; output: number }[];
  tensors: { index: number; name: string; shape: number[]; scale: number[]; zeroPoint: number[] }[];
  runs: {
    input:
      | { kind: 'sample'; index: number }
      | { kind: 'window'; first: number }
      | { kind: 'random'; seed: number };
    /** CRC-32 (zlib) of each tensor's int8 bytes, by tensor index. */
    crc: Record<string, number>;
    output: number[];
    /** First run only: the values of the tensors up to valuesMaxElements. */
    values?: Record<string, number[]>;
  }[];
}

export function mlperfInt8Expected(name: MlperfName): MlperfInt8Expected {
  const path = join(PACKAGE_ROOT, 'test', 'fixtures', 'import', 'mlperf', `${name}.int8.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as MlperfInt8Expected;
}

/** xorshift32 int8 values of a seed (the fixture script's generator): (state & 0xFF) - 128. */
export function xorshiftInt8(n: number, seed: number): Int8Array {
  const out = new Int8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s & 0xff) - 128;
  }
  return out;
}

/**
 * The int8 input of one run, as the interpreter got it: KWS's sample is int8 already, IC's is uint8
 * (minus 128), VWW's samples and AD's windows are quantized by `quantize` (the model's own input
 * quantization, TFLite's QUANTIZE), random runs come from xorshiftInt8.
 */
export function mlperfInt8Input(
  name: MlperfName,
  run: MlperfInt8Expected['runs'][number],
  size: number,
  quantize: (x: Float32Array) => Int8Array,
): Int8Array {
  const r = run.input;
  if (r.kind === 'random') return xorshiftInt8(size, r.seed);
  if (r.kind === 'window') return quantize(adSlices(r.first));
  const a = readNpy(mlperfFile(`${name}/sample_inputs.npy`));
  const x = Array.from(a.data.slice(r.index * size, (r.index + 1) * size) as ArrayLike<number>);
  if (name === 'kws') return Int8Array.from(x);
  if (name === 'ic') return Int8Array.from(x, (v) => v - 128);
  return quantize(Float32Array.from(x));
}
