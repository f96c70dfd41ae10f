// The four MLPerf Tiny int8 .tflite files through the CLI as a user takes them, their int8
// quantization kept: import -> compress (packed; huffman too for KWS and AD) -> build -> run --layers on the
// emulated Cortex-M4 (VWW on the MPS2 board; built with --layers), on every input the interpreter's per-layer CRCs were
// recorded for (test/fixtures/import/mlperf/<name>.int8.json: the sample inputs, AD's 196 windows,
// three random inputs). `run --layers` compares every layer of every window with the host reference,
// which equals the interpreter at every layer on these inputs (mlperfInt8.test.ts). The windows are
// the recorded int8 inputs dequantized: the model's input quantization gives them back exactly.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { dequantizeInt8, quantizeInt8 } from '../../src/fixedpoint/tflite.js';
import { crc32 } from '../../src/qmodel/crc32.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import {
  boardFor,
  MLPERF_MODELS,
  mlperfFile,
  mlperfInt8Expected,
  mlperfInt8Input,
  runMlperf,
  writeWindowsData,
  type MlperfName,
} from '../helpers/mlperf.js';

process.env.TINYFORGE_CACHE = tempDir('tf-mlperf-int8-cache-');

/** The recorded runs' int8 inputs (with their CRCs checked) as float windows that quantize back to them. */
function windows(name: MlperfName, size: number, scale: number, zp: number): Float32Array[] {
  const fx = mlperfInt8Expected(name);
  const quantize = (x: Float32Array) => Int8Array.from(x, (v) => quantizeInt8(v, scale, zp));
  return fx.runs.map((run) => {
    const q = mlperfInt8Input(name, run, size, quantize);
    expect(crc32(new Uint8Array(q.buffer)), 'recorded input').toBe(run.crc[String(fx.input)]);
    const x = Float32Array.from(q, (v) => dequantizeInt8(v, scale, zp));
    expect(Array.from(quantize(x))).toEqual(Array.from(q));
    return x;
  });
}

describe.runIf(runMlperf)('MLPerf Tiny int8 models, quantization kept, on QEMU at every layer', () => {
  for (const name of MLPERF_MODELS) {
    it(`${name}: import -> compress (packed, huffman) -> build -> run --layers: bit-exact at every layer`, async () => {
      const fx = mlperfInt8Expected(name);
      const file = mlperfFile(fx.file);
      const dir = tempDir(`tf-mlperf-int8-${name}-`);
      const model = join(dir, 'model');
      const args = ['import', file, '--out', model, '--input-mean', '0', '--input-std', '1'];
      const probe = await runCommand(importCommand, [...args, '--json']);
      expect(probe.code, probe.err).toBe(0);
      const { inputShape, classNames } = JSON.parse(probe.out) as {
        inputShape: number[];
        classNames: string[];
      };
      const [T, C] = inputShape;
      const input = fx.tensors.find((t) => t.index === fx.input)!;
      const ws = windows(name, T * C, input.scale[0], input.zeroPoint[0]);
      const data = writeWindowsData(dir, ws, T, C, classNames.length);
      expect((await runCommand(importCommand, [...args, '--data', data])).code).toBe(0);
      // Huffman on the two smaller models (the coded kernels are the same code; CI time).
      for (const coding of name === 'kws' || name === 'ad' ? ['packed', 'huffman'] : ['packed']) {
        const tfm = join(dir, `${coding}.tfm`);
        const c = await runCommand(compressCommand, ['compress', model, '--coding', coding, '--out', tfm]);
        expect(c.code, c.err).toBe(0);
        const fw = join(dir, coding);
        const b = await runCommand(buildCommand, [
          'build',
          tfm,
          '--board',
          boardFor(name),
          '--layers',
          '--out',
          fw,
        ]);
        expect(b.code, b.err).toBe(0);
        // The two halves of the windows file hold every recorded input between them.
        for (const split of ['train', 'test']) {
          const r = await runCommand(runCmd, ['run', fw, '--split', split, '--layers', '--json']);
          expect(r.code, r.err).toBe(0);
          const j = JSON.parse(r.out);
          expect(j.agreement).toMatchObject({ equal: true, layers: true, mismatching: 0 });
          expect(2 * j.windows).toBeGreaterThanOrEqual(ws.length);
        }
      }
    }, 900_000);
  }
});
