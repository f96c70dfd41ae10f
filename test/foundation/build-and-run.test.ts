// A C program cross-compiled for netduinoplus2 and run under QEMU: semihosted output, exit codes,
// the outputs a build produces, and the errors of a build that fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBoard } from '../../src/boards/boards.js';
import { buildFirmware, type FirmwareBuild } from '../../src/crossbuild/compile.js';
import { parseTfRecords, requireTargetSuccess, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { fixture, tempDir } from './helpers.js';
import { rejection } from '../helpers/errors.js';

const board = getBoard('netduinoplus2');

describe('a firmware built for netduinoplus2 and run on QEMU', () => {
  let build: FirmwareBuild;
  let outDir: string;
  beforeAll(async () => {
    outDir = tempDir();
    build = await buildFirmware({ board, sources: [fixture('exit_code.c')], outDir, name: 'exit_code' });
  });

  it('produces ELF, HEX, BIN, map and linker script, and only those', () => {
    for (const f of [build.elf, build.hex, build.bin, build.map, build.linkerScript]) {
      expect(statSync(f).size).toBeGreaterThan(0);
    }
    expect(readdirSync(outDir).sort()).toEqual(
      ['exit_code.bin', 'exit_code.elf', 'exit_code.hex', 'exit_code.ld', 'exit_code.map'].sort(),
    );
    // The BIN is the flash image: it starts with the vector table (initial SP in RAM, reset in flash).
    const bin = readFileSync(build.bin);
    const sp = bin.readUInt32LE(0);
    const reset = bin.readUInt32LE(4);
    expect(sp).toBeGreaterThan(board.ram.origin);
    expect(sp).toBeLessThanOrEqual(board.ram.origin + board.ram.length);
    expect(reset & 1).toBe(1); // Thumb
    expect(reset - 1).toBeGreaterThanOrEqual(board.flash.origin);
    expect(reset - 1).toBeLessThan(board.flash.origin + bin.length);
  });

  it('records the exact commands, with the board flags and section GC', () => {
    const compile = build.commands.find((c) => c.argv.includes(fixture('exit_code.c')));
    expect(compile?.argv).toEqual(
      expect.arrayContaining([
        '-mcpu=cortex-m4',
        '-mthumb',
        '-mfloat-abi=hard',
        '-mfpu=fpv4-sp-d16',
        '-O2',
        '-ffunction-sections',
        '-fdata-sections',
      ]),
    );
    const link = build.commands.find((c) => c.argv.includes('-nostartfiles'));
    expect(link?.argv).toEqual(expect.arrayContaining(['-Wl,--gc-sections', '-Wl,-Map=exit_code.map']));
    expect(build.commands.filter((c) => c.argv[0].endsWith('objcopy'))).toHaveLength(2);
  });

  it('the map shows the reserved stack and heap regions of the board', () => {
    const map = readFileSync(build.map, 'utf8');
    const stack = /^\.stack\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/m.exec(map);
    const heap = /^\.heap\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/m.exec(map);
    expect(Number(stack?.[2])).toBe(board.stackSize);
    expect(Number(heap?.[2])).toBe(board.heapSize);
    expect(Number(stack?.[1]) + Number(stack?.[2])).toBeLessThanOrEqual(board.ram.origin + board.ram.length);
  });

  it('prints through semihosting and exits 0', async () => {
    const run = await runOnQemu({ board, elf: build.elf, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('hello from the target\nargv[0]=exit_code.elf\n');
    expect(run.wallMs).toBeGreaterThan(0);
  });

  it('passes arguments and returns a non-zero exit status', async () => {
    const run = await runOnQemu({ board, elf: build.elf, args: ['42'], timeoutMs: 30_000 });
    expect(run.exitCode).toBe(42);
    expect(run.stdout).toContain('argv[1]=42\n');
  });

  it('reports a failure with its protocol line and exit code', async () => {
    const run = await runOnQemu({
      board,
      elf: build.elf,
      args: [String(TARGET_EXIT.CHECK)],
      timeoutMs: 30_000,
    });
    expect(run.exitCode).toBe(TARGET_EXIT.CHECK);
    expect(parseTfRecords(run.stdout)).toEqual([
      { key: 'error', fields: [String(TARGET_EXIT.CHECK), 'requested-check-failure'], line: 4 },
    ]);
    expect(() => requireTargetSuccess(run, 'the test firmware')).toThrow(
      /the test firmware failed a self-check \(exit status 6\): requested-check-failure/,
    );
  });

  it('a CPU fault ends the run with exit 8 and the faulting PC instead of hanging', async () => {
    const dir = tempDir();
    const b = await buildFirmware({ board, sources: [fixture('fault.c')], outDir: dir, name: 'fault' });
    const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.FAULT);
    expect(run.stdout).toContain('before the fault\n');
    expect(run.stdout).not.toContain('after the fault');
    const error = parseTfRecords(run.stdout).find((r) => r.key === 'error');
    expect(error?.fields.slice(0, 3)).toEqual(['8', 'fault', 'hardfault']);
    // The reported PC is the address of the udf instruction in the disassembly.
    const dis = (await execa('arm-none-eabi-objdump', ['-d', b.elf])).stdout;
    const udf = /^\s*([0-9a-f]+):\s+[0-9a-f ]+\s+udf\b/m.exec(dis);
    expect(udf).not.toBeNull();
    expect(error?.fields[3]).toBe(`pc=0x${udf?.[1].padStart(8, '0')}`);
  });
});

describe('a build that fails', () => {
  it('an image too large for flash names the board, region, capacity and bytes over', async () => {
    const dir = tempDir();
    // Flash used without the array: a build with a 4-byte array, measured from its flash image.
    const small = await buildFirmware({
      board,
      sources: [fixture('big_const.c')],
      defines: { BIG_BYTES: 4 },
      outDir: dir,
      name: 'small',
    });
    const baseline = statSync(small.bin).size - 4;
    const over = 5000;
    const bigBytes = board.flash.length - baseline + over;
    const err = await rejection(
      buildFirmware({
        board,
        sources: [fixture('big_const.c')],
        defines: { BIG_BYTES: bigBytes },
        outDir: dir,
        name: 'big',
      }),
    );
    expect(err.category).toBe('build');
    expect(err.exitCode).toBe(6);
    expect(err.message).toContain("firmware 'big' does not fit board netduinoplus2");
    expect(err.message).toContain(`capacity ${board.flash.length} bytes = 1024 KiB at 0x08000000`);
    const reported = Number(/FLASH overflowed by (\d+) bytes/.exec(err.message)?.[1]);
    expect(Math.abs(reported - over)).toBeLessThanOrEqual(8); // alignment padding only
    expect(err.hint).toMatch(/prune|Huffman|-Os/);
    // Nothing half-written: no big.* outputs, no temporary folder; the failed map kept for diagnosis.
    const left = readdirSync(dir);
    expect(left.filter((f) => f.startsWith('big.') && f !== 'big.failed.map')).toEqual([]);
    expect(left.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(join(dir, 'big.failed.map'), 'utf8')).toContain('.rodata.tf_weights.big');
  });

  it('a RAM overflow names RAM, its capacity and the reserved stack', async () => {
    const dir = tempDir();
    const err = await rejection(
      buildFirmware({
        board,
        sources: [fixture('big_arena.c')],
        defines: { ARENA_BYTES: board.ram.length },
        outDir: dir,
        name: 'arena',
      }),
    );
    expect(err.category).toBe('build');
    // The arena alone fills RAM: everything else in RAM (data, bss, heap, stack) is over.
    const reported = Number(/RAM overflowed by (\d+) bytes/.exec(err.message)?.[1]);
    expect(reported).toBeGreaterThanOrEqual(board.stackSize + board.heapSize);
    expect(reported).toBeLessThan(board.stackSize + board.heapSize + 4096);
    expect(err.message).toContain(`capacity ${board.ram.length} bytes = 128 KiB at 0x20000000`);
    expect(err.hint).toContain(`stack (${board.stackSize} bytes)`);
  });

  it("a compile error surfaces the compiler's message with file and line", async () => {
    const dir = tempDir();
    const err = await rejection(
      buildFirmware({ board, sources: [fixture('compile_error.c')], outDir: dir, name: 'broken' }),
    );
    expect(err.category).toBe('build');
    expect(err.message).toMatch(/compile_error\.c:4:\d+: error: 'not_declared_anywhere' undeclared/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a warning fails the build under -Werror (the default) and is collected without it', async () => {
    const dir = tempDir();
    const src = join(dir, 'warn.c');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(src, 'int main(void) {\n  int unused_variable;\n  return 0;\n}\n');
    const err = await rejection(buildFirmware({ board, sources: [src], outDir: dir, name: 'warn' }));
    expect(err.message).toContain("unused variable 'unused_variable'");
    const ok = await buildFirmware({ board, sources: [src], outDir: dir, name: 'warn', werror: false });
    expect(ok.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'warning', line: 2, file: src }),
    );
    expect(existsSync(ok.elf)).toBe(true);
  });

  it('a missing source is an input error', async () => {
    const err = await rejection(
      buildFirmware({ board, sources: ['/nonexistent/x.c'], outDir: tempDir(), name: 'x' }),
    );
    expect(err.category).toBe('input');
    expect(err.message).toContain('/nonexistent/x.c');
  });
});
