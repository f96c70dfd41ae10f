// The MLPerf Tiny reference models as a user brings them (src/bench/mlperfModels.ts): `tinyforge
// import` (the .h5 where upstream ships one, the float .tflite for KWS) -> `compress --bits 8` with
// packed and auto coding -> `build` -> `run` on the emulated Cortex-M4, bit-exact with the host
// reference on the sample inputs and synthetic ones. One row per model and coding: instructions
// per inference and per MAC, model flash and model RAM from the linker map.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { formatTable } from '../util/table.js';
import { PACKAGE_ROOT } from '../sweep/hash.js';
import {
  boardFor,
  haveMlperf,
  importedFile,
  MLPERF_DIR,
  MLPERF_MODELS,
  mlperfFile,
  mlperfInt8Expected,
  mlperfWindows,
  writeWindowsData,
  type MlperfName,
} from './mlperfModels.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
const WINDOWS = 8;

/* eslint-disable @typescript-eslint/no-explicit-any -- the CLI's --json outputs */
async function tinyforge(...args: string[]): Promise<any> {
  const r = await execa('node', [CLI, ...args, '--json']);
  return JSON.parse(r.stdout);
}

/** import -> compress -> build -> run for each coding; the rows of one model. */
async function measure(name: MlperfName, dir: string): Promise<string[][]> {
  const model = join(dir, 'model');
  // Identity normalization: the windows are what the model takes.
  const norm = ['--input-mean', '0', '--input-std', '1'];
  const probe = await tinyforge('import', importedFile(name), '--out', model, ...norm);
  const [T, C] = probe.inputShape as number[];
  const data = writeWindowsData(dir, mlperfWindows(name, T * C, WINDOWS), T, C, probe.classNames.length);
  await tinyforge('import', importedFile(name), '--out', model, ...norm, '--data', data);
  const rows: string[][] = [];
  for (const coding of ['packed', 'auto']) {
    const tfm = join(dir, `${coding}.tfm`);
    await tinyforge('compress', model, '--bits', '8', '--coding', coding, '--out', tfm);
    await tinyforge('build', tfm, '--board', boardFor(name), '--out', join(dir, coding));
    const r = await tinyforge('run', join(dir, coding), '--limit', String(WINDOWS));
    if (!r.agreement.equal) throw new Error(`${name} ${coding}: target and host reference differ`);
    const f = r.flash;
    rows.push([
      name.toUpperCase(),
      coding,
      r.board,
      r.macs.toLocaleString('en-US'),
      Math.round(r.instructions.mean).toLocaleString('en-US'),
      r.instructions.perMac.toFixed(2),
      `${f.model.toLocaleString('en-US')} = ${f.weights} + ${f.tables} + ${f.kernels}`,
      `${r.ram.model.toLocaleString('en-US')} = ${r.ram.arena} + ${r.stack.inference}`,
      `${r.windows} bit-exact`,
    ]);
  }
  return rows;
}

/** The best published Cortex-M4 cycles per MAC of a model (SOURCE.md's table of MLPerf Tiny results). */
function publishedBest(name: MlperfName): { cyclesPerMac: number; stack: string } | null {
  const text = readFileSync(join(MLPERF_DIR, 'SOURCE.md'), 'utf8');
  const col = MLPERF_MODELS.indexOf(name) + 2;
  let best: { cyclesPerMac: number; stack: string } | null = null;
  const start = text.indexOf('Best published Cortex-M4 results');
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const cells = line.split('|').map((c) => c.trim());
    const m = /,\s*([\d.]+)/.exec(cells[col] ?? '');
    if (!m || cells[1].startsWith('TFLM reference')) continue;
    const v = Number(m[1]);
    if (!best || v < best.cyclesPerMac) best = { cyclesPerMac: v, stack: cells[1] };
  }
  return best;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const signedPct = (f: number) => `${f > 0 ? '+' : f < 0 ? '-' : ''}${Math.abs(100 * f).toFixed(1)}%`;

/** Targets of issue 16: instructions per MAC, kernel code, RAM over the liveness optimum. */
const INT8_TARGET_PER_MAC: Record<MlperfName, number> = { kws: 1.0, ic: 1.0, vww: 1.0, ad: 1.5 };
const INT8_KERNEL_CODE = 10 * 1024;
const INT8_RAM_SLACK = 2 * 1024;

