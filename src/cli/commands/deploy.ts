// `tinyforge deploy <model-dir> [--data ...] --out dir/`: compress -> compile -> build -> run in one
// command, ending with one table: host accuracies, on-target accuracy and agreement, flash, RAM,
// instructions. The compress options are those of `tinyforge compress`.
import { basename, join } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  agreementError,
  buildModelFirmware,
  BUILD_FILES,
  DEFAULT_BOARD,
  flagsLine,
  measureOnTarget,
  targetResultJson,
} from '../../measure/index.js';
import { bytes, num } from '../../measure/summary.js';
import { TinyforgeError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { formatTable, pct } from '../../util/table.js';
import {
  COMPRESS_OPTIONS,
  compressModelDir,
  formatCompressReport,
  MODEL_DIR_POSITIONAL,
  type CompressArgs,
} from './compress.js';
import { optLevelFrom, splitCFlags, takeWindows, withOptLevel, type OptLevelArgs } from './build.js';
import { dataOptionText, describeData } from '../data.js';
import { RAM_OPTION, ramFrom } from '../ramOption.js';
import { checkPrefix, DEFAULT_PREFIX } from '../../codegen/index.js';

interface DeployArgs extends OptLevelArgs, CompressArgs {
  model: string;
  data?: string;
  out: string;
  board: string;
  cflags?: string;
  limit?: number;
  timeout?: number;
  ram: string;
  prefix: string;
  json: boolean;
}

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy <model>',
  describe: 'compress -> compile -> build -> run in one command',
  builder: (y) =>
    withOptLevel(
      y
        .positional('model', MODEL_DIR_POSITIONAL)
        .option('data', {
          type: 'string',
          describe: dataOptionText('compression data and the test windows run on the target', 'trained'),
        })
        .option('out', {
          type: 'string',
          demandOption: true,
          describe: 'build folder: model.tfm, sources, firmware, size and run reports',
        })
        .options(COMPRESS_OPTIONS)
        .option('board', { type: 'string', default: DEFAULT_BOARD })
        .option('cflags', { type: 'string', describe: 'extra compiler flags: --cflags="-funroll-loops"' })
        .option('limit', { type: 'number', describe: 'run only the first N test windows on the target' })
        .option('timeout', { type: 'number', describe: 'QEMU time limit in seconds' })
        .options(RAM_OPTION)
        .option('prefix', {
          type: 'string',
          default: DEFAULT_PREFIX,
          describe: 'C name prefix, as build --prefix',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print every stage as JSON' })
        .example(
          '$0 deploy out/har-default --bits 4 --coding huffman --out out/h4',
          '4-bit Huffman-coded firmware, measured on the whole test split of the data out/har-default was trained on',
        ),
    ) as never,
  handler: async (a) => {
    const log = a.json ? () => {} : (s: string) => process.stderr.write(s + '\n');
    if (a.timeout !== undefined && !(a.timeout > 0)) {
      throw new TinyforgeError(`--timeout must be a positive number of seconds, got ${a.timeout}`, 'usage');
    }
    const optLevel = optLevelFrom(a);
    const ram = ramFrom(a.ram);
    checkPrefix(a.prefix);
    const { model, report, chosen } = await compressModelDir(a, log, 'deploy');
    if (!a.json) log(formatCompressReport(report));

    log(`deploy: building firmware in ${a.out}`);
    const fw = await buildModelFirmware({
      model,
      board: a.board,
      outDir: a.out,
      optLevel,
      extraCFlags: splitCFlags(a.cflags),
      sourceName: `${basename(a.model)} (deploy)`,
      ram,
      prefix: a.prefix,
    });

    const set = takeWindows(chosen.dataset.test, a.limit, '--limit');
    log(`deploy: running ${set.n} test windows on ${fw.board.name}`);
    const result = await measureOnTarget({
      buildDir: fw.dir,
      model,
      windows: set.x,
      labels: set.y,
      n: set.n,
      timeoutMs: a.timeout !== undefined ? a.timeout * 1000 : undefined,
    });

    if (a.json) {
      printJson({
        data: { spec: chosen.spec, recorded: chosen.recorded, split: 'test' },
        compress: report,
        build: fw.info,
        size: fw.size,
        target: targetResultJson(result),
      });
    } else {
      const r = result;
      const ag = r.agreement;
      const rows: string[][] = [
        ['model', `${a.model} -> ${join(fw.dir, BUILD_FILES.model)}`],
        ['data', describeData(chosen)],
        [
          'compression',
          `${a.bits}-bit ${a.coding}${a.prune ? `, ${pct(a.prune, 0)} ${a.structured ? 'filters' : 'sparsity'}` : ''}: weights ${bytes(report.totals.codedBytes)} (${pct(report.totals.codedBytes / report.totals.packed8Bytes)} of 8-bit)`,
        ],
        [`float accuracy (host, ${report.evalName})`, pct(report.floatAccuracy)],
        [`fixed-point accuracy (host, ${report.evalName})`, pct(report.fixedAccuracy)],
        [`on-target accuracy (test, ${r.windows} windows)`, pct(r.accuracy)],
        [
          'host agreement',
          ag.equal
            ? `bit-exact, ${ag.matching} / ${r.windows}`
            : `MISMATCH on ${ag.mismatching} / ${r.windows}`,
        ],
        ['model flash (weights + tables + kernels)', bytes(r.flash.model)],
        ['firmware flash', `${bytes(r.flash.total)} of ${bytes(r.flash.capacity)}`],
        ['RAM (static + peak stack)', `${bytes(r.ram.staticWithStack)} of ${bytes(r.ram.capacity)}`],
        [
          'model RAM (arena + inference stack)',
          `${bytes(r.ram.model)}${r.ram.livenessBytes !== null ? ` (liveness optimum ${bytes(r.ram.livenessBytes)}; --ram ${fw.info.codegen.ram.option})` : ''}`,
        ],
        [
          'instructions per inference',
          `${num(r.instructions.mean)} (min ${num(r.instructions.min)}, max ${num(r.instructions.max)})`,
        ],
        ['instructions per MAC', num(r.instructions.perMac, 2)],
        ['build', `${fw.board.name}, ${flagsLine(fw.info)}`],
        ['QEMU wall time', `${num(r.wallMs.qemu / 1000, 1)} s`],
      ];
      process.stdout.write(formatTable(['deploy', 'result'], rows) + '\n');
    }
    const err = agreementError(result);
    if (err) throw err;
  },
};
