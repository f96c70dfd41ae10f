// Real boards as data (NUCLEO-F401RE, NUCLEO-L476RG, nRF52840 DK): their files state the reference
// manuals' memory maps, clocks and UART pins; a uart firmware links for each into ELF, HEX and BIN
// holding the same bytes and reserves no heap; and the UART self-test runs where QEMU can run it:
// the F401RE image on netduinoplus2 (an STM32F405: same USART2), the nrf-uart console on microbit
// (an nRF51: the same legacy UART registers), from test-only variants of the board files.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BOARDS_DIR, getBoard, listBoards, loadBoardFile, type Board } from '../../src/boards/boards.js';
import { consoleDefines } from '../../src/boards/console.js';
import { buildCommand } from '../../src/cli/commands/build.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { buildModelFirmware, readBuildInfo } from '../../src/measure/index.js';
import { readWindowsFile } from '../../src/measure/windows.js';
import { writeTfm } from '../../src/qmodel/index.js';
import { parseTfRecords, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { qemuArgs, runOnQemu } from '../../src/qemu/runner.js';
import { runReference } from '../../src/reference/index.js';
import { loadSize } from '../../src/size/index.js';
import { runCommand } from '../helpers/cli.js';
import { makeRng, randInt, randomModel } from '../helpers/randomModel.js';
import { tempDir as sharedTempDir } from '../helpers/temp.js';
import { flatDenseModel } from '../measure/models.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXIT_FIXTURE = join(HERE, 'fixtures', 'uart_exit.c');
const REAL = ['nucleo-f401re', 'nucleo-l476rg', 'nrf52840-dk'] as const;
const tempDir = () => sharedTempDir('tf-boards-');

/** A test-only copy of a board file with some fields replaced, written to a temporary folder. */
function variantFile(base: string, name: string, fields: Record<string, unknown>): string {
  const json = JSON.parse(readFileSync(join(BOARDS_DIR, `${base}.json`), 'utf8')) as Record<string, unknown>;
  const path = join(tempDir(), `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...json, name, ...fields }));
  return path;
}

const boardVariant = (base: string, name: string, fields: Record<string, unknown>): Board =>
  loadBoardFile(variantFile(base, name, fields));

/** Register values after the console's setup writes, starting from the chip's reset values. */
function afterSetup(board: Board, reset: Record<number, number>): (register: number) => number {
  const regs = new Map(Object.entries(reset).map(([k, v]) => [Number(k), v]));
  for (const w of board.console?.setup ?? []) {
    regs.set(w.register, ((regs.get(w.register) ?? 0) & ~w.clear) | w.set);
  }
  return (r) => (regs.get(r) ?? 0) >>> 0;
}

const field = (value: number, lsb: number, bits: number) => (value >>> lsb) & ((1 << bits) - 1);

describe('the real board files', () => {
  it('validate, and give the memory maps of the reference manuals', () => {
    expect(listBoards().map((b) => b.name)).toEqual(expect.arrayContaining([...REAL]));
    const KB = 1024;
    const expected: Record<(typeof REAL)[number], [number, number, number, number]> = {
      'nucleo-f401re': [0x08000000, 512 * KB, 0x20000000, 96 * KB], // RM0368 2.3, DS10086
      'nucleo-l476rg': [0x08000000, 1024 * KB, 0x20000000, 96 * KB], // RM0351 2.2: SRAM1
      'nrf52840-dk': [0x00000000, 1024 * KB, 0x20000000, 256 * KB], // nRF52840 PS 4.2
    };
    for (const name of REAL) {
      const b = getBoard(name);
      expect([b.flash.origin, b.flash.length, b.ram.origin, b.ram.length], name).toEqual(expected[name]);
      expect([b.cpu, b.fpu, b.floatAbi], name).toEqual(['cortex-m4', 'fpv4-sp-d16', 'hard']);
      expect(b.qemu, name).toBeNull(); // QEMU 7.2 emulates none of these chips
      expect(b.instructionCounter, name).toEqual({ kind: 'dwt-cycles' });
    }
  });

  it('STM32 boards: USART2 on PA2/PA3 (AF7) with its clocks, BRR from the reset clock', () => {
    // STM32F401: RCC at 0x40023800 (AHB1ENR +0x30, APB1ENR +0x40), GPIOA at 0x40020000 (MODER
    // resets to 0xA8000000), HSI 16 MHz. STM32L476: RCC at 0x40021000 (AHB2ENR +0x4C, APB1ENR1
    // +0x58), GPIOA at 0x48000000 (MODER resets to 0xABFFFFFF: analog), MSI 4 MHz.
    const chips = [
      { name: 'nucleo-f401re', kind: 'stm32-usart', gpioEn: 0x40023830, usartEn: 0x40023840 },
      { name: 'nucleo-l476rg', kind: 'stm32-usart-v2', gpioEn: 0x4002104c, usartEn: 0x40021058 },
    ] as const;
    const gpioa = { 'nucleo-f401re': [0x40020000, 0xa8000000], 'nucleo-l476rg': [0x48000000, 0xabffffff] };
    const clock = { 'nucleo-f401re': 16_000_000, 'nucleo-l476rg': 4_000_000 };
    for (const chip of chips) {
      const b = getBoard(chip.name);
      const c = b.console;
      expect(c?.kind, chip.name).toBe(chip.kind);
      expect(c?.base, chip.name).toBe(0x40004400); // USART2 on APB1 in both memory maps
      const [moder, moderReset] = gpioa[chip.name];
      const reg = afterSetup(b, { [moder]: moderReset });
      expect(field(reg(chip.gpioEn), 0, 1), `${chip.name} GPIOAEN`).toBe(1);
      expect(field(reg(chip.usartEn), 17, 1), `${chip.name} USART2EN`).toBe(1);
      for (const pin of [2, 3]) {
        expect(field(reg(moder), 2 * pin, 2), `${chip.name} PA${pin} mode`).toBe(0b10); // alternate
        expect(field(reg(moder + 0x20), 4 * pin, 4), `${chip.name} PA${pin} AFRL`).toBe(7);
      }
      // Other pins keep their reset modes (the debug pins PA13/PA14 above all).
      expect(reg(moder) & ~0xf0).toBe(moderReset & ~0xf0);
      const divisor = Math.round(clock[chip.name] / 115_200);
      expect(consoleDefines(c!).TF_CONSOLE_BRR).toBe(`${divisor}u`);
      expect(Math.abs(clock[chip.name] / divisor / 115_200 - 1)).toBeLessThan(0.01);
    }
  });

  it('nRF52840 DK: UART0 with TXD P0.06 (driven high) and RXD P0.08, BAUDRATE 0x01D7E000, the crystal started', () => {
    const b = getBoard('nrf52840-dk');
    expect(b.console).toMatchObject({
      kind: 'nrf-uart',
      base: 0x40002000,
      baud: 115_200,
      txPin: 6,
      rxPin: 8,
    });
    const d = consoleDefines(b.console!);
    expect(d.TF_CONSOLE_BRR).toBe('0x01d7e000u'); // PS 6.33.10: Baud115200
    const reg = afterSetup(b, {});
    expect(field(reg(0x40000000), 0, 1)).toBe(1); // CLOCK TASKS_HFCLKSTART: the crystal
    expect(field(reg(0x50000508), 6, 1)).toBe(1); // P0 OUTSET
    expect(field(reg(0x50000518), 6, 1)).toBe(1); // P0 DIRSET
    const path = join(tempDir(), 'nrf52840-dk.json');
    const json = JSON.parse(readFileSync(join(BOARDS_DIR, 'nrf52840-dk.json'), 'utf8')) as Record<
      string,
      object
    >;
    writeFileSync(path, JSON.stringify({ ...json, console: { ...json.console, baud: 100_000 } }));
    expect(() => loadBoardFile(path)).toThrow(/console\.baud: the nRF UART has no BAUDRATE value/);
  });
});

// ---- ELF, HEX and BIN ------------------------------------------------------------------------

interface Segment {
  address: number;
  bytes: Buffer;
}

/** The ELF's loadable bytes: PT_LOAD segments with file contents, at their load (physical) address. */
function loadSegments(elf: Buffer): { entry: number; segments: Segment[] } {
  expect(elf.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  const phoff = elf.readUInt32LE(0x1c);
  const phentsize = elf.readUInt16LE(0x2a);
  const segments: Segment[] = [];
  for (let i = 0; i < elf.readUInt16LE(0x2c); i++) {
    const h = phoff + i * phentsize;
    const [type, offset, , paddr, filesz] = [0, 4, 8, 12, 16].map((o) => elf.readUInt32LE(h + o));
    if (type === 1 && filesz > 0)
      segments.push({ address: paddr, bytes: elf.subarray(offset, offset + filesz) });
  }
  return { entry: elf.readUInt32LE(0x18), segments: segments.sort((a, b) => a.address - b.address) };
}

/**
 * Intel HEX: data records (00) with extended linear addresses (04); the start address (05, or 03 as
 * segment:offset, which objcopy writes for one below 1 MiB).
 */
function parseIntelHex(text: string): { bytes: Map<number, number>; start?: number } {
  const bytes = new Map<number, number>();
  let upper = 0;
  let start: number | undefined;
  for (const line of text.split(/\r?\n/).filter(Boolean)) {
    const rec = Buffer.from(line.slice(1), 'hex');
    expect(rec.reduce((s, b) => s + b, 0) & 0xff, 'record checksum').toBe(0);
    const [len, type] = [rec[0], rec[3]];
    const data = rec.subarray(4, 4 + len);
    if (type === 0) data.forEach((b, i) => bytes.set(upper + rec.readUInt16BE(1) + i, b));
    else if (type === 4) upper = data.readUInt16BE(0) * 0x10000;
    else if (type === 5) start = data.readUInt32BE(0);
    else if (type === 3) start = data.readUInt16BE(0) * 16 + data.readUInt16BE(2);
  }
  return { bytes, start };
}

/**
 * A real board's image: ELF, HEX and BIN hold the same loadable bytes, from the flash origin (the
 * vector table) to inside the flash region, the HEX names the entry point, and the map shows no
 * heap region (a uart build's stdio is static: tf_crt.c).
 */
async function checkImage(board: Board, f: { elf: string; hex: string; bin: string; map: string }) {
  const { entry, segments } = loadSegments(readFileSync(f.elf));
  const first = segments[0].address;
  const last = segments.at(-1)!;
  const end = last.address + last.bytes.length;
  expect(first).toBe(board.flash.origin);
  expect(end).toBeLessThanOrEqual(board.flash.origin + board.flash.length);

  // BIN: the image from the first loadable byte to the last, gaps filled with zeros.
  const image = Buffer.alloc(end - first);
  for (const s of segments) s.bytes.copy(image, s.address - first);
  expect(readFileSync(f.bin).equals(image)).toBe(true);

  // HEX: exactly the loadable bytes at their addresses, and the entry point.
  const hex = parseIntelHex(readFileSync(f.hex, 'utf8'));
  const expected = new Map<number, number>();
  for (const s of segments) s.bytes.forEach((v, i) => expected.set(s.address + i, v));
  expect(hex.bytes.size).toBe(expected.size);
  expect([...hex.bytes].every(([a, v]) => expected.get(a) === v)).toBe(true);
  expect(hex.start).toBe(entry);

  expect(readFileSync(f.map, 'utf8')).toMatch(/^\.heap\s+0x[0-9a-f]+\s+0x0\b/m);
  expect((await loadSize(f.elf)).report.ram.reservedHeap).toBe(0);
}

// nucleo-f401re's image is checked on its self-test build below (run on QEMU as well).
describe.each(['nucleo-l476rg', 'nrf52840-dk'])('%s: a --io uart firmware', (name) => {
  it('links into ELF, HEX and BIN with the same loadable bytes from the flash origin, and no heap', async () => {
    const board = getBoard(name);
    const b = await buildFirmware({
      board,
      io: 'uart',
      sources: [EXIT_FIXTURE],
      defines: { EXIT_MODE: 0, EXIT_STATUS: 0 },
      outDir: tempDir(),
      name: 'fw',
    });
    // The console driver of the board's kind was compiled.
    const kind = ['stm32-usart', 'stm32-usart-v2', 'nrf-uart'].indexOf(board.console!.kind) + 1;
    const driver = b.commands.find((c) => c.argv.some((a) => a.endsWith('tf_console_uart.c')));
    expect(driver?.argv).toContain(`-DTF_CONSOLE_KIND=${kind}`);
    await checkImage(board, b);
  });
});

// ---- The self-test on QEMU ------------------------------------------------------------------

/** N random windows for a model, and their host reference classes and logits. */
function windowsFor(model: ReturnType<typeof randomModel>, n: number, seed: number) {
  const [T, C] = model.inputShape;
  const rng = makeRng(seed);
  const inputs = Int8Array.from({ length: n * T * C }, () => randInt(rng, -128, 127));
  const labels = Array.from({ length: n }, () => randInt(rng, 0, model.classNames.length - 1));
  const host = Array.from({ length: n }, (_, i) =>
    runReference(model, inputs.subarray(i * T * C, (i + 1) * T * C)),
  );
  return { inputs, labels, host };
}

const records = (stdout: string, key: string) =>
  parseTfRecords(stdout)
    .filter((r) => r.key === key)
    .map((r) => r.fields.join(' '));

describe('the UART self-test', () => {
  it('tinyforge build --selftest for nucleo-f401re runs on QEMU netduinoplus2 (USART2: second -serial): all equal, PASS, exit 0', async () => {
    // The real file with one change: QEMU's STM32F405 model connects USART2 to its second -serial.
    const path = variantFile('nucleo-f401re', 'nucleo-f401re', {
      qemu: { machine: 'netduinoplus2', serial: 1 },
    });
    const board = loadBoardFile(path);
    const dir = tempDir();
    const model = flatDenseModel(8);
    const tfm = join(dir, 'flat.tfm');
    await writeTfm(tfm, model);
    const out = join(dir, 'fw');
    const N = 5;
    const data = 'synthetic:seed=4,train=60,test=30';
    const b = await runCommand(buildCommand, [
      'build',
      tfm,
      '--out',
      out,
      '--board',
      path,
      '--selftest',
      String(N),
      '--data',
      data,
    ]);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain(`${N} windows in flash, self-test, console on the USART`);
    const info = readBuildInfo(out);
    expect([info.io, info.selftest, info.embed?.windows, info.board]).toEqual([
      'uart',
      true,
      N,
      'nucleo-f401re',
    ]);
    // A board given by path is kept by path, so run uses the variant, not src/boards' file.
    expect(info.boardFile).toBe(resolve(path));
    expect(info.files).toMatchObject({ elf: 'firmware.elf', hex: 'firmware.hex', bin: 'firmware.bin' });
    // The image is the real board's: the build does not read the qemu entry.
    const files = { elf: 'firmware.elf', hex: 'firmware.hex', bin: 'firmware.bin', map: 'firmware.map' };
    await checkImage(getBoard('nucleo-f401re'), {
      elf: join(out, files.elf),
      hex: join(out, files.hex),
      bin: join(out, files.bin),
      map: join(out, files.map),
    });

    const run = await runOnQemu({ board, elf: join(out, 'firmware.elf'), io: 'uart', timeoutMs: 60_000 });
    expect(run.command.join(' ')).toContain('-serial null -serial chardev:tf-console');
    expect(run.exitCode, run.stdout).toBe(TARGET_EXIT.OK);
    // The host reference of the embedded windows, computed here from the windows file the build kept.
    const embedded = readWindowsFile(join(out, 'embedded-windows.bin'));
    const size = model.inputShape[0] * model.inputShape[1];
    const host = Array.from({ length: N }, (_, i) =>
      runReference(model, embedded.inputs.subarray(i * size, (i + 1) * size)),
    );
    expect(records(run.stdout, 'check')).toEqual(
      host.map((h, i) => `${i} pass ${h.classIndex} ${h.classIndex}`),
    );
    const logitsHex = (l: Int8Array) => Buffer.from(l.buffer, l.byteOffset, l.length).toString('hex');
    expect(records(run.stdout, 'w').map((f) => f.split(' ')[3])).toEqual(
      host.map((h) => logitsHex(h.logits)),
    );
    expect(parseTfRecords(run.stdout).at(-1)).toMatchObject({
      key: 'selftest',
      fields: ['PASS', String(N), String(N)],
    });
  });

  it('on QEMU microbit (nrf-uart console, Cortex-M0): a window whose logits differ from the expected fails, exit 6', async () => {
    const nrf = JSON.parse(readFileSync(join(BOARDS_DIR, 'nrf52840-dk.json'), 'utf8')) as { console: object };
    // The micro:bit's nRF51822: 256 KB flash at 0, 16 KB RAM, UART TX on P0.24, RX on P0.25.
    const board = boardVariant('nrf52840-dk', 'microbit-uart', {
      cpu: 'cortex-m0',
      fpu: null,
      floatAbi: 'soft',
      flash: { origin: '0x00000000', length: '256K' },
      ram: { origin: '0x20000000', length: '16K' },
      stackSize: '4K',
      heapSize: '2K',
      qemu: { machine: 'microbit' },
      instructionCounter: null,
      console: { ...nrf.console, txPin: 24, rxPin: 25 },
    });
    const model = randomModel(7, { codings: ['packed'] });
    const N = 4;
    const { inputs, labels, host } = windowsFor(model, N, 11);
    const K = model.classNames.length;
    const expectedLogits = new Int8Array(N * K);
    host.forEach((h, i) => expectedLogits.set(h.logits, i * K));
    expectedLogits[2 * K + 1] ^= 1; // window 2: one logit the chip will not produce
    const fw = await buildModelFirmware({
      model,
      board,
      outDir: tempDir(),
      embed: { inputs, labels, expectedLogits },
      io: 'uart',
      selftest: true,
    });
    const run = await runOnQemu({ board, elf: fw.elf, io: 'uart', timeoutMs: 60_000 });
    expect(run.exitCode, run.stdout).toBe(TARGET_EXIT.CHECK);
    const hostClassOf = (i: number) => {
      const l = Array.from(expectedLogits.subarray(i * K, (i + 1) * K));
      return l.indexOf(Math.max(...l));
    };
    expect(records(run.stdout, 'check')).toEqual(
      host.map((h, i) => `${i} ${i === 2 ? 'FAIL' : 'pass'} ${h.classIndex} ${hostClassOf(i)}`),
    );
    expect(parseTfRecords(run.stdout).at(-1)).toMatchObject({
      key: 'selftest',
      fields: ['FAIL', String(N - 1), String(N)],
    });
  });
});

describe('choosing the self-test', () => {
  it('--selftest with --embed is a usage error; the API refuses a self-test without windows', async () => {
    const dir = tempDir();
    const tfm = join(dir, 'm.tfm');
    await writeTfm(tfm, randomModel(3));
    const r = await runCommand(buildCommand, [
      'build',
      tfm,
      '--out',
      join(dir, 'fw'),
      '--selftest',
      '2',
      '--embed',
      '2',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--embed and --selftest both choose the windows in flash');
    await expect(buildModelFirmware({ model: randomModel(3), outDir: dir, selftest: true })).rejects.toThrow(
      /the self-test needs embed mode/,
    );
  });

  it('--board takes a board file by its path; a missing one is an input error', () => {
    const path = variantFile('nrf52840-dk', 'nrf52840-dk', {});
    expect(getBoard(path)).toEqual(getBoard('nrf52840-dk'));
    expect(() => getBoard(join(tempDir(), 'none.json'))).toThrow(/board file .*none\.json not found/);
  });

  it("QEMU gets a null chardev for each serial port before the board's console", () => {
    const board = boardVariant('nucleo-f401re', 'nucleo-f401re', {
      qemu: { machine: 'netduinoplus2', serial: 2 },
    });
    const args = qemuArgs(board, '/x/fw.elf', [], 'uart');
    const serials = args.flatMap((a, i) => (a === '-serial' ? [args[i + 1]] : []));
    expect(serials).toEqual(['null', 'null', 'chardev:tf-console']);
    expect(
      qemuArgs(getBoard('netduinoplus2'), '/x/fw.elf', [], 'uart').filter((a) => a === '-serial'),
    ).toHaveLength(1);
  });
});
