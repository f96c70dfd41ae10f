// `tinyforge doctor`: which tools are installed (versions and paths) or how to install them, the
// boards known; with --smoke, also builds and runs a trivial firmware to prove the whole chain.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { getBoard, listBoards } from '../../boards/boards.js';
import { buildFirmware } from '../../crossbuild/compile.js';
import { SMOKE_SOURCE } from '../../crossbuild/runtime.js';
import { integerRecords, parseTfRecords, requireTargetSuccess } from '../../qemu/tfLines.js';
import { runOnQemu } from '../../qemu/runner.js';
import { checkToolchain, type ToolchainReport } from '../../toolchain/check.js';
import { TinyforgeError } from '../../util/errors.js';
import { printJson } from '../output.js';

interface DoctorArgs {
  json: boolean;
  smoke: boolean;
  board: string;
  out?: string;
}

interface SmokeResult {
  board: string;
  elf: string;
  imageBytes: number;
  exitCode: number;
  wallMs: number;
  instructions: Record<string, number>;
  stackBytes: Record<string, number>;
  output: string;
}

function printReport(report: ToolchainReport): void {
  const width = Math.max(...report.tools.map((t) => t.name.length));
  const versionWidth = Math.max(...report.tools.map((t) => (t.version ?? '').length));
  process.stdout.write('Toolchain:\n');
  for (const t of report.tools) {
    const state = t.found ? 'ok     ' : 'MISSING';
    const where = t.found
      ? `${(t.version ?? '').padEnd(versionWidth)}  ${t.path ?? ''}`
      : `(Debian package ${t.debianPackage})`;
    process.stdout.write(`  ${state} ${t.name.padEnd(width)}  ${where}\n`);
  }
}

async function smoke(boardName: string, out: string | undefined): Promise<SmokeResult> {
  const board = getBoard(boardName);
  const outDir = out ?? mkdtempSync(join(tmpdir(), 'tinyforge-doctor-'));
  try {
    const build = await buildFirmware({ board, sources: [SMOKE_SOURCE], outDir, name: 'hello' });
    const run = await runOnQemu({ board, elf: build.elf, timeoutMs: 30_000 });
    requireTargetSuccess(run, 'the smoke-test firmware');
    const records = parseTfRecords(run.stdout);
    return {
      board: board.name,
      elf: out ? relative(process.cwd(), build.elf) : 'hello.elf (in a temporary folder, removed)',
      imageBytes: statSync(build.bin).size,
      exitCode: run.exitCode,
      wallMs: Math.round(run.wallMs),
      instructions: Object.fromEntries(integerRecords(records, 'instr')),
      stackBytes: Object.fromEntries(integerRecords(records, 'stack')),
      output: run.stdout,
    };
  } finally {
    if (!out) rmSync(outDir, { recursive: true, force: true });
  }
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check the cross toolchain and emulator (versions found, or how to install them)',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('smoke', {
        type: 'boolean',
        default: false,
        describe: 'Also build and run a trivial firmware on the emulated board',
      })
      .option('board', { type: 'string', default: 'netduinoplus2', describe: 'Board for --smoke' })
      .option('out', { type: 'string', describe: 'Keep the --smoke firmware in this folder' }),
  handler: async (argv) => {
    const report = await checkToolchain();
    const boards = listBoards().map((b) => b.name);
    if (!report.ok) {
      if (argv.json) printJson({ ...report, boards });
      else printReport(report);
      const missing = report.tools.filter((t) => !t.found).map((t) => t.name);
      throw new TinyforgeError(`missing: ${missing.join(', ')}`, 'toolchain', report.fix);
    }
    const smokeResult = argv.smoke ? await smoke(argv.board, argv.out) : undefined;
    if (argv.json) {
      printJson({ ...report, boards, smoke: smokeResult });
      return;
    }
    printReport(report);
    process.stdout.write(`Boards: ${boards.join(', ')}\n`);
    if (smokeResult) {
      const s = smokeResult;
      process.stdout.write(
        `Smoke test on ${s.board}: built ${s.elf} (flash image ${s.imageBytes} bytes), ran on QEMU in ` +
          `${s.wallMs} ms, exit status ${s.exitCode}\n` +
          s.output
            .trimEnd()
            .split('\n')
            .map((l) => `  | ${l}\n`)
            .join(''),
      );
    }
    process.stdout.write('All tools present.\n');
  },
};
