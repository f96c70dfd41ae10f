// The exported sources compile as the Arduino and Zephyr builds would compile them (their SDKs are
// not available offline: arm-none-eabi-gcc for a Cortex-M4 with C11 flags; the example sketch with
// arm-none-eabi-g++ as C++ against a stub Arduino.h), and the generated C compiles with clang for
// the Cortex-M4 (--target=arm-none-eabi, the DSP kernels at -O2, the portable C at -O0) and the
// host (two models here; every operator in test/ops), -Wall -Wextra -Werror -std=c99 -pedantic, without a single diagnostic.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/commands/export.js';
import { generateC } from '../../src/codegen/index.js';
import { importModelFile } from '../../src/import/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { clangPresent, compileClean } from '../codegen/cbuild.js';
import { runCommand } from '../helpers/cli.js';
import { randomModel } from '../helpers/randomModel.js';
import { opSuite } from '../helpers/randomOps/index.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool, seededModel, writeModel } from './helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const M4 = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];
const WARN = ['-Wall', '-Wextra', '-Werror'];
let dir: string;

beforeAll(async () => {
  for (const t of ['arm-none-eabi-gcc', 'arm-none-eabi-g++']) await requireTool(t);
  dir = tempDir('tf-export-compile-');
});

async function exported(format: 'arduino' | 'zephyr'): Promise<string> {
  const out = join(dir, format);
  const r = await runCommand(exportCommand, [
    'export',
    await writeModel(dir, 5),
    '--format',
    format,
    '--out',
    out,
  ]);
  expect(r.code, r.err).toBe(0);
  return out;
}

describe('Arduino and Zephyr folders compile as their builds compile them', () => {
  it('arduino: src/ with gnu11 -Os for a Cortex-M4, the sketch as C++ (gnu++14) against Arduino.h', async () => {
    const out = await exported('arduino');
    const src = join(out, 'src');
    await compileClean(
      'arm-none-eabi-gcc',
      [...M4, '-std=gnu11', '-Os', ...WARN, '-c', 'model.c', '-o', join(dir, 'a.o')],
      src,
    );
    const ino = join(out, 'examples', 'tf_model', 'tf_model.ino');
    const stub = join(FIXTURES, 'export', 'arduino');
    await compileClean(
      'arm-none-eabi-g++',
      [...M4, '-std=gnu++14', '-Os', ...WARN, '-fsyntax-only', '-I', stub, '-I', src, '-x', 'c++', ino],
      out,
    );
  });

  it('zephyr: src/ with -std=c11 -Os for a Cortex-M4, the include folder its CMakeLists.txt names', async () => {
    const out = await exported('zephyr');
    const caller = join(dir, 'zephyr-app.c');
    writeFileSync(
      caller,
      '#include "model.h"\nint app(const int8_t *x, int8_t *y) { return tf_model_predict(x, y); }\n',
    );
    for (const [file, o] of [
      [join(out, 'src', 'model.c'), 'z.o'],
      [caller, 'app.o'],
    ]) {
      await compileClean(
        'arm-none-eabi-gcc',
        [...M4, '-std=c11', '-Os', ...WARN, '-I', join(out, 'src'), '-c', file, '-o', join(dir, o)],
        out,
      );
    }
  });
});

/** Models covering every decoder, every operator and the int8 (TFLite) scheme. */
async function clangModels(): Promise<{ name: string; model: CompressedModel }[]> {
  const int8 = await importModelFile(
    join(FIXTURES, 'import', 'tflite', 'conv2d_same_stride_relu.int8.tflite'),
  );
  return [
    { name: 'har-default rle-huffman 4-bit', model: seededModel(5) },
    { name: 'random 3', model: randomModel(3) },
    { name: 'huffman only', model: randomModel(206, { codings: ['huffman'] }) },
    ...opSuite(0, 1),
    { name: 'int8 conv2d huffman', model: int8.keptQuantization!({ coding: 'huffman' }) },
  ];
}

/** Where newlib's headers are: clang for arm-none-eabi uses the gcc toolchain's sysroot. */
async function armSysroot(): Promise<string> {
  const { stdout } = await execa('arm-none-eabi-gcc', ['-print-file-name=libc.a']);
  return dirname(dirname(stdout.trim()));
}

describe('clang compiles the generated C', () => {
  it('--target=arm-none-eabi Cortex-M4 (-O2: DSP kernels; -O0: portable C) and the host (-O2)', async () => {
    expect(await clangPresent()).toBe(true);
    const models = await clangModels();
    const sysroot = await armSysroot();
    const strict = ['-std=c99', ...WARN, '-pedantic'];
    const arm = ['--target=arm-none-eabi', ...M4, `--sysroot=${sysroot}`, ...strict];
    for (const [i, m] of models.entries()) {
      const d = join(dir, `clang-${i}`);
      mkdirSync(d);
      for (const f of generateC(m.model, { sourceName: m.name }).files)
        writeFileSync(join(d, f.name), f.content);
      const levels = i === 0 ? ['-O2', '-O0'] : ['-O2'];
      for (const o of levels) await compileClean('clang', [...arm, o, '-c', 'model.c', '-o', `arm${o}.o`], d);
      // The DSP kernels were compiled (TF_DSP): the object has SMLAD-family instructions at -O2.
      if (i === 0) {
        const dis = await execa('arm-none-eabi-objdump', ['-d', join(d, 'arm-O2.o')]);
        expect(dis.stdout).toMatch(/\bsml[a-z]+\b/);
      }
      // The host build (portable C) of every operator is also in test/ops (gcc and clang, run bit-exact).
      if (i === 0 || i === models.length - 1)
        await compileClean('clang', [...strict, '-O2', '-c', 'model.c', '-o', 'host.o'], d);
    }
  });
});
