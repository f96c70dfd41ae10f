// `tinyforge evaluate`: accuracy of a model on a data split. Float model directories are evaluated
// with tfjs here; compressed .tfm files take the fixed-point host reference (see the branch below).
import type { CommandModule } from 'yargs';
import { printJson } from '../output.js';
import type { HarDataset, WindowSet } from '../../data/dataset.js';
import { trainValSplit, type ValidationChoice } from '../../compress/data.js';
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
import { recordedValidation } from '../../train/modelDir.js';
import { dataForTfm, dataOptionText, describeData, modelDirAndData } from '../data.js';

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
  /** True when no --data was given and the model's own data was used. */
  dataRecorded: boolean;
  split: Split;
}

/** The requested split, with validation chosen exactly as training chose it. */
export function selectSplit(ds: HarDataset, split: Split, validation: ValidationChoice = {}): WindowSet {
  if (split === 'test') return ds.test;
  const parts = trainValSplit(ds, validation);
  return split === 'val' ? parts.val : parts.train;
}

/** Evaluates a float model directory (tinyforge or plain tfjs Layers) on a data split. */
export async function evaluateModelDir(
  modelPath: string,
  data: string | undefined,
  split: Split,
): Promise<EvaluateResult> {
  const { loaded, data: chosen } = await modelDirAndData(modelPath, data);
  const set = selectSplit(chosen.dataset, split, recordedValidation(loaded));
  await initBackend();
  const r = evaluateFloatModel(loaded.model, loaded.normalization, set);
  return { model: modelPath, data: chosen.spec, dataRecorded: chosen.recorded, split, ...r };
}

export interface TfmEvaluation extends ClassificationReport {
  model: string;
  data: string;
  dataRecorded: boolean;
  split: Split;
}

/** Evaluates a compressed .tfm with the host reference interpreter (integer logits, as on the chip). */
export async function evaluateTfm(
  path: string,
  data: string | undefined,
  split: Split,
): Promise<TfmEvaluation> {
  const model = await readTfm(path);
  const chosen = dataForTfm(data, model, path);
  // compress records the validation split of the model it started from.
  const source = (model.meta.source ?? {}) as ValidationChoice;
  const set = selectSplit(chosen.dataset, split, {
    valFraction: typeof source.valFraction === 'number' ? source.valFraction : undefined,
    splitSeed: typeof source.splitSeed === 'number' ? source.splitSeed : undefined,
  });
  const inputs = quantizeWindows(model, set.x, set.n);
  const res = runReferenceBatch(model, inputs, set.n);
  return {
    model: path,
    data: chosen.spec,
    dataRecorded: chosen.recorded,
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
      .option('data', { type: 'string', describe: dataOptionText('the windows to classify') })
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
            `data:        ${describeData({ spec: r.data, recorded: r.dataRecorded }, `${r.split}, ${r.n} windows`)}`,
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
        `data:        ${describeData({ spec: r.data, recorded: r.dataRecorded }, `${r.split}, ${r.n} windows`)}`,
        `accuracy:    ${(r.accuracy * 100).toFixed(2)}% (float)`,
        `size:        ${r.params} parameters deployed (${r.trainedParams} trained), ${r.macs} MACs per window`,
        '',
        formatReport(r),
      ].join('\n') + '\n',
    );
  },
};
