// Boards as data: the netduinoplus2 file, validation, and adding a board as one JSON file.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BOARDS_DIR,
  counterResolution,
  getBoard,
  listBoards,
  loadBoardFile,
} from '../../src/boards/boards.js';
import { boardDefines, renderLinkerScript } from '../../src/crossbuild/runtime.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const reference = JSON.parse(readFileSync(join(BOARDS_DIR, 'netduinoplus2.json'), 'utf8')) as Record<
  string,
  unknown
>;

function thrown(fn: () => unknown): TinyforgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TinyforgeError);
    return e as TinyforgeError;
  }
  throw new Error('expected a TinyforgeError');
}

describe('boards', () => {
  it('netduinoplus2 is the STM32F405 as QEMU emulates it', () => {
    const b = getBoard('netduinoplus2');
    expect(b).toMatchObject({
      cpu: 'cortex-m4',
      fpu: 'fpv4-sp-d16',
      floatAbi: 'hard',
      flash: { origin: 0x08000000, length: 1024 * 1024 },
      ram: { origin: 0x20000000, length: 128 * 1024 },
      qemu: { machine: 'netduinoplus2', extraArgs: [] },
      instructionCounter: { kind: 'stm32-timer', base: 0x40000000 },
    });
    expect(b.stackSize % 8).toBe(0);
    expect(b.stackSize + b.heapSize).toBeLessThan(b.ram.length);
  });

  it('an unknown board is a usage error listing the known ones', () => {
    const err = thrown(() => getBoard('nucleo-h7'));
    expect(err.category).toBe('usage');
    expect(err.message).toBe("unknown board 'nucleo-h7'");
    const files = readdirSync(BOARDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
    expect(files).toEqual(expect.arrayContaining(['mps2-an386', 'netduinoplus2']));
    expect(err.hint).toContain(`Known boards: ${files.join(', ')}.`);
  });

  it('a SysTick tick of a fractional number of instructions becomes an exact fraction for the C', () => {
    // 1e9 / core clock: 16 MHz (micro:bit), 32 MHz (AN547), 25 MHz (MPS2), 20 MHz (AN505).
    for (const [name, hz] of [
      ['microbit', 16e6],
      ['mps3-an547', 32e6],
      ['mps2-an386', 25e6],
      ['mps2-an505', 20e6],
    ] as const) {
      expect(counterResolution(getBoard(name)), name).toBe(1e9 / hz);
    }
    expect(boardDefines(getBoard('microbit'))).toMatchObject({
      TF_COUNTER_SYSTICK: '125u',
      TF_COUNTER_SYSTICK_DEN: '2u',
    });
    expect(boardDefines(getBoard('mps3-an547'))).toMatchObject({
      TF_COUNTER_SYSTICK: '125u',
      TF_COUNTER_SYSTICK_DEN: '4u',
    });
    // A whole number keeps today's single define (the M4 builds are unchanged).
    expect(boardDefines(getBoard('mps2-an386'))).toEqual({
      TF_BOARD: '"mps2-an386"',
      TF_COUNTER_SYSTICK: '40u',
    });
    expect(counterResolution(getBoard('netduinoplus2'))).toBe(1);
    const dir = tempDir();
    const bad = {
      ...reference,
      name: 'odd',
      instructionCounter: { kind: 'systick', instructionsPerTick: 62.3 },
    };
    writeFileSync(join(dir, 'odd.json'), JSON.stringify(bad));
    expect(thrown(() => loadBoardFile(join(dir, 'odd.json'))).message).toContain('multiple of 1/16');
  });

  it('adding a board is adding a JSON file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'netduinoplus2.json'), JSON.stringify(reference));
    const m0 = {
      ...reference,
      name: 'tiny-m0',
      description: 'a Cortex-M0 with 32K flash',
      cpu: 'cortex-m0',
      fpu: null,
      floatAbi: 'soft',
      flash: { origin: 0, length: '32K' },
      ram: { origin: '0x20000000', length: 8192 },
      stackSize: '2K',
      heapSize: '2K',
      qemu: null,
      instructionCounter: null,
    };
    writeFileSync(join(dir, 'tiny-m0.json'), JSON.stringify(m0));
    expect(listBoards(dir).map((b) => b.name)).toEqual(['netduinoplus2', 'tiny-m0']);
    const b = getBoard('tiny-m0', dir);
    expect(b.flash).toEqual({ origin: 0, length: 32768 });
    expect(b.stackSize).toBe(2048);
    // The same linker template serves it.
    const ld = renderLinkerScript(b);
    expect(ld).toContain('FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 32768');
    expect(ld).toContain('RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 8192');
    expect(ld).toContain('__tf_stack_size = 2048;');
  });

  it('an invalid board file names the file and the fields', () => {
    const dir = tempDir();
    const bad = { ...reference, fpu: null, stackSize: '1M', qemu: { machine: '' } };
    const path = join(dir, 'netduinoplus2.json');
    writeFileSync(path, JSON.stringify(bad));
    const err = thrown(() => loadBoardFile(path));
    expect(err.category).toBe('input');
    expect(err.message).toContain(path);
    expect(err.message).toContain('qemu.machine');
    writeFileSync(path, JSON.stringify({ ...reference, fpu: null }));
    expect(thrown(() => loadBoardFile(path)).message).toContain('floatAbi');
    writeFileSync(path, JSON.stringify({ ...reference, stackSize: '127K' }));
    expect(thrown(() => loadBoardFile(path)).message).toContain('stackSize');
    writeFileSync(path, '{ not json');
    expect(thrown(() => loadBoardFile(path)).message).toContain('cannot be read');
  });

  it('a board file whose name does not match its file is refused', () => {
    const dir = tempDir();
    const path = join(dir, 'other.json');
    writeFileSync(path, JSON.stringify(reference));
    expect(thrown(() => loadBoardFile(path)).hint).toContain('netduinoplus2.json');
  });
});
