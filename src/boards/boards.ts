// Target boards as data: one JSON file per board in this folder (src/boards/<name>.json), validated
// here. Adding a board is adding a file; nothing else refers to a board by name.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TinyforgeError } from '../util/errors.js';
import { consoleSchema } from './console.js';
export { consoleDivisor } from './console.js';
import { quantity } from './quantity.js';

/** The folder with the board files: src/boards, also when running from dist/boards. */
export const BOARDS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'boards');

const region = z.strictObject({ origin: quantity, length: quantity.refine((n) => n > 0, 'must be > 0') });

const boardSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _'),
    description: z.string(),
    /** gcc -mcpu */
    cpu: z.string().regex(/^cortex-m[0-9a-z.+]*$/, 'a Cortex-M core for gcc -mcpu, e.g. cortex-m4'),
    /** gcc -mfpu, or null for none */
    fpu: z.string().nullable(),
    /** gcc -mfloat-abi */
    floatAbi: z.enum(['soft', 'softfp', 'hard']),
    flash: region,
    ram: region,
    /** Bytes reserved for the stack (painted at reset, measured, part of RAM use). */
    stackSize: quantity.refine((n) => n > 0 && n % 8 === 0, 'must be a positive multiple of 8'),
    /** Bytes reserved for newlib's heap (stdio buffers and FILE objects). */
    heapSize: quantity.refine((n) => n > 0 && n % 8 === 0, 'must be a positive multiple of 8'),
    /** How QEMU emulates the board; null if it cannot be run. */
    qemu: z
      .strictObject({
        machine: z.string().min(1),
        extraArgs: z.array(z.string()).default([]),
        /**
         * Which of the machine's serial ports (QEMU's n-th `-serial`, from 0) is the console's UART:
         * on netduinoplus2, USART1 is 0 and USART2 is 1.
         */
        serial: z.number().int().min(0).max(7).default(0),
      })
      .nullable(),
    /** A timer that counts executed instructions under `-icount shift=0`; null if there is none. */
    instructionCounter: z
      .union([
        z.strictObject({ kind: z.literal('stm32-timer'), base: quantity }),
        /**
         * The core's SysTick (every Cortex-M has one) where the machine has no such timer: 24 bits,
         * counting at the emulated core clock, so one tick is `instructionsPerTick` instructions
         * under -icount shift=0 (1e9 / clock in Hz) and counts have that resolution: 40 on QEMU's
         * MPS2 machines at 25 MHz, 50 on the AN505 (20 MHz), 31.25 on the AN547 (32 MHz), 62.5 on
         * the micro:bit (16 MHz). A multiple of 1/16, so the firmware converts exactly.
         */
        z.strictObject({
          kind: z.literal('systick'),
          instructionsPerTick: z
            .number()
            .min(1)
            .refine((n) => Number.isInteger(n * 16), 'must be a multiple of 1/16, e.g. 40, 62.5, 31.25'),
        }),
        /**
         * Real boards (Cortex-M3/M4/M7/M33): the DWT cycle counter, 32 bits at the core clock. It
         * counts core CYCLES on the chip (flash wait states and pipeline stalls included), not
         * instructions; QEMU 7.2 does not model it (it reads 0 there).
         */
        z.strictObject({ kind: z.literal('dwt-cycles') }),
      ])
      .nullable(),
    /**
     * The serial port firmware built with `--io uart` prints on (absent: the board has none and
     * only semihosting builds are possible); kinds and fields in ./console.ts. QEMU connects the
     * SoC's UARTs to its `-serial` chardevs in order (qemu.serial picks the console's).
     */
    console: consoleSchema.optional(),
  })
  .refine((b) => b.fpu !== null || b.floatAbi === 'soft', {
    message: 'a board without an FPU needs floatAbi "soft"',
    path: ['floatAbi'],
  })
  .refine((b) => b.stackSize + b.heapSize < b.ram.length, {
    message: 'stackSize + heapSize must leave RAM for data',
    path: ['stackSize'],
  });

export type Board = z.output<typeof boardSchema>;

/** Reads and validates one board file; the board's name must match the file name. */
export function loadBoardFile(path: string): Board {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TinyforgeError(
      `board file ${path} cannot be read: ${(err as Error).message}`,
      'input',
      'Fix the JSON; see src/boards/netduinoplus2.json for the fields.',
    );
  }
  const parsed = boardSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new TinyforgeError(
      `board file ${path} is invalid: ${problems.join('; ')}`,
      'input',
      'Fix the fields named; see src/boards/netduinoplus2.json for a complete board.',
    );
  }
  const board = parsed.data;
  const stem = basename(path, '.json');
  if (board.name !== stem) {
    throw new TinyforgeError(
      `board file ${path} names board '${board.name}'`,
      'input',
      `Rename the file to ${board.name}.json or set "name": "${stem}".`,
    );
  }
  return board;
}

/** All boards in `dir`, sorted by name. */
export function listBoards(dir: string = BOARDS_DIR): Board[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadBoardFile(join(dir, f)));
}

/**
 * The board called `name`; a TinyforgeError('usage') listing the known boards otherwise. A name
 * ending in .json is a board file outside src/boards (a variant, e.g. a test's), loaded from there.
 */
export function getBoard(name: string, dir: string = BOARDS_DIR): Board {
  if (name.endsWith('.json')) {
    if (!existsSync(name)) {
      throw new TinyforgeError(
        `board file ${name} not found`,
        'input',
        'Check the path, or give a board name.',
      );
    }
    return loadBoardFile(name);
  }
  const file = join(dir, `${name}.json`);
  if (/^[a-z0-9][a-z0-9_-]*$/.test(name) && existsSync(file)) return loadBoardFile(file);
  const known = listBoards(dir).map((b) => b.name);
  throw new TinyforgeError(
    `unknown board '${name}'`,
    'usage',
    `Known boards: ${known.join(', ') || '(none)'}. A new board is one JSON file in ${dir}.`,
  );
}

/** A board given by name or already loaded. */
export function resolveBoard(board: Board | string): Board {
  return typeof board === 'string' ? getBoard(board) : board;
}

/**
 * A SysTick's instructions per tick as a fraction num / den, den the smallest power of two that
 * makes num whole (40 = 40 / 1, 62.5 = 125 / 2, 31.25 = 125 / 4): the firmware multiplies ticks by
 * num and shifts, exactly.
 */
export function ticksFraction(instructionsPerTick: number): { num: number; den: number } {
  let den = 1;
  while (!Number.isInteger(instructionsPerTick * den)) den *= 2;
  return { num: instructionsPerTick * den, den };
}

/**
 * Instructions one count of a board's counter stands for under -icount shift=0: 1 for an exact
 * counter, a SysTick's instructions per tick, null without a counter.
 */
export function counterResolution(board: Board): number | null {
  const c = board.instructionCounter;
  if (!c) return null;
  return c.kind === 'systick' ? c.instructionsPerTick : 1;
}

/** 0x-prefixed, 8 hex digits: how addresses appear in linker scripts and messages. */
export function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
