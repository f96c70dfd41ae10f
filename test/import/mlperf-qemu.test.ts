// The MLPerf Tiny models through the whole CLI as a user would take them: import (the .h5 where
// upstream ships one, the float .tflite for KWS) -> compress --bits 8 -> build -> run on an
// emulated Cortex-M4, bit-exact with the host reference on the sample inputs and synthetic ones.
// (`npm run bench -- mlperf` measures the same flow.)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import {
  boardFor,
  importedFile,
  MLPERF_MODELS,
  mlperfWindows,
  runMlperf,
  writeWindowsData,
} from '../helpers/mlperf.js';

process.env.TINYFORGE_CACHE = tempDir('tf-mlperf-cache-');

describe.runIf(runMlperf)('MLPerf Tiny models imported, compressed to 8 bits, on QEMU', () => {
  for (const name of MLPERF_MODELS) {
    it(`${name}: import -> compress --bits 8 -> build -> run is bit-exact with the host`, async () => {
      const dir = tempDir(`tf-mlperf-${name}-`);
      const model = join(dir, 'model');
      // Identity normalization: the windows are what the model takes.
      const args = ['import', importedFile(name), '--out', model, '--input-mean', '0', '--input-std', '1'];
      const probe = await runCommand(importCommand, [...args, '--json']);
      expect(probe.code, probe.err).toBe(0);
      const { inputShape, classNames } = JSON.parse(probe.out) as {
        inputShape: number[];
        classNames: string[];
      };
      const [T, C] = inputShape;
      const data = writeWindowsData(dir, mlperfWindows(name, T * C, 8), T, C, classNames.length);
      const i = await runCommand(importCommand, [...args, '--data', data]);
      expect(i.code, i.err).toBe(0);

      const tfm = join(dir, 'm.tfm');
      const c = await runCommand(compressCommand, ['compress', model, '--bits', '8', '--out', tfm]);
      expect(c.code, c.err).toBe(0);
      const fw = join(dir, 'fw');
      const b = await runCommand(buildCommand, ['build', tfm, '--board', boardFor(name), '--out', fw]);
      expect(b.code, b.err).toBe(0);
      const r = await runCommand(runCmd, ['run', fw, '--limit', '8', '--json']);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.windows).toBe(name === 'vww' ? 4 : 8);
      expect(j.agreement.equal).toBe(true);
    }, 600_000);
  }
});
