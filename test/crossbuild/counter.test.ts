// Instruction counters: the STM32 timer (netduinoplus2, exact) and the core's SysTick (mps2-an386,
// one tick = 40 instructions under -icount shift=0) count the same firmware alike: the same model,
// built for both Cortex-M4 boards, gives the same logits and instruction counts within two ticks.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

process.env.TINYFORGE_CACHE = tempDir('tf-counter-cache-');
const MODEL = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'import',
  'tflite',
  'har_conv1d.tflite',
);

describe('instruction counters', () => {
  it('SysTick on mps2-an386 counts what TIM2 counts on netduinoplus2, to 2 ticks of 40', async () => {
    const dir = tempDir('tf-counter-');
    const tfm = join(dir, 'm.tfm');
    const data = 'synthetic:seed=5,train=64,test=12,subjects=4';
    const c = await runCommand(compressCommand, [
      'compress',
      MODEL,
      '--data',
      data,
      '--bits',
      '8',
      '--out',
      tfm,
    ]);
    expect(c.code, c.err).toBe(0);
    const runs = [];
    for (const board of ['netduinoplus2', 'mps2-an386']) {
      const fw = join(dir, board);
      const b = await runCommand(buildCommand, ['build', tfm, '--board', board, '--out', fw]);
      expect(b.code, b.err).toBe(0);
      const r = await runCommand(runCmd, ['run', fw, '--json']);
      expect(r.code, r.err).toBe(0);
      runs.push(JSON.parse(r.out));
    }
    const [tim, systick] = runs;
    expect(systick.board).toBe('mps2-an386');
    expect(tim.agreement.equal && systick.agreement.equal).toBe(true);
    expect(systick.instructions.min % 40).toBe(0);
    expect(tim.instructions.mean).toBeGreaterThan(20_000);
    expect(Math.abs(systick.instructions.mean - tim.instructions.mean)).toBeLessThanOrEqual(80);
  }, 120_000);
});
