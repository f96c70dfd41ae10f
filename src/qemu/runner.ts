// Runs a firmware ELF on QEMU's model of its board, with semihosting for I/O and exit status (or,
// for --io uart firmware, the board's console USART on QEMU's stdout, ended by the "TF exit" line),
// and `-icount shift=0` so that one instruction is one nanosecond of virtual time: the instruction
// counter (tf_target.h) is then exact and identical from run to run.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { resolveBoard, type Board } from '../boards/boards.js';
import { DEFAULT_IO, type ConsoleIo } from '../crossbuild/compile.js';
import { requireTool } from '../toolchain/check.js';
import { TinyforgeError } from '../util/errors.js';

export interface RunOnQemuOptions {
  /** Board name or a loaded board; it must have a `qemu` machine. */
  board: Board | string;
  elf: string;
  /** QEMU is killed after this long (wall clock). Default 60 s. */
  timeoutMs?: number;
  /** QEMU's working folder: relative paths the firmware opens resolve here. Default: the ELF's folder. */
  cwd?: string;
  /**
   * The firmware's argv[1..] (argv[0] is the ELF's name), passed on the semihosting command line.
   * No whitespace inside an argument (semihosting joins them with spaces): pass files by a name
   * relative to `cwd`. A uart firmware has no command line: no args.
   */
  args?: string[];
  /** How the firmware was built (buildFirmware's `io`); default 'semihosting'. */
  io?: ConsoleIo;
}

