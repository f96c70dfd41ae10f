// The exported make and cmake libraries build, with the real make and cmake, into their example
// program (library + main.c + embedded windows + firmware runtime), which runs on QEMU and prints
// the class and logits of every window exactly as the host reference computes them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/commands/export.js';
import { loadDataset } from '../../src/data/load.js';
import { quantizeWindow } from '../../src/reference/input.js';
import { runReference } from '../../src/reference/interpreter.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { DATA, requireTool, seededModel, sh, writeModel } from './helpers.js';

const WINDOWS = 8;
let dir: string;
let dataset: ReturnType<typeof loadDataset> | undefined;

beforeAll(async () => {
  for (const t of ['make', 'cmake', 'arm-none-eabi-gcc', 'qemu-system-arm']) await requireTool(t);
  dir = tempDir('tf-export-example-');
});

/** The lines the host reference predicts for the first WINDOWS test windows of DATA. */
async function expectedLines(variant: 0 | 5): Promise<string[]> {
  const model = seededModel(variant);
  const test = (await (dataset ??= loadDataset(DATA))).test;
  const size = test.steps * test.channels;
  const lines: string[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const q = quantizeWindow(model, test.x.subarray(i * size, (i + 1) * size), `window ${i}`);
    const r = runReference(model, q);
    const name = model.classNames[r.classIndex];
    lines.push(
      `window ${i}: class ${r.classIndex} ${name} (label ${test.y[i]}), logits ${Array.from(r.logits).join(' ')}`,
    );
  }
  return lines;
}

function windowLines(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('window '));
}

async function exportWith(format: 'make' | 'cmake', variant: 0 | 5, extra: string[] = []): Promise<string> {
  const tfm = await writeModel(dir, variant);
  const out = join(dir, format);
  const r = await runCommand(exportCommand, [
    'export',
    tfm,
    '--format',
    format,
    '--example',
    String(WINDOWS),
    '--out',
    out,
    ...extra,
  ]);
  expect(r.code, r.err).toBe(0);
  return out;
}

describe('the example program of an export', () => {
  it('make (4-bit rle-huffman, 80% pruned, --prefix har_ --ram small): make builds the library and the example, make run prints the reference classes', async () => {
    const out = await exportWith('make', 5, ['--prefix', 'har_', '--ram', 'small']);
    await sh('make', ['-C', join(out, 'example')], out);
    expect(readFileSync(join(out, 'libhar_model.a')).subarray(0, 8).toString('latin1')).toBe('!<arch>\n');
    // The small-RAM kernels and the prefix reached the library's sources.
    const source = readFileSync(join(out, 'har_model.c'), 'utf8');
    expect(source).toMatch(/Small-RAM kernel/);
    expect(source).toMatch(/\bint har_model_run_in\(/);
    expect(source).not.toMatch(/\btf_model_run\b/);
    const expected = await expectedLines(5);
    // The classes vary, so a constant answer cannot pass.
    expect(new Set(expected.map((l) => /class (\d+)/.exec(l)![1])).size).toBeGreaterThan(1);
    const printed = windowLines(await sh('make', ['-s', '-C', join(out, 'example'), 'run'], out));
    expect(printed).toEqual(expected);
  });

  it('cmake (8-bit packed): the example project adds the library target, builds Release and runs on QEMU', async () => {
    const out = await exportWith('cmake', 0);
    const build = join(dir, 'cmake-build');
    await sh(
      'cmake',
      [
        '-S',
        join(out, 'example'),
        '-B',
        build,
        `-DCMAKE_TOOLCHAIN_FILE=${join(out, 'cmake', 'arm-none-eabi.cmake')}`,
      ],
      out,
    );
    await sh('cmake', ['--build', build], out);
    // Release: the library is compiled with optimization (the DSP kernels).
    const flags = readFileSync(join(build, 'tf_model', 'CMakeFiles', 'tf_model.dir', 'flags.make'), 'utf8');
    expect(flags).toMatch(/^C_FLAGS = .*-mcpu=cortex-m4 .*-O3/m);
    const expected = await expectedLines(0);
    expect(new Set(expected.map((l) => /class (\d+)/.exec(l)![1])).size).toBeGreaterThan(1);
    const printed = windowLines(await sh('cmake', ['--build', build, '--target', 'run'], out));
    expect(printed).toEqual(expected);
  });
});
