// The CLI as users run it (node dist/cli/main.js), `doctor`, and a missing toolchain giving one
// actionable message instead of a stack trace.
import { existsSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { findTool, parseVersion, requireTool, TOOLS } from '../../src/toolchain/check.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { fixture, REPO, tempDir, withPath } from './helpers.js';

const MAIN = join(REPO, 'dist', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** A PATH with node and nothing else: no cross compiler, no QEMU. */
function pathWithoutToolchain(): string {
  const dir = tempDir('tf-nopath-');
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [MAIN, ...args], { reject: false, env: { ...process.env, ...env }, cwd: REPO });

beforeAll(async () => {
  // The CLI test runs the built CLI: rebuild when dist is missing or older than src.
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestSource(join(REPO, 'src'))) {
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, reject: false });
  }
  expect(existsSync(MAIN), 'dist/cli/main.js after the build').toBe(true);
}, 300_000);

describe('tinyforge CLI', () => {
  it('--help lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(commands.length).toBeGreaterThan(5);
    for (const c of commands) {
      const name = String(c.command).split(' ')[0];
      expect(r.stdout).toMatch(new RegExp(`tinyforge ${name}\\b`));
    }
  });

  it('finding cli-import-never-exits: import of a .h5 and a .keras exits when done', async () => {
    // The HDF5 reader's worker once kept the process alive after the import (its stdout was read
    // in the main thread): the command printed its result and never returned.
    const keras = join(REPO, 'test', 'fixtures', 'import', 'keras');
    for (const file of ['conv1d.h5', 'conv1d.keras']) {
      const out = join(tempDir('tf-cli-import-'), 'model');
      const r = await execa(process.execPath, [MAIN, 'import', join(keras, file), '--out', out, '--json'], {
        reject: false,
        cwd: REPO,
        timeout: 60_000,
      });
      expect(r.timedOut, `${file}: still running after 60 s`).toBe(false);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).out).toBe(out);
      // Nothing but tinyforge's own words: no note from TensorFlow.js urging tfjs-node.
      expect(r.stderr).not.toMatch(/TensorFlow\.js|tfjs-node/);
    }
  }, 150_000);

  it('doctor reports every tool with its version', async () => {
    const r = await cli(['doctor', '--json']);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      tools: { name: string; found: boolean; version?: string; path?: string }[];
      boards: string[];
    };
    expect(report.ok).toBe(true);
    expect(report.boards).toContain('netduinoplus2');
    for (const t of TOOLS) {
      const found = report.tools.find((x) => x.name === t.name);
      expect(found?.found).toBe(true);
      expect(found?.version).toMatch(/^\d+\.\d+/);
      expect(found?.path).toBe(findTool(t.name));
    }
  });

  it('doctor --smoke builds and runs the trivial firmware', async () => {
    const out = tempDir();
    const r = await cli(['doctor', '--smoke', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('hello from netduinoplus2');
    expect(r.stdout).toMatch(/TF instr sum_below_1000 \d+/);
    expect(r.stdout).toMatch(/exit status 0/);
    expect(existsSync(join(out, 'hello.elf'))).toBe(true);
  });

  it('with the toolchain missing, doctor exits 5 with one actionable message, no stack trace', async () => {
    const r = await cli(['doctor'], { PATH: pathWithoutToolchain() });
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toMatch(/MISSING\s+arm-none-eabi-gcc/);
    expect(r.stderr).toMatch(/^tinyforge: error: missing: arm-none-eabi-gcc, .*qemu-system-arm/);
    expect(r.stderr).toContain("'make setup'");
    expect(r.stderr).toContain(join(REPO, 'toolchain', 'install.sh'));
    expect(r.stderr).toContain('gcc-arm-none-eabi');
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  });
});

describe('a missing tool, in-process', () => {
  it('requireTool throws a toolchain error naming the package and the fix', async () => {
    await withPath(pathWithoutToolchain(), async () => {
      let err: unknown;
      try {
        requireTool('qemu-system-arm');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TinyforgeError);
      const t = err as TinyforgeError;
      expect(t.category).toBe('toolchain');
      expect(t.exitCode).toBe(5);
      expect(t.message).toBe(
        'qemu-system-arm was not found on PATH (it runs the firmware on an emulated board)',
      );
      expect(t.hint).toContain('make setup');
      expect(t.hint).toContain('qemu-system-arm');
    });
  });

  it('buildFirmware and runOnQemu stop with it before doing anything', async () => {
    const out = tempDir();
    await withPath(pathWithoutToolchain(), async () => {
      await expect(
        buildFirmware({ board: 'netduinoplus2', sources: [fixture('exit_code.c')], outDir: out, name: 'x' }),
      ).rejects.toMatchObject({
        category: 'toolchain',
        message: expect.stringContaining('arm-none-eabi-gcc'),
      });
      const elf = join(out, 'fake.elf');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(elf, Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
      await expect(runOnQemu({ board: 'netduinoplus2', elf })).rejects.toMatchObject({
        category: 'toolchain',
      });
    });
    expect(readdirSync(out)).toEqual(['fake.elf']);
  });

  it('parses the versions tools print', () => {
    expect(parseVersion('arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205\nCopyright')).toBe('12.2.1');
    expect(parseVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)')).toBe('7.2.22');
    expect(parseVersion('GNU objcopy (2.40-2+18+b1) 2.40')).toBe('2.40');
  });
});
