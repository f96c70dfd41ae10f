// `tinyforge evaluate`: accuracy of a model on a data split. Float model directories are evaluated
// with tfjs here; compressed .tfm files take the fixed-point host reference (see the branch below).
import type { CommandModule } from 'yargs';
import { printJson } from '../output.js';
import { loadDataset } from '../../data/load.js';
import type { WindowSet } from '../../data/dataset.js';
import { splitBySubject } from '../../data/split.js';
import { initBackend } from '../../train/backend.js';
import { evaluateFloatModel, formatReport, type FloatEvaluation } from '../../train/evaluate.js';
import { loadModelDir } from '../../train/modelDir.js';
import { HAR_DEFAULT_TRAINING } from '../../train/archs/index.js';
import { TinyforgeError } from '../../util/errors.js';

export type Split = 'test' | 'val' | 'train';

interface EvaluateArgs {
  model: string;
  data?: string;
  split: Split;
  json: boolean;
}

export interface EvaluateResult extends FloatEvaluation {
  model: string;
  data: string;
  split: Split;
}

/** The requested split, with validation chosen exactly as training chose it. */
export function selectSplit(
  data: string,
  split: Split,
  trainingInfo?: Record<string, unknown>,
): { set: WindowSet; classNames: string[]; spec: string } {
  const ds = loadDataset(data);
  if (split === 'test') return { set: ds.test, classNames: ds.classNames, spec: ds.spec };
  const hyper = (trainingInfo?.hyper ?? {}) as { valFraction?: number; splitSeed?: number };
  const parts = splitBySubject(
    ds.train,
    hyper.valFraction ?? HAR_DEFAULT_TRAINING.valFraction,
    hyper.splitSeed ?? 0,
  );
  return { set: split === 'val' ? parts.val : parts.train, classNames: ds.classNames, spec: ds.spec };
}

/** Evaluates a float model directory (tinyforge or plain tfjs Layers) on a data split. */
export async function evaluateModelDir(
  modelPath: string,
  data: string | undefined,
  split: Split,
): Promise<EvaluateResult> {
  const loaded = loadModelDir(modelPath);
  const recorded = loaded.meta.training?.data;
  const spec = data ?? (typeof recorded === 'string' ? recorded : undefined);
  if (!spec)
    throw new TinyforgeError(
      'no --data given and the model does not record its data',
      'usage',
      'add --data <dir|synthetic>',
    );
  const { set, classNames, spec: dataSpec } = selectSplit(spec, split, loaded.meta.training);
  const K = loaded.model.graph.classNames.length;
  if (K !== classNames.length)
    throw new TinyforgeError(
      `the model has ${K} classes, the data ${classNames.length}`,
      'input',
      'evaluate on the data the model was trained for',
    );
  // An imported model has no class names of its own: show the data's.
  if (loaded.meta.origin === 'tfjs-import') loaded.model.graph.classNames = classNames;
  await initBackend();
  const r = evaluateFloatModel(loaded.model, loaded.normalization, set);
  return { model: modelPath, data: dataSpec, split, ...r };
}

export const evaluateCommand: CommandModule<object, EvaluateArgs> = {
  command: 'evaluate <model>',
  describe: 'Accuracy of a float model or a compressed .tfm (host reference)',
  builder: (y) =>
    y
      .positional('model', {
        type: 'string',
        demandOption: true,
        describe: 'Model directory (model.json ...) or .tfm file',
      })
      .option('data', {
        type: 'string',
        describe: 'Data directory or synthetic[:...] (default: the data the model was trained on)',
      })
      .option('split', {
        choices: ['test', 'val', 'train'] as const,
        default: 'test' as Split,
        describe: 'Which windows',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' }),
  handler: async (a) => {
    if (a.model.endsWith('.tfm')) {
      // Branch point for compressed models (fixed-point host reference): added with the .tfm format.
      throw new TinyforgeError(
        `evaluating compressed models (${a.model}) is not available in this build yet`,
        'usage',
      );
    }
    const r = await evaluateModelDir(a.model, a.data, a.split);
    if (a.json) {
      printJson(r);
      return;
    }
    process.stdout.write(
      [
        `model:       ${r.model}`,
        `data:        ${r.data} (${r.split}, ${r.n} windows)`,
        `accuracy:    ${(r.accuracy * 100).toFixed(2)}% (float)`,
        `size:        ${r.params} parameters deployed (${r.trainedParams} trained), ${r.macs} MACs per window`,
        '',
        formatReport(r),
      ].join('\n') + '\n',
    );
  },
};
