// `tinyforge evaluate`: accuracy of a model on a data split. Float model directories are evaluated
// with tfjs here; compressed .tfm files take the fixed-point host reference (see the branch below).
import type { CommandModule } from 'yargs';
import { printJson } from '../output.js';
import { loadDataset } from '../../data/load.js';
import type { WindowSet } from '../../data/dataset.js';
import { splitBySubject } from '../../data/split.js';
import { initBackend } from '../../train/backend.js';
import {
  classificationReport,
  evaluateFloatModel,
  formatReport,
  type ClassificationReport,
  type FloatEvaluation,
} from '../../train/evaluate.js';
import { readTfm } from '../../qmodel/index.js';
import { runReferenceBatch } from '../../reference/index.js';
import { quantizeWindows } from '../../measure/windows.js';
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

export interface TfmEvaluation extends ClassificationReport {
  model: string;
  data: string;
  split: Split;
}

/** Evaluates a compressed .tfm with the host reference interpreter (integer logits, as on the chip). */
export async function evaluateTfm(
  path: string,
  data: string | undefined,
  split: Split,
): Promise<TfmEvaluation> {
  const model = await readTfm(path);
  const source = model.meta.source as { data?: unknown } | undefined;
  const spec = data ?? (typeof source?.data === 'string' ? source.data : undefined);
  if (!spec)
    throw new TinyforgeError(
      `no --data given and ${path} does not record its data`,
      'usage',
      'add --data <dir|synthetic>',
    );
  const { set, spec: dataSpec } = selectSplit(spec, split);
  const inputs = quantizeWindows(model, set.x, set.n);
  const res = runReferenceBatch(model, inputs, set.n);
  return {
    model: path,
    data: dataSpec,
    split,
    ...classificationReport(set.y, res.classIndex, model.classNames),
  };
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
      const r = await evaluateTfm(a.model, a.data, a.split);
      if (a.json) printJson(r);
      else
        process.stdout.write(
          [
            `model:       ${r.model} (fixed-point host reference: the arithmetic of the target)`,
            `data:        ${r.data} (${r.split}, ${r.n} windows)`,
            `accuracy:    ${(r.accuracy * 100).toFixed(2)}% (integer)`,
            '',
            formatReport(r),
          ].join('\n') + '\n',
        );
      return;
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
