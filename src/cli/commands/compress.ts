// `tinyforge compress`: trained model directory -> .tfm compressed model graph + per-layer report.
import type { CommandModule, Options } from 'yargs';
import { recordedValidation } from '../../train/modelDir.js';
import { initBackend } from '../../train/backend.js';
import {
  compressKeptInt8,
  compressModel,
  type CompressOptions,
  type CompressReport,
} from '../../compress/compress.js';
import { TinyforgeError } from '../../util/errors.js';
import { compressDataFrom } from '../../compress/data.js';
import { writeTfm } from '../../qmodel/index.js';
import { CODINGS } from '../../qmodel/model.js';
import { printJson } from '../output.js';
import { formatTable, pct } from '../../util/table.js';
import { compressSource, dataOptionText, describeData, modelDirAndData } from '../data.js';

/** The compression options, shared by `compress` and `deploy`. */
/** The model argument of compress and deploy. */
export const MODEL_DIR_POSITIONAL = {
  type: 'string',
  demandOption: true,
  describe: 'model directory (tinyforge train or tfjs Layers)',
} as const;

export const COMPRESS_OPTIONS = {
  prune: {
    type: 'number',
    default: 0,
    describe: 'target sparsity (or filter fraction with --structured), 0..0.99',
  },
  structured: {
    type: 'boolean',
    default: false,
    describe: 'remove whole Conv1D filters instead of single weights',
  },
  'prune-scope': {
    choices: ['layer', 'global'],
    default: 'layer',
    describe: 'unstructured pruning threshold per layer or global',
  },
  bits: { type: 'number', default: 8, describe: 'weight bits, 2..8' },
  'per-channel': {
    type: 'boolean',
    default: true,
    describe: 'weight scale per output channel (--no-per-channel: per layer)',
  },
  coding: { choices: [...CODINGS, 'auto'], default: 'auto', describe: 'weight coding per layer' },
  'finetune-epochs': {
    type: 'number',
    default: 0,
    describe: 'fine-tuning epochs (pruning schedule + fake quantization)',
  },
  'eval-split': { choices: ['test', 'val'], default: 'test', describe: 'split the accuracy is reported on' },
  seed: { type: 'number', default: 1 },
  lr: { type: 'number', default: 5e-4, describe: 'fine-tuning learning rate' },
  'batch-size': { type: 'number', default: 64 },
  requantize: {
    type: 'boolean',
    default: false,
    describe:
      "a fully int8 .tflite: dequantize it and compress with tinyforge's scheme (default: keep its int8 quantization, code its weights only)",
  },
} as const satisfies Record<string, Options>;

export interface CompressArgs {
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
  requantize: boolean;
}

/** Parsed flags to compressor settings. */
export function compressOptionsFrom(a: CompressArgs): Omit<CompressOptions, 'log' | 'progress'> {
  return {
    prune: a.prune,
    structured: a.structured,
    pruneScope: a['prune-scope'],
    bits: a.bits,
    perChannel: a['per-channel'],
    coding: a.coding as CompressOptions['coding'],
    finetuneEpochs: a['finetune-epochs'],
    seed: a.seed,
    lr: a.lr,
    batchSize: a['batch-size'],
  };
}

/** What compress and deploy both take: a model directory, maybe data, the compression flags. */
export interface ModelCompressArgs extends CompressArgs {
  model: string;
  data?: string;
  json: boolean;
}

interface Args extends ModelCompressArgs {
  out: string;
}

/**
 * Compresses a model directory on the data given, else the data the model records (compress and
 * deploy alike); the .tfm records where model and data came from.
 */
export async function compressModelDir(a: ModelCompressArgs, log: (line: string) => void, verb: string) {
  const { loaded, data: chosen } = await modelDirAndData(a.model, a.data, { requantize: a.requantize });
  log(`${verb}: compressing ${a.model} with data ${describeData(chosen)}`);
  if (loaded.int8) rejectQuantizingFlags(a);
  if (a['finetune-epochs'] > 0) await initBackend({ quiet: a.json });
  const data = compressDataFrom(
    chosen.dataset,
    loaded.normalization,
    a['eval-split'],
    recordedValidation(loaded),
  );
  const options = {
    ...compressOptionsFrom(a),
    progress: a.json ? ('none' as const) : ('auto' as const),
    log,
  };
  const { model, report } = loaded.int8
    ? compressKeptInt8(
        { ...loaded.int8, classNames: loaded.model.graph.classNames },
        loaded.model,
        data,
        options,
      )
    : await compressModel(loaded.model, loaded.normalization, data, options);
  model.meta.source = compressSource(a.model, loaded, chosen);
  return { model, report, chosen };
}

