// `tinyforge deploy <model-dir> --data ... --out dir/`: compress -> compile -> build -> run in one
// command, ending with one table: host accuracies, on-target accuracy and agreement, flash, RAM,
// instructions. The compress options are those of `tinyforge compress`.
import { basename, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { compressModel } from '../../compress/compress.js';
import { loadCompressData } from '../../compress/data.js';
import { CODINGS } from '../../compress/model.js';
import { loadModelDir } from '../../train/modelDir.js';
import { initBackend } from '../../train/backend.js';
import {
  agreementError,
  buildModelFirmware,
  BUILD_FILES,
  DEFAULT_BOARD,
  flagsLine,
  measureOnTarget,
  targetResultJson,
} from '../../target/index.js';
import { bytes, num } from '../../target/format.js';
import { TinyforgeError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { formatTable, pct } from '../table.js';
import { formatCompressReport } from './compress.js';
import {
  optLevelFrom,
  pickSplit,
  splitCFlags,
  takeWindows,
  withOptLevel,
  type OptLevelArgs,
} from './build.js';

interface DeployArgs extends OptLevelArgs {
  model: string;
  data: string;
  out: string;
  prune: number;
  structured: boolean;
  'prune-scope': 'layer' | 'global';
  bits: number;
  'per-channel': boolean;
  coding: string;
  'finetune-epochs': number;
  'eval-split': 'test' | 'val';
  seed: number;
  lr: number;
  'batch-size': number;
  board: string;
  cflags?: string;
  limit?: number;
  timeout?: number;
  json: boolean;
}

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy <model>',
  describe: 'compress -> compile -> build -> run in one command',
  builder: (y) =>
    withOptLevel(
      y
        .positional('model', {
          type: 'string',
          demandOption: true,
          describe: 'model directory (tinyforge train or tfjs Layers)',
        })
        .option('data', {
          type: 'string',
          demandOption: true,
          describe:
            'UCI HAR directory or synthetic[:opts]: compression data and the windows run on the target',
        })
        .option('out', {
          type: 'string',
          demandOption: true,
          describe: 'build folder: model.tfm, sources, firmware, size and run reports',
        })
        .option('prune', {
          type: 'number',
          default: 0,
          describe: 'target sparsity (or filter fraction with --structured)',
        })
        .option('structured', { type: 'boolean', default: false, describe: 'remove whole Conv1D filters' })
        .option('prune-scope', { choices: ['layer', 'global'] as const, default: 'layer' as const })
        .option('bits', { type: 'number', default: 8, describe: 'weight bits, 2..8' })
        .option('per-channel', {
          type: 'boolean',
          default: true,
          describe: 'weight scale per output channel',
        })
        .option('coding', {
          choices: [...CODINGS, 'auto'],
          default: 'auto',
          describe: 'weight coding per layer',
        })
        .option('finetune-epochs', { type: 'number', default: 0, describe: 'fine-tuning epochs' })
        .option('eval-split', {
          choices: ['test', 'val'] as const,
          default: 'test' as const,
          describe: 'split of the host accuracies',
        })
        .option('seed', { type: 'number', default: 1 })
        .option('lr', { type: 'number', default: 5e-4, describe: 'fine-tuning learning rate' })
        .option('batch-size', { type: 'number', default: 64 })
        .option('board', { type: 'string', default: DEFAULT_BOARD })
        .option('cflags', { type: 'string', describe: 'extra compiler flags: --cflags="-funroll-loops"' })
        .option('limit', { type: 'number', describe: 'run only the first N test windows on the target' })
        .option('timeout', { type: 'number', describe: 'QEMU time limit in seconds' })
        .option('json', { type: 'boolean', default: false, describe: 'print every stage as JSON' })
        .example(
          '$0 deploy out/har-default --data ../shared/data/uci-har --bits 4 --coding huffman --out out/h4',
          '4-bit Huffman-coded firmware, measured on the whole test split',
        ),
    ) as never,
  handler: async (a) => {
    const log = a.json ? () => {} : (s: string) => process.stderr.write(s + '\n');
    if (a.timeout !== undefined && !(a.timeout > 0)) {
      throw new TinyforgeError(`--timeout must be a positive number of seconds, got ${a.timeout}`, 'usage');
    }
    const optLevel = optLevelFrom(a);
    const loaded = loadModelDir(a.model);
    if (a['finetune-epochs'] > 0) await initBackend({ quiet: a.json });
    log(`deploy: compressing ${a.model}`);
    const data = loadCompressData(a.data, loaded.normalization, a['eval-split']);
    const { model, report } = await compressModel(loaded.model, loaded.normalization, data, {
      prune: a.prune,
      structured: a.structured,
      pruneScope: a['prune-scope'],
      bits: a.bits,
      perChannel: a['per-channel'],
      coding: a.coding as never,
      finetuneEpochs: a['finetune-epochs'],
      seed: a.seed,
      lr: a.lr,
      batchSize: a['batch-size'],
      progress: a.json ? 'none' : 'auto',
      log,
    });
    model.meta.source = { model: a.model, data: a.data };
    if (!a.json) log(formatCompressReport(report));

    log(`deploy: building firmware in ${a.out}`);
    const fw = await buildModelFirmware({
      model,
      board: a.board,
      outDir: a.out,
      optLevel,
      extraCFlags: splitCFlags(a.cflags),
      sourceName: `${basename(a.model)} (deploy)`,
    });

    const set = takeWindows(pickSplit(a.data, 'test', model), a.limit, '--limit');
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
      printJson({ compress: report, build: fw.info, size: fw.size, target: targetResultJson(result) });
    } else {
      const r = result;
      const ag = r.agreement;
      const rows: string[][] = [
        ['model', `${a.model} -> ${join(fw.dir, BUILD_FILES.model)}`],
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
        ['model RAM (arena + inference stack)', bytes(r.ram.model)],
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
