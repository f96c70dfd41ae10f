// Running firmware on QEMU: the time limit, host files through semihosting, stack measurement.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBoard, type Board } from '../../src/boards/boards.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { integerRecords, parseTfRecords, requireTargetSuccess, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { fixture, tempDir } from './helpers.js';
import { rejection } from '../helpers/errors.js';

const board = getBoard('netduinoplus2');

describe('the time limit', () => {
  it('stops a firmware that never exits, with a clear error', async () => {
    const b = await buildFirmware({
      board,
      sources: [fixture('forever.c')],
      outDir: tempDir(),
      name: 'forever',
    });
    const started = Date.now();
    const err = await rejection(runOnQemu({ board, elf: b.elf, timeoutMs: 1500 }));
    const elapsed = Date.now() - started;
    expect(err.category).toBe('run');
    expect(err.exitCode).toBe(7);
    expect(err.message).toContain('firmware forever.elf did not finish within 1.5 s');
    expect(err.message).toContain('started'); // its last output, to see how far it got
    expect(err.hint).toMatch(/endless loop/);
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(1500 + 5000); // killed, not waited for
  });
});

describe('large output', () => {
  it('arrives complete however fast the firmware prints', async () => {
    const lines = 20_000;
    const b = await buildFirmware({
      board,
      sources: [fixture('many_lines.c')],
      defines: { LINES: lines },
      outDir: tempDir(),
      name: 'many_lines',
    });
    const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 60_000 });
    expect(run.exitCode).toBe(0);
    const records = parseTfRecords(run.stdout);
    expect(records).toHaveLength(lines);
    records.forEach((r, i) => {
      if (r.fields[0] !== String(i)) throw new Error(`line ${i + 1} is '${r.fields.join(' ')}'`);
    });
    expect(run.stdout.length).toBe(
      Array.from({ length: lines }, (_, i) => `TF pred ${i} ${i % 6} -12 34 56 -78 90 11\n`).join('').length,
    );
  });
});