/** The int8 .tflite kept int8: import -> compress (packed, huffman) -> build -> run; rows and layer rows. */
async function measureInt8(name: MlperfName, dir: string): Promise<{ rows: string[][]; layers: string[][] }> {
  const file = mlperfFile(mlperfInt8Expected(name).file);
  const model = join(dir, 'int8-model');
  const norm = ['--input-mean', '0', '--input-std', '1'];
  const probe = await tinyforge('import', file, '--out', model, ...norm, '--keep-quantization');
  const [T, C] = probe.inputShape as number[];
  const data = writeWindowsData(dir, mlperfWindows(name, T * C, WINDOWS), T, C, probe.classNames.length);
  await tinyforge('import', file, '--out', model, ...norm, '--keep-quantization', '--data', data);
  const rows: string[][] = [];
  let layers: string[][] = [];
  const best = publishedBest(name);
  let packedWeights = 0;
  for (const coding of ['packed', 'huffman', 'auto']) {
    const tfm = join(dir, `int8-${coding}.tfm`);
    const c = await tinyforge('compress', model, '--coding', coding, '--out', tfm);
    const b = await tinyforge('build', tfm, '--board', boardFor(name), '--out', join(dir, `int8-${coding}`));
    const r = await tinyforge('run', join(dir, `int8-${coding}`), '--limit', String(WINDOWS));
    if (!r.agreement.equal) throw new Error(`${name} int8 ${coding}: target and host reference differ`);
    const f = r.flash;
    const weights = c.totals.codedBytes as number;
    if (coding === 'packed') packedWeights = weights;
    // The liveness optimum of the int8 activations: the most bytes of tensors live at once.
    const liveness = b.build.codegen.peakTensorBytes as number;
    const perMac = r.instructions.perMac as number;
    rows.push([
      name.toUpperCase(),
      `int8 ${coding}`,
      n(r.instructions.mean),
      `${perMac.toFixed(2)} (target ${INT8_TARGET_PER_MAC[name].toFixed(1)}${perMac > INT8_TARGET_PER_MAC[name] ? `, +${(perMac - INT8_TARGET_PER_MAC[name]).toFixed(2)}` : ''})`,
      best ? `${best.cyclesPerMac} (${best.stack})` : '-',
      `${n(weights)}${coding === 'packed' ? '' : ` (${signedPct(weights / packedWeights - 1)})`}`,
      `${n(f.kernels)}${f.kernels > INT8_KERNEL_CODE ? ` (> ${n(INT8_KERNEL_CODE)})` : ''}`,
      `${n(f.model)} = ${f.weights} + ${f.tables} + ${f.kernels}`,
      `${n(r.ram.model)} = ${r.ram.arena} + ${r.stack.inference}`,
      `${n(liveness)}${r.ram.model > liveness + INT8_RAM_SLACK ? ` (+${n(r.ram.model - liveness)})` : ''}`,
      `${r.windows} bit-exact`,
    ]);
    if (coding === 'packed')
      layers = (r.layers as any[])
        .filter((l) => l.macs > 0)
        .map((l) => [
          name.toUpperCase(),
          l.name,
          l.kind,
          n(l.macs),
          l.instructions ? n(l.instructions.mean) : '-',
          l.perMac !== null ? l.perMac.toFixed(2) : '-',
        ]);
  }
  return { rows, layers };
}

const INT8_HEAD = [
  'model',
  'scheme, coding',
  'instructions',
  'per MAC',
  'best published c/MAC (M4)',
  'weights B',
  'kernel code B',
  'model flash B',
  'model RAM B',
  'liveness optimum B',
  'windows',
];

/** The int8 rows: TFLite's own quantization kept, on the same boards. */
async function runInt8(): Promise<void> {
  const rows: string[][] = [];
  const layers: string[][] = [];
  for (const name of MLPERF_MODELS) {
    const dir = mkdtempSync(join(tmpdir(), `tf-bench-mlperf-int8-${name}-`));
    try {
      const r = await measureInt8(name, dir);
      rows.push(...r.rows);
      layers.push(...r.layers);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    '\nMLPerf Tiny int8 .tflite files, their int8 quantization kept (TFLite arithmetic, bit-exact):\n',
  );
  process.stdout.write(formatTable(INT8_HEAD, rows) + '\n');
  process.stdout.write('\nPer layer (int8 packed):\n');
  process.stdout.write(
    formatTable(['model', 'layer', 'kind', 'MACs', 'instructions', 'per MAC'], layers) + '\n',
  );
  process.stdout.write(
    'Executed instructions under QEMU, not cycles: on a Cortex-M4 cycles are at least the instructions, so\n' +
      'fewer instructions per MAC than the published cycles per MAC is necessary, not sufficient, to be faster.\n' +
      'Weights: bitstreams + decode tables (against packed int8 in brackets; auto: per layer the smallest, each\n' +
      "decoder's code counted once); model flash adds\n" +
      'biases, multipliers and kernel code; RAM: arena + inference stack, against the liveness optimum of the\n' +
      'int8 activations (target: at most 2 KB more).\n',
  );
}

export async function run(): Promise<void> {
  if (!haveMlperf()) {
    process.stdout.write(`MLPerf Tiny models not found at ${MLPERF_DIR} (set MLPERF_TINY_DIR)\n`);
    return;
  }
  // TF_BENCH_MLPERF=int8: only the int8 rows.
  if (process.env.TF_BENCH_MLPERF === 'int8') return runInt8();
  const rows: string[][] = [];
  for (const name of MLPERF_MODELS) {
    const dir = mkdtempSync(join(tmpdir(), `tf-bench-mlperf-${name}-`));
    try {
      rows.push(...(await measure(name, dir)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const head = [
    'model',
    'coding',
    'board',
    'MACs',
    'instructions',
    'per MAC',
    'model flash B',
    'model RAM B',
    'windows',
  ];
  process.stdout.write(formatTable(head, rows) + '\n');
  process.stdout.write(
    'Executed instructions under QEMU (-icount shift=0), not cycles. Flash: weights + tables + kernel code;\n' +
      'RAM: arena + stack during inference. VWW runs on mps2-an386 (SysTick, 40 instructions per tick).\n',
  );
  await runInt8();
}
