// The MLPerf Tiny reference models as a user brings them (src/bench/mlperfModels.ts): `tinyforge
// import` (the .h5 where upstream ships one, the float .tflite for KWS) -> `compress --bits 8` with
// packed and auto coding -> `build` -> `run` on the emulated Cortex-M4, bit-exact with the host
// reference on the sample inputs and synthetic ones. One row per model and coding: instructions
// per inference and per MAC, model flash and model RAM from the linker map.
import { mkdtempSync, rmSync } from 'node:fs';
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

export async function run(): Promise<void> {
  if (!haveMlperf()) {
    process.stdout.write(`MLPerf Tiny models not found at ${MLPERF_DIR} (set MLPERF_TINY_DIR)\n`);
    return;
  }
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
}
