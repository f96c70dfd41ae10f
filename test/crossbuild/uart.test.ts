// --io uart: firmware that prints on the board's console USART instead of semihosting, so that it
// runs on a board without a debugger. The ELF has no semihosting left in it, it computes exactly
// what the semihosting build computes, its exit status reaches the host through the "TF exit" line,
// and output through a slow reader is not lost.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBoard, loadBoardFile, BOARDS_DIR } from '../../src/boards/boards.js';
import { buildCommand } from '../../src/cli/commands/build.js';
import { runCommand as runCliCommand } from '../../src/cli/commands/run.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { writeTfm } from '../../src/qmodel/index.js';
import { parseTfRecords, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { qemuArgs, runOnQemu } from '../../src/qemu/runner.js';
import {
  buildModelFirmware,
  measureOnTarget,
  readBuildInfo,
  type ModelFirmware,
} from '../../src/measure/index.js';
import { runCommand } from '../helpers/cli.js';
import { flatDenseModel } from '../measure/models.js';
import { makeRng, randInt, randomModel } from '../helpers/randomModel.js';
import { rejection } from '../helpers/errors.js';
import { tempDir as sharedTempDir } from '../helpers/temp.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const FIXTURES = join(HERE, 'fixtures');
const board = getBoard('netduinoplus2');

const tempDir = () => sharedTempDir('tf-uart-');

/** Disassembly and symbol table of an ELF. */
async function inspectElf(elf: string): Promise<{ semihostingCalls: number; symbols: Set<string> }> {
  const dis = (await execa('arm-none-eabi-objdump', ['-d', elf])).stdout;
  // Thumb "bkpt 0x00ab" (objdump's spelling) is the semihosting trap; accept "0xab" as well.
  const semihostingCalls = dis.split('\n').filter((l) => /\bbkpt\s+0x(00)?ab\b/i.test(l)).length;
  const nm = (await execa('arm-none-eabi-nm', [elf])).stdout;
  const symbols = new Set(nm.split('\n').map((l) => l.trim().split(/\s+/).pop() ?? ''));
  return { semihostingCalls, symbols };
}

describe('an embed build of a model with --io uart', () => {
  const WINDOWS = 40;
  let dir: string;
  let model: CompressedModel;
  let semi: ModelFirmware;
  let uart: ModelFirmware;

  beforeAll(async () => {
    dir = tempDir();
    model = randomModel(7);
    const [T, C] = model.inputShape;
    const rng = makeRng(11);
    const inputs = Int8Array.from({ length: WINDOWS * T * C }, () => randInt(rng, -128, 127));
    const labels = Array.from({ length: WINDOWS }, () => randInt(rng, 0, model.classNames.length - 1));
    semi = await buildModelFirmware({ model, outDir: join(dir, 'semihosting'), embed: { inputs, labels } });
    uart = await buildModelFirmware({
      model,
      outDir: join(dir, 'uart'),
      embed: { inputs, labels },
      io: 'uart',
    });
  });

  it('links no semihosting: no bkpt 0xab, no initialise_monitor_handles, no rdimon (the semihosting build has them)', async () => {
    const s = await inspectElf(semi.elf);
    const u = await inspectElf(uart.elf);
    expect(s.semihostingCalls).toBeGreaterThan(0);
    expect(s.symbols.has('initialise_monitor_handles')).toBe(true);
    expect(u.semihostingCalls).toBe(0);
    expect(u.symbols.has('initialise_monitor_handles')).toBe(false);
    expect(u.symbols.has('tf_console_write')).toBe(true);
    expect(readFileSync(semi.map, 'utf8')).toMatch(/librdimon/);
    expect(readFileSync(uart.map, 'utf8')).not.toMatch(/librdimon/);

    expect(uart.info.commands.link).toContain('--specs=nosys.specs');
    expect(uart.info.commands.link).not.toContain('rdimon');
    expect(semi.info.commands.link).toContain('--specs=rdimon.specs');
    expect(readBuildInfo(uart.dir).io).toBe('uart');
    expect(readBuildInfo(semi.dir).io).toBe('semihosting');
    // Without rdimon's file and command-line support the image is smaller.
    expect(uart.size.flash.total).toBeLessThan(semi.size.flash.total);
  });

  it('computes exactly what the semihosting build computes, and exits 0', async () => {
    const a = await measureOnTarget({ buildDir: semi.dir, model, writeRunJson: false });
    const b = await measureOnTarget({ buildDir: uart.dir, model, writeRunJson: false });
    expect(b.qemuCommand).toContain('chardev:tf-console');
    expect(b.qemuCommand.join(' ')).not.toContain('semihosting');
    expect(a.agreement.equal).toBe(true);
    expect(b.agreement.equal).toBe(true);
    expect(b.windows).toBe(WINDOWS);
    expect(Array.from(b.targetLogits)).toEqual(Array.from(a.targetLogits));
    expect(Array.from(b.predictions)).toEqual(Array.from(a.predictions));
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.confusion).toEqual(a.confusion);
    expect(Array.from(b.windowInstructions)).toEqual(Array.from(a.windowInstructions));
    expect(b.layers.map((l) => l.instructions)).toEqual(a.layers.map((l) => l.instructions));
    expect(b.stack.inference).toBe(a.stack.inference);

    // The raw run: exit status 0, and every result line the same as under semihosting except the
    // whole-firmware stack peak (stdio's path to the console differs).
    const runU = await runOnQemu({ board, elf: uart.elf, io: 'uart', timeoutMs: 60_000 });
    const runS = await runOnQemu({ board, elf: semi.elf, timeoutMs: 60_000 });
    expect(runU.exitCode).toBe(0);
    expect(runS.exitCode).toBe(0);
    const lines = (stdout: string) =>
      parseTfRecords(stdout)
        .filter((r) => !(r.key === 'stack' && r.fields[0] === 'peak'))
        .map((r) => `${r.key} ${r.fields.join(' ')}`);
    expect(lines(runU.stdout)).toEqual(lines(runS.stdout));
    expect(lines(runU.stdout)).toContain(`done ${WINDOWS}`);
    expect(runU.stdout).not.toContain('TF exit');
  });

  it('tinyforge run reads the mode from build.json and runs the uart build unchanged', async () => {
    const r = await runCommand(runCliCommand, ['run', uart.dir, '--json']);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out) as { windows: number; agreement: { equal: boolean } };
    expect(json.windows).toBe(WINDOWS);
    expect(json.agreement.equal).toBe(true);
  });

  it('a build.json written before the io field reads as semihosting', () => {
    const old = tempDir();
    const info = JSON.parse(readFileSync(semi.buildJson, 'utf8')) as Record<string, unknown>;
    delete info.io;
    writeFileSync(join(old, 'build.json'), JSON.stringify(info));
    expect(readBuildInfo(old).io).toBe('semihosting');
  });
});

