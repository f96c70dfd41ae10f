// `tinyforge export` without compilers: each format's files where its build system expects them,
// the README's figures as the header states them, the Arduino and Zephyr layouts' required parts,
// the folder written whole, and the errors (exit codes) of wrong use.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/commands/export.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { apiPrefix, libraryName } from '../../src/export/view.js';
import { DATA, writeModel } from './helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
let dir: string;
let tfm: string;

beforeAll(async () => {
  dir = tempDir('tf-export-layout-');
  tfm = await writeModel(dir, 5);
});

const run = (args: string[]) => runCommand(exportCommand, ['export', ...args]);

/** Every file under a folder, '/'-separated, sorted. */
function tree(root: string, sub = ''): string[] {
  return readdirSync(join(root, sub), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(root, join(sub, e.name)) : [join(sub, e.name)]))
    .sort();
}

/** #define NAME <integer> of a header. */
function define(header: string, name: string): number {
  const m = new RegExp(`^#define ${name} (\\d+)$`, 'm').exec(header);
  if (!m) throw new Error(`${name} is not defined`);
  return Number(m[1]);
}

const C_FILES = ['model.c', 'model.h', 'tf_fixedpoint.h'];

describe('tinyforge export: layouts', () => {
  it.each([
    ['plain', [...C_FILES, 'README.md']],
    ['make', [...C_FILES, 'Makefile', 'tinyforge_model.mk', 'README.md']],
    ['cmake', [...C_FILES, 'CMakeLists.txt', 'cmake/arm-none-eabi.cmake', 'README.md']],
    [
      'arduino',
      [
        ...C_FILES.map((f) => `src/${f}`),
        'src/tf_model.h',
        'library.properties',
        'examples/tf_model/tf_model.ino',
        'README.md',
      ],
    ],
    [
      'zephyr',
      [...C_FILES.map((f) => `src/${f}`), 'zephyr/module.yml', 'CMakeLists.txt', 'Kconfig', 'README.md'],
    ],
  ])('%s: the files, the README figures as model.h states them, --json', async (format, files) => {
    const out = join(dir, `lib-${format}`);
    const r = await run([tfm, '--format', format, '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(tree(out)).toEqual([...files, 'tinyforge-export.json'].sort());
    const json = JSON.parse(r.out) as { files: { path: string; bytes: number }[]; name: string };
    expect(json.name).toBe('tf_model');
    expect(json.files.map((f) => f.path).sort()).toEqual([...files].sort());
    for (const f of json.files) expect(readFileSync(join(out, f.path)).length, f.path).toBe(f.bytes);

    const src = format === 'arduino' || format === 'zephyr' ? join(out, 'src') : out;
    const h = readFileSync(join(src, 'model.h'), 'utf8');
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    const n = (v: number) => v.toLocaleString('en-US');
    const arena = define(h, 'TF_ARENA_BYTES');
    const weights = define(h, 'TF_WEIGHT_BYTES');
    const tables = define(h, 'TF_TABLE_BYTES');
    expect(readme).toContain(`the activation arena, ${n(arena)} B in section \`.bss.tf_arena\``);
    expect(readme).toContain(
      `${n(weights + tables)} B of model data: coded weights and biases ${n(weights)} B`,
    );
    expect(readme).toContain(`decode tables and shifts ${n(tables)} B`);
    // Every call the README names is declared by the header.
    for (const [, fn] of readme.matchAll(/`(tf_\w+)\(/g)) expect(h, fn).toMatch(new RegExp(`\\b${fn}\\(`));
  });

  it('arduino: library.properties has every field the library specification requires', async () => {
    const out = join(dir, 'lib-arduino');
    const props = Object.fromEntries(
      readFileSync(join(out, 'library.properties'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const k of [
      'name',
      'version',
      'author',
      'maintainer',
      'sentence',
      'paragraph',
      'category',
      'url',
      'architectures',
    ])
      expect(props[k], k).toMatch(/\S/);
    expect(props.version).toMatch(/^\d+\.\d+\.\d+$/);
    // The categories the Arduino library manager accepts.
    expect([
      'Display',
      'Communication',
      'Signal Input/Output',
      'Sensors',
      'Device Control',
      'Timing',
      'Data Storage',
      'Data Processing',
      'Other',
    ]).toContain(props.category);
    // The example sketch is examples/<name>/<name>.ino and includes the header library.properties names.
    expect(existsSync(join(out, 'src', props.includes))).toBe(true);
    const ino = readFileSync(join(out, 'examples', props.name, `${props.name}.ino`), 'utf8');
    expect(ino).toContain(`#include <${props.includes}>`);
    expect(ino).toMatch(/void setup\(\)/);
    expect(ino).toMatch(/void loop\(\)/);
  });

  it('zephyr: module.yml names the CMakeLists.txt and Kconfig it has; the option guards the library', async () => {
    const out = join(dir, 'lib-zephyr');
    const yml = readFileSync(join(out, 'zephyr', 'module.yml'), 'utf8');
    expect(yml).toMatch(/^name: tf_model$/m);
    const cmakeDir = /^ {2}cmake: (\S+)$/m.exec(yml)?.[1];
    const kconfig = /^ {2}kconfig: (\S+)$/m.exec(yml)?.[1];
    expect(cmakeDir).toBeDefined();
    expect(kconfig).toBeDefined();
    // Paths in module.yml are relative to the module's root (the folder that holds zephyr/).
    const cmake = readFileSync(join(out, cmakeDir!, 'CMakeLists.txt'), 'utf8');
    const kc = readFileSync(join(out, kconfig!), 'utf8');
    const option = /^config (\w+)$/m.exec(kc)?.[1];
    expect(option).toBe('TF_MODEL');
    expect(cmake).toContain(`if(CONFIG_${option})`);
    expect(cmake).toMatch(/zephyr_library_named\(tf_model\)/);
    const sources = /zephyr_library_sources\(([^)]*)\)/.exec(cmake)![1].trim().split(/\s+/);
    expect(sources).toEqual(['src/model.c']);
    for (const s of sources) expect(existsSync(join(out, s)), s).toBe(true);
    expect(cmake).toMatch(/zephyr_include_directories\(src\)/);
  });

  it('--name names the library, its files and variables', async () => {
    const out = join(dir, 'lib-named');
    const r = await run([tfm, '--format', 'make', '--name', 'har_net', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(out, 'tinyforge_model.mk'), 'utf8')).toMatch(
      /^HAR_NET_LIB := \$\(HAR_NET_DIR\)\/libhar_net\.a$/m,
    );
    expect(readFileSync(join(out, 'Makefile'), 'utf8')).toMatch(/^all: libhar_net\.a$/m);
  });
});

describe('tinyforge export: the folder and errors', () => {
  it('replaces an earlier export whole: no file of the old one is left', async () => {
    const out = join(dir, 'replaced');
    expect((await run([tfm, '--format', 'cmake', '--out', out])).code).toBe(0);
    const r = await run([tfm, '--format', 'plain', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(tree(out)).toEqual([...C_FILES, 'README.md', 'tinyforge-export.json'].sort());
    expect(readdirSync(dir).filter((f) => f.includes('replaced'))).toEqual(['replaced']);
  });

  it('a failed export leaves the earlier one as it was', async () => {
    const out = join(dir, 'kept');
    expect((await run([tfm, '--format', 'make', '--out', out])).code).toBe(0);
    const before = tree(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]);
    const r = await run([tfm, '--format', 'cmake', '--out', out, '--board', 'no-such-board']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('no-such-board');
    expect(tree(out).map((f) => [f, readFileSync(join(out, f), 'utf8')])).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes('kept'))).toEqual(['kept']);
  });

  it('refuses a folder that holds anything but an export, and leaves it alone', async () => {
    const out = join(dir, 'project');
    mkdirSync(out);
    writeFileSync(join(out, 'main.c'), 'int main(void) { return 0; }\n');
    const r = await run([tfm, '--format', 'plain', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not empty and is not a tinyforge export/);
    expect(readdirSync(out)).toEqual(['main.c']);
  });

  it.each([
    [
      ['--format', 'arduino', '--example', '2'],
      2,
      /--example is for the make and cmake formats, not arduino/,
    ],
    [['--format', 'make', '--bits', '4'], 2, /already compressed: --bits apply to a model directory/],
    [['--format', 'make', '--name', '9lives'], 2, /library name '9lives' is not a C identifier/],
    [['--format', 'make', '--example', '0'], 2, /--example must be a positive integer/],
    [['--format', 'zip'], 2, /Invalid values/],
    [['--format', 'plain', '--data', 'synthetic'], 2, /--data is only used with --example N/],
  ])('%j: exit %i', async (flags, code, message) => {
    const r = await run([tfm, ...flags, '--out', join(dir, 'refused')]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('a model file is compressed first with the compress flags (here a float .tflite, 6-bit)', async () => {
    const tflite = join(FIXTURES, 'import', 'tflite', 'har_conv1d.tflite');
    const out = join(dir, 'from-tflite');
    const r = await run([
      tflite,
      '--format',
      'make',
      '--bits',
      '6',
      '--data',
      DATA,
      '--example',
      '2',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^export: compressing .*har_conv1d\.tflite/m);
    const h = readFileSync(join(out, 'model.h'), 'utf8');
    expect(define(h, 'TF_INPUT_T')).toBe(128);
    expect(h).toContain('"WALKING"');
    // The compress report (stderr) lists each weighted layer with its bits: 6, as asked.
    const bits = r.err
      .split('\n')
      .map((l) => /^(\S+)\s+(packed|huffman|rle-huffman)\s+(\d+)\s/.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number(m[3]));
    expect(bits.length).toBeGreaterThan(0);
    expect(new Set(bits)).toEqual(new Set([6]));
    const json = JSON.parse(readFileSync(join(out, 'tinyforge-export.json'), 'utf8')) as {
      example: { windows: number };
    };
    expect(json.example.windows).toBe(2);
    expect(readFileSync(join(out, 'example', 'tf_windows.h'), 'utf8')).toMatch(/^#define TF_EMBED_N 2$/m);
  });

  it('a missing model is an input error', async () => {
    const r = await run([join(dir, 'none.tfm'), '--format', 'plain', '--out', join(dir, 'x')]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('none.tfm');
  });
});

describe('names from the generated files', () => {
  it('the API prefix is the part of <prefix>model.h before model.h; the library is <prefix>model', () => {
    const file = (name: string) => ({ name, content: '' });
    expect(apiPrefix([file('model.c'), file('model.h')])).toBe('tf_');
    expect(apiPrefix([file('kws_model.c'), file('kws_model.h'), file('kws_fixedpoint.h')])).toBe('kws_');
    expect(libraryName(undefined, 'kws_')).toBe('kws_model');
    expect(libraryName('har', 'kws_')).toBe('har');
    expect(() => libraryName('a-b', 'tf_')).toThrow(/not a C identifier/);
  });
});
