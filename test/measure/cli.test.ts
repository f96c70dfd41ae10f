// `tinyforge build`, `run` and `deploy` through yargs, in process: outputs, flags, JSON, exit codes,
// and builds that fail (an image that does not fit, a compile error) without touching the last build.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { deployCommand } from '../../src/cli/commands/deploy.js';
import { runCommand } from '../../src/cli/commands/run.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { writeTfm } from '../../src/qmodel/index.js';
import { buildModelFirmware, readBuildInfo } from '../../src/measure/index.js';
import { trainModel } from '../../src/train/trainer.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { compressTrained, runCli, SMALL_ARCH, SYNTH, tempDir } from './helpers.js';
import { flatDenseModel } from './models.js';

let dir: string;
let modelDir: string;
let model: CompressedModel;
let tfm: string;

beforeAll(async () => {
  dir = tempDir('tf-target-cli-');
  modelDir = join(dir, 'trained');
  const t = await trainModel({
    data: SYNTH,
    arch: SMALL_ARCH,
    epochs: 3,
    seed: 2,
    out: modelDir,
    progress: 'none',
    quietBackend: true,
  });
  model = await compressTrained(t, { bits: 8, coding: 'packed' });
  tfm = join(dir, 'm8.tfm');
  await writeTfm(tfm, model);
});