describe('the exit line', () => {
  async function build(mode: number, status: number): Promise<string> {
    const b = await buildFirmware({
      board,
      sources: [join(FIXTURES, 'uart_exit.c')],
      defines: { EXIT_MODE: mode, EXIT_STATUS: status },
      outDir: tempDir(),
      name: `exit_${mode}_${status}`,
      io: 'uart',
    });
    expect(b.io).toBe('uart');
    return b.elf;
  }

  it('the console ends with "TF exit <code>"; the runner reports the code as a semihosting exit would', async () => {
    const elf = await build(0, 3);
    expect((await inspectElf(elf)).semihostingCalls).toBe(0);
    // What a terminal on the board's serial port shows: QEMU by hand, stopped once the line came.
    const qemu = execa('qemu-system-arm', qemuArgs(board, elf, [], 'uart'), {
      stdin: 'ignore',
      buffer: false,
      timeout: 30_000,
      reject: false,
    });
    let raw = '';
    qemu.stdout.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
      if (/TF exit -?\d+\n/.test(raw)) qemu.kill('SIGKILL'); // the console arrives byte by byte
    });
    await qemu;
    expect(raw).toBe('argv[0]=firmware\nreturning 3\nTF exit 3\n');

    const run = await runOnQemu({ board, elf, io: 'uart', timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.INPUT_OPEN);
    expect(run.stdout).toBe('argv[0]=firmware\nreturning 3\n');
    expect(run.stderr).toBe('');
  });

  it('starts a line of its own after a partial line; exit(-1) is status 255; abort() is 1', async () => {
    const partial = await runOnQemu({ board, elf: await build(1, -1), io: 'uart', timeoutMs: 30_000 });
    expect(partial.exitCode).toBe(255);
    expect(partial.stdout).toBe('argv[0]=firmware\npartial line without a newline\n');
    const aborted = await runOnQemu({ board, elf: await build(2, 0), io: 'uart', timeoutMs: 30_000 });
    expect(aborted.exitCode).toBe(TARGET_EXIT.FAILURE);
    expect(aborted.stdout).toBe('argv[0]=firmware\naborting\n');
  });

  it('a CPU fault is reported on the console and exits 8', async () => {
    const b = await buildFirmware({
      board,
      sources: [join(REPO, 'test', 'fixtures', 'c', 'fault.c')],
      outDir: tempDir(),
      name: 'fault',
      io: 'uart',
    });
    const run = await runOnQemu({ board, elf: b.elf, io: 'uart', timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.FAULT);
    expect(run.stdout).toMatch(
      /^before the fault\n\nTF error 8 fault [a-z]+ pc=0x[0-9a-f]{8} cfsr=0x[0-9a-f]{8}\n$/,
    );
  });

  it('a uart firmware takes no arguments', async () => {
    const err = await rejection(
      runOnQemu({ board, elf: join(tempDir(), 'x.elf'), io: 'uart', args: ['windows.bin'] }),
    );
    expect(err.category).toBe('usage');
    expect(err.message).toContain('no command line');
  });
});