describe('host files through semihosting', () => {
  let elf: string;
  let dir: string;
  let data: Buffer;
  beforeAll(async () => {
    dir = tempDir();
    elf = (await buildFirmware({ board, sources: [fixture('read_file.c')], outDir: dir, name: 'read_file' }))
      .elf;
    // Three 128x9 int8 windows plus a partial one: reads cross the 1152-byte chunk size.
    data = Buffer.alloc(3 * 1152 + 500);
    let x = 12345;
    for (let i = 0; i < data.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[i] = x >>> 24;
    }
  });

  function expectedRecords(bytes: Buffer) {
    let sum = 0;
    let weighted = 0;
    for (let i = 0; i < bytes.length; i++) {
      sum += (bytes[i] << 24) >> 24; // as int8
      weighted = (weighted + (i + 1) * bytes[i]) >>> 0;
    }
    return [
      { key: 'file', fields: ['bytes', String(bytes.length)] },
      { key: 'file', fields: ['sum', String(sum)] },
      { key: 'file', fields: ['weighted', String(weighted)] },
    ];
  }

  it('reads a file named relative to the run folder (cwd) passed as argv[1]', async () => {
    const runDir = tempDir();
    writeFileSync(join(runDir, 'windows.bin'), data);
    const run = await runOnQemu({ board, elf, cwd: runDir, args: ['windows.bin'], timeoutMs: 30_000 });
    requireTargetSuccess(run, 'read_file');
    const records = parseTfRecords(run.stdout).map(({ key, fields }) => ({ key, fields }));
    expect(records).toEqual(expectedRecords(data));
  });

  it('reads a file given by absolute path', async () => {
    const file = join(tempDir(), 'other.bin');
    const small = data.subarray(0, 1152);
    writeFileSync(file, small);
    const run = await runOnQemu({ board, elf, args: [file], timeoutMs: 30_000 });
    expect(run.exitCode).toBe(0);
    expect(parseTfRecords(run.stdout).map(({ key, fields }) => ({ key, fields }))).toEqual(
      expectedRecords(small),
    );
  });

  it('a missing file ends with the input-open exit code and says which file', async () => {
    const run = await runOnQemu({ board, elf, cwd: dir, args: ['no-such-file.bin'], timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.INPUT_OPEN);
    expect(() => requireTargetSuccess(run, 'read_file')).toThrow(
      /read_file could not open an input file \(exit status 3\): no-such-file\.bin/,
    );
  });

  it('arguments with whitespace are refused before QEMU starts', async () => {
    const err = await rejection(runOnQemu({ board, elf, args: ['a b.bin'] }));
    expect(err.category).toBe('usage');
    expect(err.hint).toMatch(/relative to the run folder/);
  });
});

describe('stack measurement', () => {
  const LOCAL = 1024;

  it('measures a function with a local array of known size plausibly', async () => {
    const b = await buildFirmware({
      board,
      sources: [fixture('stack_use.c')],
      defines: { LOCAL_BYTES: LOCAL, RECURSE_DEPTH: 0 },
      outDir: tempDir(),
      name: 'stack_use',
    });
    const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 30_000 });
    requireTargetSuccess(run, 'stack_use');
    const stack = integerRecords(parseTfRecords(run.stdout), 'stack');
    expect(stack.get('use_local')).toBeGreaterThanOrEqual(LOCAL);
    expect(stack.get('use_local')).toBeLessThan(LOCAL + 128);
    expect(stack.get('size')).toBe(board.stackSize);
    // The whole-program peak includes main's frame and the measured function.
    expect(stack.get('peak')).toBeGreaterThan(stack.get('use_local')!);
    expect(stack.get('peak')).toBeLessThan(board.stackSize);
  });

  it('a larger array measures larger by the same amount', async () => {
    const measure = async (local: number) => {
      const b = await buildFirmware({
        board,
        sources: [fixture('stack_use.c')],
        defines: { LOCAL_BYTES: local, RECURSE_DEPTH: 0 },
        outDir: tempDir(),
        name: 'stack_use',
      });
      const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 30_000 });
      return integerRecords(parseTfRecords(run.stdout), 'stack').get('use_local')!;
    };
    const [a, b] = [await measure(1024), await measure(4096)];
    expect(b - a).toBe(4096 - 1024);
  });

  it('a stack overflowing its reserved region ends with the stack exit code', async () => {
    // Each level has a 256-byte frame array: this depth needs more than the reserved stack.
    const depth = Math.ceil(board.stackSize / 256) + 8;
    const b = await buildFirmware({
      board,
      sources: [fixture('stack_use.c')],
      defines: { LOCAL_BYTES: 64, RECURSE_DEPTH: depth },
      outDir: tempDir(),
      name: 'overflow',
    });
    const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.STACK);
    expect(run.stdout).toContain('TF error 7 stack-overflow');
  });
});

describe('boards QEMU cannot run', () => {
  it('give a clear error naming the board', async () => {
    const noQemu: Board = { ...board, name: 'paper-board', qemu: null };
    const err = await rejection(runOnQemu({ board: noQemu, elf: '/nonexistent.elf' }));
    expect(err.category).toBe('run');
    expect(err.message).toContain('board paper-board cannot be run');
  });

  it('a missing ELF is an input error', async () => {
    const err = await rejection(runOnQemu({ board, elf: join(tempDir(), 'missing.elf') }));
    expect(err.category).toBe('input');
  });

  it('a file that is not an ELF is refused before QEMU starts', async () => {
    const bogus = join(tempDir(), 'bogus.elf');
    writeFileSync(bogus, 'not an elf');
    const err = await rejection(runOnQemu({ board, elf: bogus, timeoutMs: 30_000 }));
    expect(err.category).toBe('input');
    expect(err.message).toContain('bogus.elf is not an ELF file');
  });

  it("an ELF QEMU cannot load is QEMU's error, not a crash", async () => {
    // A valid ELF header for another machine (x86-64): QEMU refuses to load it.
    const other = join(tempDir(), 'x86.elf');
    const header = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
    header.writeUInt16LE(2, 16); // ET_EXEC
    header.writeUInt16LE(62, 18); // EM_X86_64
    header.writeUInt32LE(1, 20);
    writeFileSync(other, header);
    const err = await rejection(runOnQemu({ board, elf: other, timeoutMs: 30_000 }));
    expect(err.category).toBe('run');
    expect(err.message).toMatch(/QEMU (could not run|stopped running) x86\.elf/);
  });
});
