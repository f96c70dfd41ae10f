// --prefix: the rename pass on its own (identifiers only, never inside words or strings), the prefix
// check, and generated models under a prefix: no tf_ symbol in the object, no TF_ macro in any file,
// two prefixed headers in one translation unit, and `tinyforge compile --prefix`.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCommand } from '../../src/cli/commands/compile.js';
import { applyPrefix, checkPrefix, generateC } from '../../src/codegen/index.js';
import { buildModelFirmware } from '../../src/measure/index.js';
import { importModelFile } from '../../src/import/index.js';
import { writeTfm } from '../../src/qmodel/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { runCommand } from '../helpers/cli.js';
import { randomModel } from '../helpers/randomModel.js';
import { HARNESS_DIR, STRICT, writeGenerated } from './cbuild.js';

describe('applyPrefix', () => {
  it('renames identifiers that start with tf_, TF_, tfl_, TFL_ and nothing else', () => {
    const src = [
      'int tf_model_run(tf_arena_t *a); /* tf_model_run, -DTF_PORTABLE */',
      '#define TF_OK 0',
      'x = tfl_srdhm(TFL_DSP, my_tf_x, TF_OKAY, tfx_y, ab_TF_Z);',
      'static const char *n = "tf_layer TF_OK"; char c = \'t\';',
      '#include "tf_fixedpoint.h"',
      '__attribute__((section(".text.tf_kernels.tf_run")))',
      '/* sections: .rodata.tf_weights.<layer>, .bss.tf_arena */',
      '// tf_line comment',
    ].join('\n');
    expect(applyPrefix(src, 'kws_')).toBe(
      [
        'int kws_model_run(kws_arena_t *a); /* kws_model_run, -DKWS_PORTABLE */',
        '#define KWS_OK 0',
        'x = kws_tfl_srdhm(KWS_TFL_DSP, my_tf_x, KWS_OKAY, tfx_y, ab_TF_Z);',
        'static const char *n = "tf_layer TF_OK"; char c = \'t\';',
        '#include "kws_fixedpoint.h"',
        '__attribute__((section(".text.tf_kernels.tf_run")))',
        '/* sections: .rodata.tf_weights.<layer>, .bss.tf_arena */',
        '// kws_line comment',
      ].join('\n'),
    );
  });

  it('leaves the text alone for the default prefix', () => {
    const src = 'int tf_x = TF_Y; "tf_z"';
    expect(applyPrefix(src, 'tf_')).toBe(src);
  });
});

describe('checkPrefix', () => {
  it('accepts lower-case identifier prefixes ending in _', () => {
    for (const p of ['kws_', 'a_', 'm2_', 'har_v1_']) expect(() => checkPrefix(p), p).not.toThrow();
  });

  it('rejects anything else with a usage error and a suggestion', () => {
    const bad: [string, RegExp][] = [
      ['Kws_', /--prefix kws_/],
      ['kws', /--prefix kws_/],
      ['_kws_', /--prefix kws_/],
      ['1kws_', /--prefix kws_/],
      ['k-s_', /--prefix k_s_/],
      ['', /kws_/],
      ['a'.repeat(30) + '_', /at most 24/],
    ];
    for (const [p, hint] of bad) {
      let err: unknown;
      try {
        checkPrefix(p);
      } catch (e) {
        err = e;
      }
      expect(err, p).toBeInstanceOf(TinyforgeError);
      const e = err as TinyforgeError;
      expect(e.category).toBe('usage');
      expect(`${e.message} ${e.hint ?? ''}`, p).toMatch(hint);
    }
  });
});

/** The external symbols of an object (defined and undefined). */
async function globals(obj: string): Promise<string[]> {
  const { stdout } = await execa('nm', ['-g', obj]);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter(Boolean);
}