/** A model that keeps TFLite's int8 quantization is not pruned, requantized or fine-tuned. */
function rejectQuantizingFlags(a: CompressArgs): void {
  const given = [
    a.bits !== 8 && '--bits',
    a.prune > 0 && '--prune',
    a.structured && '--structured',
    !a['per-channel'] && '--no-per-channel',
    a['finetune-epochs'] > 0 && '--finetune-epochs',
  ].filter((f): f is string => typeof f === 'string');
  if (given.length)
    throw new TinyforgeError(
      `the model keeps its TFLite int8 quantization: ${given.join(', ')} do not apply (only --coding does: it codes the int8 weights losslessly)`,
      'usage',
      'to prune or quantize it with tinyforge, import it with --requantize (or pass --requantize here for a .tflite file)',
    );
}

export const compressCommand: CommandModule<object, Args> = {
  command: 'compress <model>',
  describe: 'Prune, quantize and code a trained model into a .tfm file',
  builder: (y) =>
    y
      .positional('model', MODEL_DIR_POSITIONAL)
      .option('data', {
        type: 'string',
        describe: dataOptionText('fine-tuning, calibration and accuracy', 'trained'),
      })
      .option('out', { type: 'string', demandOption: true, describe: 'output .tfm file' })
      .options(COMPRESS_OPTIONS)
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .example(
        '$0 compress out/har --bits 4 --finetune-epochs 6 --out out/h4.tfm',
        'on the data out/har was trained on (recorded in its training.json)',
      )
      .example(
        '$0 compress out/har --data ../shared/data/uci-har --bits 8 --out out/p8.tfm',
        'on the data given (same window shape and classes as the model)',
      ) as never,
  handler: async (a) => {
    const log = a.json ? () => {} : (s: string) => process.stderr.write(s + '\n');
    const { model, report, chosen } = await compressModelDir(a, log, 'compress');
    await writeTfm(a.out, model);
    if (a.json) printJson({ out: a.out, data: chosen.spec, dataRecorded: chosen.recorded, ...report });
    else
      process.stdout.write(
        `data: ${describeData(chosen)}\n` + formatCompressReport(report) + `\nwrote ${a.out}\n`,
      );
  },
};

export function formatCompressReport(r: CompressReport): string {
  const rows = r.layers.map((l) => [
    l.layer,
    l.coding,
    String(l.bits),
    String(l.weights),
    pct(l.sparsity),
    l.entropy.toFixed(2),
    String(l.codedBits),
    l.entropyBoundBits !== undefined ? Math.ceil(l.entropyBoundBits).toString() : '-',
    String(l.tableBytes),
    l.bitsPerWeight.toFixed(2),
    String(l.codedBytes),
  ]);
  const t = r.totals;
  rows.push([
    'total',
    '',
    '',
    String(t.weights),
    pct(t.sparsity),
    '',
    '',
    '',
    String(t.tableBytes),
    ((8 * t.codedBytes) / t.weights).toFixed(2),
    String(t.codedBytes),
  ]);
  const table = formatTable(
    [
      'layer',
      'coding',
      'bits',
      'weights',
      'sparsity',
      'H bits/w',
      'coded bits',
      'entropy bound',
      'table B',
      'bits/w',
      'bytes',
    ],
    rows,
  );
  const int8 = r.int8
    ? [
        `TFLite int8 quantization kept: weights ${t.codedBytes} B coded vs ${t.packed8Bytes} B as stored (int8), ` +
          `${pct(1 - t.codedBytes / t.packed8Bytes)} smaller, outputs unchanged; decoders ${r.int8.decoders.map((d) => `${d.coding} ${d.codeBytes} B`).join(', ') || 'none'}`,
      ]
    : [];
  return [
    table,
    ...int8,
    `coded weights: bitstreams ${t.streamBytes} B = ${pct(t.streamBytes / t.packed8Bytes)} of 8-bit packed ` +
      `(${t.packed8Bytes} B); with decode tables ${t.codedBytes} B = ${pct(t.codedBytes / t.packed8Bytes)}`,
    `accuracy on ${r.evalName} (${r.evalWindows} windows): float ${pct(r.floatAccuracy)}, ` +
      `after pruning/fine-tuning (float) ${pct(r.finetunedFloatAccuracy)}, fixed-point ${pct(r.fixedAccuracy)}`,
  ].join('\n');
}
