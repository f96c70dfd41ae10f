// The firmware runtime shipped in firmware/ (startup, semihosting glue, target API) and what a
// board file turns into for the compiler: machine flags, defines, and the linker script.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { hex32, ticksFraction, type Board } from '../boards/boards.js';

export const FIRMWARE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'firmware');

/** Holds tf_target.h, the target API every tinyforge firmware includes. */
export const FIRMWARE_INCLUDE_DIR = join(FIRMWARE_DIR, 'include');

/** Linked into every firmware: vector table and reset, C runtime glue, target API, stack scans. */
export const FIRMWARE_RUNTIME_SOURCES: readonly string[] = [
  'startup.S',
  'tf_crt.c',
  'tf_target.c',
  'tf_stack.S',
].map((f) => join(FIRMWARE_DIR, 'src', f));

export const LINKER_TEMPLATE = join(FIRMWARE_DIR, 'linker.ld.hbs');

/** The one trivial program `make demo` and `tinyforge doctor --smoke` build and run. */
export const SMOKE_SOURCE = join(FIRMWARE_DIR, 'examples', 'hello.c');

/** gcc machine flags for a board (compile and link). */
export function machineFlags(board: Board): string[] {
  return [
    `-mcpu=${board.cpu}`,
    '-mthumb',
    `-mfloat-abi=${board.floatAbi}`,
    ...(board.fpu ? [`-mfpu=${board.fpu}`] : []),
  ];
}

/** Preprocessor defines every source of a board's firmware sees (tf_target.h uses them). */
export function boardDefines(board: Board): Record<string, string> {
  const defines: Record<string, string> = { TF_BOARD: `"${board.name}"` };
  const counter = board.instructionCounter;
  if (counter?.kind === 'stm32-timer') defines.TF_COUNTER_BASE = `${hex32(counter.base)}u`;
  if (counter?.kind === 'systick') {
    // Instructions per tick = TF_COUNTER_SYSTICK / TF_COUNTER_SYSTICK_DEN (the latter only when not 1).
    const { num, den } = ticksFraction(counter.instructionsPerTick);
    defines.TF_COUNTER_SYSTICK = `${num}u`;
    if (den > 1) defines.TF_COUNTER_SYSTICK_DEN = `${den}u`;
  }
  if (counter?.kind === 'dwt-cycles') defines.TF_COUNTER_DWT = '1';
  return defines;
}

let template: HandlebarsTemplateDelegate | undefined;

/**
 * The linker script for a board, from firmware/linker.ld.hbs. `heapSize` overrides the board's
 * (a --io uart firmware reserves none: its stdio needs no malloc).
 */
export function renderLinkerScript(board: Board, o: { heapSize?: number } = {}): string {
  template ??= Handlebars.compile(readFileSync(LINKER_TEMPLATE, 'utf8'), { noEscape: true, strict: true });
  return template({
    name: board.name,
    description: board.description,
    flash: { originHex: hex32(board.flash.origin), length: board.flash.length },
    ram: { originHex: hex32(board.ram.origin), length: board.ram.length },
    stackSize: board.stackSize,
    heapSize: o.heapSize ?? board.heapSize,
  });
}