/** Macros a file defines beyond the compiler's own. */
async function macros(dir: string, file: string): Promise<string[]> {
  const dm = async (args: string[]) =>
    (await execa('gcc', ['-std=c99', '-E', '-dM', ...args], { cwd: dir })).stdout.split('\n');
  const base = new Set(await dm(['-x', 'c', '/dev/null']));
  return (await dm(['-I', HARNESS_DIR, file]))
    .filter((l) => !base.has(l))
    .map((l) => l.split(/[\s(]/)[1])
    .filter(
      (m) => !/^(INT|UINT|SIZE|PTRDIFF|WCHAR|WINT|SIG_ATOMIC|INTMAX|UINTMAX|INTPTR|UINTPTR)\d*_/.test(m),
    )
    .filter((m) => !/^_/.test(m) && m !== 'NULL' && m !== 'offsetof' && !/^(U?INT|INT)\d*_C$/.test(m));
}

describe('generated models under a prefix', () => {
  let dir: string;
  let int8: CompressedModel;
  const pow2 = randomModel(5);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-prefix-'));
    const fixture = join(HARNESS_DIR, '..', '..', 'fixtures', 'import', 'tflite', 'residual_add.int8.tflite');
    int8 = (await importModelFile(fixture)).keptQuantization!({ coding: 'huffman' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, prefix] of [
    ['pow2', 'har_'],
    ['int8', 'kws_'],
  ] as const) {
    it(`${name}: files, symbols and macros all carry ${prefix}`, async () => {
      const model = name === 'pow2' ? pow2 : int8;
      const g = generateC(model, { prefix });
      const d = join(dir, name);
      writeGenerated(d, g);
      const want = [`${prefix}fixedpoint.h`, `${prefix}model.c`, `${prefix}model.h`];
      if (name === 'int8') want.push(`${prefix}fixedpoint_tflite.h`);
      expect(readdirSync(d).sort()).toEqual(want.sort());
      await execa('gcc', [...STRICT, '-O1', '-c', `${prefix}model.c`, '-o', 'm.o'], { cwd: d });
      const syms = await globals(join(d, 'm.o'));
      expect(syms.filter((s) => s.startsWith('tf'))).toEqual([]);
      expect(syms.filter((s) => s.startsWith(prefix)).sort()).toEqual(
        ['model_argmax', 'model_predict', 'model_run', 'model_run_in', 'quantize_input'].map(
          (s) => prefix + s,
        ),
      );
      const up = prefix.toUpperCase();
      for (const f of want) {
        const defined = await macros(d, f);
        expect(defined.length, f).toBeGreaterThan(0);
        expect(
          defined.filter((m) => !m.startsWith(up)),
          f,
        ).toEqual([]);
      }
    });
  }

  it('two prefixed headers compile in one translation unit', async () => {
    const d = join(dir, 'both');
    writeGenerated(d, generateC(pow2, { prefix: 'a_' }));
    writeGenerated(d, generateC(int8, { prefix: 'b_' }));
    writeFileSync(
      join(d, 'both.c'),
      [
        '#include "a_model.h"',
        '#include "b_model.h"',
        'a_arena_t x;',
        'b_arena_t y;',
        'int both(const int8_t *i, int8_t *o) { return a_model_run_in(&x, i, o) + b_model_run_in(&y, i, o); }',
        'int sizes[A_INPUT_SIZE + B_INPUT_SIZE > 0 ? 1 : -1];',
        '',
      ].join('\n'),
    );
    await execa('gcc', [...STRICT, '-c', 'both.c', '-o', 'both.o'], { cwd: d });
  });

  it('tinyforge compile --prefix writes the prefixed files; a bad prefix is a usage error', async () => {
    const tfm = join(dir, 'm.tfm');
    await writeTfm(tfm, pow2);
    const out = join(dir, 'cli');
    const ok = await runCommand(compileCommand, ['compile', tfm, '--out', out, '--prefix', 'har_']);
    expect(ok.code).toBe(0);
    const g = generateC(pow2, { sourceName: 'm.tfm', prefix: 'har_' });
    for (const f of g.files) expect(readFileSync(join(out, f.name), 'utf8')).toBe(f.content);
    const bad = await runCommand(compileCommand, [
      'compile',
      tfm,
      '--out',
      join(dir, 'bad'),
      '--prefix',
      'Har',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid --prefix 'Har'.*\n.*--prefix har_/);
  });

  it('build --prefix: the measurement harness links against the prefixed model', async () => {
    const fw = await buildModelFirmware({ model: pow2, outDir: join(dir, 'fw'), prefix: 'har_' });
    expect(fw.info.prefix).toBe('har_');
    expect(fw.info.defines.HAR_HOOKS_HEADER).toBe('"har_harness_hooks.h"');
    const { stdout } = await execa('arm-none-eabi-nm', [fw.elf]);
    const names = stdout.split('\n').map((l) => l.split(' ').pop());
    expect(names).toContain('har_model_run');
    expect(names).toContain('har_model_argmax');
    expect(names.filter((n) => n?.startsWith('tf_model'))).toEqual([]);
    // The hooks reach the harness: the per-layer counters are written by the model's layers.
    expect(names).toContain('tf_h_layer_instr');
  });
});
