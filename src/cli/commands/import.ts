// `tinyforge import <file> --out <dir>`: a Keras (.h5, .keras), TensorFlow Lite or ONNX model as a
// model directory every later command takes, with what the file does not say given once.
import type { CommandModule } from 'yargs';
import { printJson } from '../output.js';
import { INPUT_MEANINGS, type InputMeaning } from '../../import/common.js';
import { IMPORTABLE_EXTENSIONS } from '../../import/index.js';
import { importToModelDir } from '../../import/save.js';
import { KEPT_INT8_FILE } from '../../import/loadModel.js';
import { inferShapes, totalMacs, totalParams } from '../../graph/ir.js';
import { TinyforgeError } from '../../util/errors.js';
import { DATA_FORMS } from '../data.js';

interface ImportArgs {
  file: string;
  out: string;
  classes?: string;
  labels?: string;
  'input-mean'?: string;
  'input-std'?: string;
  data?: string;
  'input-meaning'?: string;
  'keep-quantization'?: boolean;
  requantize?: boolean;
  json: boolean;
}

/** A comma-separated list of numbers. */
function numbers(name: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x)))
    throw new TinyforgeError(`--${name} must be numbers separated by commas, got '${v}'`, 'usage');
  return xs;
}

function meaning(v: string | undefined): InputMeaning | undefined {
  if (v === undefined) return undefined;
  if (!(INPUT_MEANINGS as readonly string[]).includes(v))
    throw new TinyforgeError(`--input-meaning must be one of ${INPUT_MEANINGS.join(', ')}`, 'usage');
  return v as InputMeaning;
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Import a Keras (.h5, .keras), TensorFlow Lite or ONNX model as a model directory',
  builder: (y) =>
    y
      .positional('file', {
        type: 'string',
        demandOption: true,
        describe: `The model file (${IMPORTABLE_EXTENSIONS.join(', ')})`,
      })
      .option('out', { type: 'string', demandOption: true, describe: 'Model directory to write' })
      .option('classes', { type: 'string', describe: 'Class names in output order, comma-separated' })
      .option('labels', { type: 'string', describe: 'A text file with one class name per line' })
      .option('input-mean', {
        type: 'string',
        describe: 'Mean the model input was normalized with: one value or one per channel',
      })
      .option('input-std', {
        type: 'string',
        describe: 'Std the model input was normalized with: one value or one per channel',
      })
      .option('data', {
        type: 'string',
        describe: `Data the model belongs to (${DATA_FORMS}): class names, and statistics unless --input-mean/--input-std; recorded`,
      })
      .option('input-meaning', {
        type: 'string',
        choices: [...INPUT_MEANINGS],
        describe:
          'A rank-3 input as spectrogram (frames x features) or image (pixels x colour channels); default: spectrogram with one channel, image otherwise',
      })
      .option('keep-quantization', {
        type: 'boolean',
        describe:
          "A fully int8 .tflite keeps its own quantization (the default for one): TFLite's int8 arithmetic, exactly, in the generated C",
      })
      .option('requantize', {
        type: 'boolean',
        describe: "A fully int8 .tflite is dequantized and later quantized by tinyforge's own scheme",
      })
      .conflicts('keep-quantization', 'requantize')
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON' }),
  handler: async (a) => {
    const r = await importToModelDir({
      file: a.file,
      out: a.out,
      classes: a.classes?.split(',').map((s) => s.trim()),
      labels: a.labels,
      inputMean: numbers('input-mean', a['input-mean']),
      inputStd: numbers('input-std', a['input-std']),
      data: a.data,
      inputMeaning: meaning(a['input-meaning']),
      quantization: a.requantize ? 'requantize' : a['keep-quantization'] ? 'keep' : undefined,
    });
    const { graph } = r.imported.model;
    const summary = {
      out: r.out,
      source: r.imported.source,
      inputShape: graph.inputShape,
      classNames: graph.classNames,
      layers: inferShapes(graph).map((n) => ({
        name: n.layer.name,
        kind: n.layer.kind,
        outShape: n.outShape,
      })),
      params: totalParams(graph),
      macs: totalMacs(graph),
      normalization: r.normalization,
      quantization: r.int8 ? 'tflite-int8 (kept)' : 'float (tinyforge quantizes it)',
      ...(r.data ? { data: r.data } : {}),
    };
    if (a.json) return printJson(summary);
    const s = r.imported.source;
    const lines = [
      `import: ${a.file} (${s.format}, input [${s.inputShape.join(', ')}] ${s.inputLayout}, read as ${s.inputMeaning})`,
      ...summary.layers.map((l) => `  ${l.name.padEnd(28)} ${l.kind.padEnd(12)} [${l.outShape.join(', ')}]`),
      `  ${graph.layers.length} layers, ${summary.params.toLocaleString('en-US')} parameters, ${summary.macs.toLocaleString('en-US')} MACs`,
      `  input window [${graph.inputShape.join(', ')}], classes: ${graph.classNames.join(', ')}`,
      `  normalization: ${r.normalization.source ?? 'given'}`,
      r.int8
        ? `  quantization: TFLite int8 kept (${r.out}/${KEPT_INT8_FILE}): compress codes its weights, nothing is requantized`
        : `  quantization: float weights; compress quantizes them`,
      `wrote ${r.out}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