describe('tinyforge build', () => {
  it('builds with the flags given, prints the size table, records the flags in build.json', async () => {
    const out = join(dir, 'b-os');
    const r = await runCli(buildCommand, [
      'build',
      tfm,
      '--out',
      out,
      '-Os',
      '--cflags=-fno-inline-small-functions',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Flash: [\d,]+ B of 1,048,576 B/m);
    expect(r.out).toMatch(/^\s+weights\s+[\d,]+/m);
    const info = readBuildInfo(out);
    expect(info.optLevel).toBe('-Os');
    expect(info.extraCFlags).toEqual(['-fno-inline-small-functions']);
    expect(info.commands.compileModel).toContain('-Os');
    expect(info.commands.compileModel).toContain('-fno-inline-small-functions');
    for (const f of [
      'firmware.elf',
      'firmware.hex',
      'firmware.bin',
      'firmware.map',
      'size.json',
      'size.txt',
      'model.tfm',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'size.txt'), 'utf8')).toContain('Flash:');
  });

  it('accepts gcc spellings of the optimization level and refuses two', async () => {
    const cases: [string[], string][] = [
      [['-O3'], '-O3'],
      [['--opt', 's'], '-Os'],
      [['-O', '1'], '-O1'],
    ];
    for (const [flags, level] of cases) {
      const out = join(dir, `b-level${level}`);
      const r = await runCli(buildCommand, ['build', tfm, '--out', out, ...flags, '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).build.optLevel).toBe(level);
    }
    const two = await runCli(buildCommand, ['build', tfm, '--out', join(dir, 'b-two'), '-Os', '-O2']);
    expect(two.code).toBe(2);
    expect(two.err).toMatch(/more than one optimization level/);
    const embedNoData = await runCli(buildCommand, ['build', tfm, '--out', join(dir, 'b-e'), '--embed', '5']);
    expect(embedNoData.code).toBe(2);
  });

  it('an image that does not fit: the bytes over and the largest parts, and the last build stays', async () => {
    const out = join(dir, 'b-big');
    const small = await buildModelFirmware({ model: flatDenseModel(64), outDir: out });
    const before = readFileSync(small.elf);
    const err = await buildModelFirmware({ model: flatDenseModel(1000), outDir: out }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TinyforgeError);
    const e = err as TinyforgeError;
    expect(e.category).toBe('build');
    const over = /FLASH overflowed by (\d+) bytes/.exec(e.message);
    expect(over).not.toBeNull();
    // 1152 x 1000 weight bytes against 1 MiB of flash: over by at least the difference.
    expect(Number(over![1])).toBeGreaterThanOrEqual(1152 * 1000 - 1024 * 1024);
    expect(e.message).toMatch(/weights 1,15\d,\d{3} B \(layer hidden 1,152,000 B/);
    expect(e.hint).toContain(join(out, 'firmware.failed.map'));
    expect(existsSync(join(out, 'firmware.failed.map'))).toBe(true);
    // The previous build is untouched.
    expect(readFileSync(small.elf).equals(before)).toBe(true);
    expect(readBuildInfo(out).model.crc32).toBe(small.info.model.crc32);
  });

  it('a compile error keeps the generated sources for inspection and the last build', async () => {
    const out = join(dir, 'b-cerr');
    await buildModelFirmware({ model, outDir: out });
    const r = await runCli(buildCommand, ['build', tfm, '--out', out, '--cflags=-DTF_NUM_CLASSES=2']);
    expect(r.code).toBe(6);
    expect(r.err).toContain(join(out, 'failed-src'));
    expect(existsSync(join(out, 'failed-src', 'model.c'))).toBe(true);
    expect(existsSync(join(out, 'firmware.elf'))).toBe(true);
    // A successful build clears them again.
    expect((await runCli(buildCommand, ['build', tfm, '--out', out])).code).toBe(0);
    expect(existsSync(join(out, 'failed-src'))).toBe(false);
  });
});

describe('tinyforge run', () => {
  it('runs the windows of a split, prints JSON for machines, exit 0 when target and host agree', async () => {
    const out = join(dir, 'r');
    expect((await runCli(buildCommand, ['build', tfm, '--out', out])).code).toBe(0);
    const r = await runCli(runCommand, ['run', out, '--data', SYNTH, '--limit', '25', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.schema).toBe('tinyforge.target/1');
    expect(j.windows).toBe(25);
    expect(j.agreement.equal).toBe(true);
    expect(j.predictions).toBeUndefined();
    const text = await runCli(runCommand, ['run', out, '--data', SYNTH, '--limit', '10']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^agreement\s+bit-exact: 10 \/ 10 windows/m);
    expect(text.out).toMatch(/^instructions\s+[\d,.]+ per inference/m);
  });

  it('a build with windows in flash runs without --data and reports them as embedded', async () => {
    const out = join(dir, 'e');
    const b = await runCli(buildCommand, ['build', tfm, '--out', out, '--embed', '12', '--data', SYNTH]);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain('12 windows in flash');
    const r = await runCli(runCommand, ['run', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^board\s+netduinoplus2 \(QEMU\), 12 windows, embedded in flash/m);
    expect(r.out).toMatch(/^agreement\s+bit-exact: 12 \/ 12/m);
    expect((await runCli(runCommand, ['run', out, '--data', SYNTH])).code).toBe(2);
  });

  it('explains what is missing', async () => {
    expect((await runCli(runCommand, ['run', join(dir, 'nowhere'), '--data', SYNTH])).code).toBe(3);
    const noData = await runCli(runCommand, ['run', join(dir, 'r')]);
    expect(noData.code).toBe(2);
    expect(noData.err).toMatch(
      /no --data given, and .*model.tfm does not record the data it was compressed with/,
    );
  });
});

describe('tinyforge deploy', () => {
  it('compress -> build -> run from a trained model directory, one final table', async () => {
    const out = join(dir, 'd');
    const r = await runCli(deployCommand, [
      'deploy',
      modelDir,
      '--data',
      SYNTH,
      '--out',
      out,
      '--bits',
      '4',
      '--coding',
      'huffman',
      '--limit',
      '30',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^on-target accuracy \(test, 30 windows\)\s+\d+\.\d\d%/m);
    expect(r.out).toMatch(/^host agreement\s+bit-exact, 30 \/ 30/m);
    expect(r.out).toMatch(/^model flash \(weights \+ tables \+ kernels\)\s+[\d,]+ B/m);
    for (const f of ['model.tfm', 'firmware.elf', 'build.json', 'run.json', 'size.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const info = readBuildInfo(out);
    expect(info.codegen.layers.some((l) => l.coding === 'huffman')).toBe(true);
  });
});