describe('large output through a slow reader', () => {
  it('arrives complete: every one of 3000 lines (about 110 KB; a pipe holds 64 KiB)', async () => {
    const lines = 3000;
    const b = await buildFirmware({
      board,
      sources: [join(REPO, 'test', 'fixtures', 'c', 'many_lines.c')],
      defines: { LINES: lines },
      outDir: tempDir(),
      name: 'many_lines',
      io: 'uart',
    });
    const expected = Array.from(
      { length: lines },
      (_, i) => `TF pred ${i} ${i % 6} -12 34 56 -78 90 11\n`,
    ).join('');
    // The reader is this process: block its event loop for 3 s (QEMU fills the pipe long before:
    // about 20 us per byte), then for 50 ms out of every 60 until the run ends, so QEMU meets a
    // full pipe again and again. (The same reader loses semihosting output under -nographic.)
    let done = false;
    const started = Date.now();
    const pause = (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // busy: nothing reads QEMU's stdout meanwhile
      }
    };
    const run = runOnQemu({ board, elf: b.elf, io: 'uart', timeoutMs: 120_000 }).finally(() => {
      done = true;
    });
    pause(3000);
    while (!done) {
      pause(50);
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await run;
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(expected.length);
    expect(r.stdout).toBe(expected);
  });
});

describe('choosing uart', () => {
  it('tinyforge build --io uart without --embed is a usage error naming the fix', async () => {
    const dir = tempDir();
    const tfm = join(dir, 'm.tfm');
    await writeTfm(tfm, randomModel(3));
    const r = await runCommand(buildCommand, ['build', tfm, '--out', join(dir, 'fw'), '--io', 'uart']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--io uart needs --embed N');
    expect(r.err).toContain('--embed N --data');
    // Nothing was built.
    expect(() => readBuildInfo(join(dir, 'fw'))).toThrow(/not a tinyforge build folder/);
  });

  it('tinyforge build --embed --io uart, then tinyforge run: results over the USART', async () => {
    const dir = tempDir();
    const tfm = join(dir, 'flat.tfm');
    await writeTfm(tfm, flatDenseModel(8));
    const out = join(dir, 'fw');
    const data = 'synthetic:seed=4,train=60,test=30';
    const b = await runCommand(buildCommand, [
      'build',
      tfm,
      '--out',
      out,
      '--embed',
      '12',
      '--data',
      data,
      '--io',
      'uart',
    ]);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain('12 windows in flash, console on the USART');
    expect(readBuildInfo(out).io).toBe('uart');
    expect((await inspectElf(join(out, 'firmware.elf'))).semihostingCalls).toBe(0);
    const r = await runCommand(runCliCommand, ['run', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/12 windows/);
  });

  it('the API refuses uart without embed mode too', async () => {
    const err = await rejection(buildModelFirmware({ model: randomModel(3), outDir: tempDir(), io: 'uart' }));
    expect(err.category).toBe('usage');
    expect(err.message).toContain('embed mode');
  });

  it('a board without a console entry refuses --io uart and says what to add', async () => {
    const { console: _dropped, ...bare } = board;
    void _dropped;
    const err = await rejection(
      buildFirmware({
        board: { ...bare, name: 'bare-m4' },
        sources: [join(FIXTURES, 'uart_exit.c')],
        defines: { EXIT_MODE: 0, EXIT_STATUS: 0 },
        outDir: tempDir(),
        name: 'bare',
        io: 'uart',
      }),
    );
    expect(err.category).toBe('usage');
    expect(err.message).toBe(
      'board bare-m4 has no console: --io uart needs a "console" entry in src/boards/bare-m4.json',
    );
    expect(err.hint).toContain('"console": { "kind": "stm32-usart"');
  });

  it('the board file describes the console USART; a divisor out of range is refused', () => {
    expect(board.console).toEqual({
      kind: 'stm32-usart',
      base: 0x40011000,
      baud: 115200,
      clockHz: 16_000_000,
      setup: [{ register: 0x40023844, set: 0x10, clear: 0 }],
    });
    const reference = JSON.parse(readFileSync(join(BOARDS_DIR, 'netduinoplus2.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const dir = tempDir();
    const path = join(dir, 'netduinoplus2.json');
    writeFileSync(
      path,
      JSON.stringify({ ...reference, console: { kind: 'stm32-usart', base: '0x40011000', baud: 2_000_000 } }),
    );
    expect(() => loadBoardFile(path)).toThrow(/console\.baud: clockHz \/ baud must be a USART divisor/);
    writeFileSync(
      path,
      JSON.stringify({ ...reference, console: { kind: 'stm32-usart', base: '0x40011000' } }),
    );
    expect(loadBoardFile(path).console).toMatchObject({ baud: 115200, clockHz: 16_000_000, setup: [] });
  });
});