export interface QemuRun {
  /** The firmware's exit status (main's return value or exit()); see src/qemu/tfLines.ts. */
  exitCode: number;
  /**
   * Everything the firmware printed on stdout (the results protocol lines among it). uart: all
   * the console carried (stderr too), without the final "TF exit" line the runner consumed.
   */
  stdout: string;
  /** The firmware's stderr (semihosting) and QEMU's own messages. */
  stderr: string;
  wallMs: number;
  /** The exact QEMU command line, for reproducing the run. */
  command: string[];
  cwd: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** The chardev id the console UART (the board's qemu.serial-th serial port) is connected to. */
const CONSOLE_CHARDEV = 'tf-console';

/** "TF exit <code>": how a uart firmware's runtime ends (tf_target.h, TF_EXIT_LINE_PREFIX). */
const EXIT_LINE = /^TF exit (-?\d+)\r?\n?$/;

/** QEMU's arguments for running `elf` on `board` (without the executable). */
export function qemuArgs(
  board: Board,
  elf: string,
  args: string[] = [],
  io: ConsoleIo = DEFAULT_IO,
): string[] {
  if (!board.qemu) {
    throw new TinyforgeError(
      `board ${board.name} cannot be run: its board file has no QEMU machine ("qemu": null)`,
      'run',
      `Run on a board with a "qemu" entry (e.g. netduinoplus2), or add the QEMU machine to src/boards/${board.name}.json.`,
    );
  }
  // Where the firmware's console goes: the only part of the command line the two I/O modes differ in.
  let consoleArgs: string[];
  if (io === 'uart') {
    if (args.length > 0) {
      throw new TinyforgeError(
        `firmware arguments (${args.join(' ')}) given for a --io uart firmware, which has no command line`,
        'usage',
        'Build with --io semihosting to pass arguments, or run the uart firmware without any.',
      );
    }
    // The console USART on QEMU's stdout through a chardev. That makes stdout non-blocking (as
    // -nographic does), but the USART model writes with qemu_chr_fe_write_all, which retries a full
    // pipe instead of dropping bytes (test/crossbuild/uart.test.ts reads 3000 lines slowly).
    // QEMU hands its -serial options to the SoC's UARTs in order: the ports before the console's
    // (board qemu.serial, e.g. netduinoplus2's USART2 is the second) get null chardevs.
    const before = Array.from({ length: board.qemu.serial }, () => ['-serial', 'null']).flat();
    consoleArgs = [
      '-chardev',
      `stdio,id=${CONSOLE_CHARDEV}`,
      ...before,
      '-serial',
      `chardev:${CONSOLE_CHARDEV}`,
    ];
  } else {
    for (const a of args) {
      if (a === '' || /\s/.test(a)) {
        throw new TinyforgeError(
          `firmware argument '${a}' is empty or contains whitespace, which the semihosting command line cannot carry`,
          'usage',
          'Pass files by a name relative to the run folder (cwd) without spaces.',
        );
      }
    }
    // QEMU option values escape a comma by doubling it.
    const semihostingArgs = [basename(elf), ...args].map((a) => `,arg=${a.replace(/,/g, ',,')}`).join('');
    // Not -nographic: its stdio chardev makes QEMU's stdout non-blocking, and semihosting writes
    // that meet a full pipe are then silently dropped (seen: 2340 of 3000 lines arrived). Without a
    // display, monitor or serial on stdio, stdout stays blocking and nothing is lost.
    consoleArgs = ['-serial', 'null', '-semihosting-config', `enable=on,target=native${semihostingArgs}`];
  }
  return [
    '-M',
    board.qemu.machine,
    '-display',
    'none',
    '-monitor',
    'none',
    ...consoleArgs,
    '-icount',
    'shift=0,align=off,sleep=off',
    ...board.qemu.extraArgs,
    '-kernel',
    elf,
  ];
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/** Runs a firmware to completion; throws TinyforgeError('run') if QEMU times out or crashes. */
export async function runOnQemu(options: RunOnQemuOptions): Promise<QemuRun> {
  const board = resolveBoard(options.board);
  const elf = resolve(options.elf);
  const io = options.io ?? DEFAULT_IO;
  const args = qemuArgs(board, elf, options.args, io);
  if (!existsSync(elf)) {
    throw new TinyforgeError(`firmware ${elf} not found`, 'input', 'Build it first (tinyforge build).');
  }
  if (!isElf(elf)) {
    // QEMU would load it as a raw image and lock up on a garbage vector table.
    throw new TinyforgeError(
      `${elf} is not an ELF file`,
      'input',
      'Pass the .elf a firmware build produced.',
    );
  }
  const qemu = requireTool('qemu-system-arm');
  const cwd = resolve(options.cwd ?? resolve(elf, '..'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const start = performance.now();
  // uart: the firmware cannot end QEMU; its runtime prints the exit line and stops the CPU. Watch
  // the console line by line, keep the exit line out of stdout, and stop QEMU when it comes.
  let uartExit: number | null = null;
  const watchExit = {
    *transform(line: unknown) {
      if (uartExit !== null) return; // nothing follows the exit line
      const m = EXIT_LINE.exec(String(line));
      if (!m) {
        yield line;
        return;
      }
      uartExit = Number(m[1]) & 0xff; // the status a host process would get from exit(code)
      subprocess.kill('SIGKILL');
    },
    preserveNewlines: true,
  };
  const subprocess = execa(qemu, args, {
    cwd,
    reject: false,
    stdin: 'ignore',
    ...(io === 'uart' ? { stdout: watchExit } : {}),
    timeout: timeoutMs,
    forceKillAfterDelay: 2_000,
    stripFinalNewline: false,
    // Runs print thousands of result lines; keep a generous ceiling rather than lose any.
    maxBuffer: 512 * 1024 * 1024,
  });
  const r = await subprocess;
  const wallMs = performance.now() - start;
  const command = [qemu, ...args];
  const output = () => {
    const tail = lastLines(String(r.stdout ?? '') + String(r.stderr ?? ''), 5);
    return tail ? `\nLast output:\n${tail}` : '';
  };

  if (r.timedOut) {
    throw new TinyforgeError(
      `firmware ${basename(elf)} did not finish within ${timeoutMs / 1000} s on QEMU (${board.qemu?.machine}); QEMU was stopped${output()}`,
      'run',
      'Check for an endless loop or a wait on a peripheral QEMU does not model, and that main returns ' +
        '(or calls exit); a larger input needs a longer time limit' +
        (io === 'semihosting' ? '; a firmware built with --io uart must be run with io uart.' : '.'),
    );
  }
  if (r.isMaxBuffer) {
    throw new TinyforgeError(`firmware ${basename(elf)} printed more output than tinyforge keeps`, 'run');
  }
  const fatal = /^qemu: fatal: (.*)$/m.exec(String(r.stderr ?? ''));
  if (fatal) {
    throw new TinyforgeError(
      `QEMU stopped running ${basename(elf)}: ${fatal[1]}`,
      'run',
      /Lockup/.test(fatal[1])
        ? 'The CPU faulted while it could not handle a fault (vector table or stack unusable): check that ' +
            `the ELF was built by tinyforge for board ${board.name} and that the stack did not overflow.`
        : 'Run the QEMU command by hand to see the whole message: ' + command.join(' '),
    );
  }
  if (io === 'uart') {
    // Stopped by us after the exit line; the icount warning is QEMU noticing the idle CPU after it.
    const stderr = String(r.stderr ?? '').replace(
      /^qemu-system-arm: warning: icount sleep disabled and no active timers\r?\n?/m,
      '',
    );
    const stdout = String(r.stdout ?? '');
    if (uartExit !== null) return { exitCode: uartExit, stdout, stderr, wallMs, command, cwd };
    if (r.exitCode === 0) {
      throw new TinyforgeError(
        `QEMU ended ${basename(elf)} without the firmware's exit line ("TF exit <code>" on the console)${output()}`,
        'run',
        'Check that the ELF was built with --io uart (its runtime prints the exit line); a semihosting ' +
          'firmware is run with io semihosting.',
      );
    }
  }
  if (r.exitCode === undefined) {
    const why = r.signal ? `was killed by ${r.signal}` : `could not run: ${r.shortMessage}`;
    throw new TinyforgeError(
      `QEMU running ${basename(elf)} ${why}${output()}`,
      'run',
      'A CPU lockup (a fault while handling a fault) or an emulator crash ends QEMU like this; run the command by hand to see: ' +
        command.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' '),
    );
  }
  // QEMU's own failures (cannot load the ELF, bad machine) also exit with 1, before any output.
  const qemuError = /^qemu-system-arm: (?!warning)(.*)$/m.exec(r.stderr);
  if (r.exitCode === 1 && qemuError && r.stdout === '') {
    throw new TinyforgeError(
      `QEMU could not run ${basename(elf)}: ${qemuError[1]}`,
      'run',
      `Check that ${elf} is a firmware ELF built for board ${board.name}.`,
    );
  }
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, wallMs, command, cwd };
}
