// Which data a command runs a model on, and whether the two fit. `--data` wins; without it, the data
// the model records: a model directory's training.json `data` (written by train), a .tfm's
// meta.source.data (written by compress, deploy and the sweep; a build folder keeps its .tfm).
// Synthetic data is used only when asked for or recorded. A model and data of another window shape
// or other classes are an 'input' error that names both.
import { resolve } from 'node:path';
import type { HarDataset, WindowSet } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import type { CompressedModel } from '../qmodel/model.js';
import { loadModel } from '../import/loadModel.js';
import {
  recordedTrainingData,
  recordedValidation,
  reloadableDataSpec,
  type LoadedModelDir,
} from '../train/modelDir.js';
import { TinyforgeError } from '../util/errors.js';

/** What --data takes (option descriptions and hints). */
export const DATA_FORMS = 'a UCI HAR directory, a dataset description (.json) or synthetic[:seed=N,...]';

/** The --data option of the commands that use a model: optional, defaulting to the model's data. */
export function dataOptionText(uses: string, made: 'trained' | 'compressed' | 'either' = 'either'): string {
  const how = made === 'either' ? 'trained or compressed' : made;
  return `${uses}: UCI HAR directory, dataset description (.json) or synthetic[:opts] (default: the data the model was ${how} with)`;
}

/** What a model takes: windows of inputShape [T, C], classes in this order. */
export interface ModelIo {
  inputShape: readonly number[];
  classNames: readonly string[];
}

export interface ModelData {
  /** The spec loaded (--data, else the model's record), as models record it: absolute or synthetic. */
  spec: string;
  /** True when no --data was given and the model's record was used. */
  recorded: boolean;
  dataset: HarDataset;
}

/** The data a .tfm records (meta.source.data), if any. */
export function recordedTfmData(model: CompressedModel): string | undefined {
  const d = (model.meta.source as { data?: unknown } | undefined)?.data;
  return typeof d === 'string' && d.trim() !== '' ? d : undefined;
}

/** Class names an importer made up (class_0, class_1, ...): the model knows only their number. */
export function placeholderClassNames(names: readonly string[]): boolean {
  return names.every((n, i) => n === `class_${i}`);
}

const list = (names: readonly string[]) => `[${names.join(', ')}]`;

/** Throws an 'input' error naming both when the data's windows or classes are not the model's. */
export function checkDataFitsModel(
  model: ModelIo,
  modelName: string,
  ds: HarDataset,
  spec: string,
  hint?: string,
): void {
  const [T, C] = model.inputShape;
  const { steps, channels } = ds.test;
  const sameShape = steps === T && channels === C;
  const sameClasses = placeholderClassNames(model.classNames)
    ? model.classNames.length === ds.classNames.length
    : model.classNames.length === ds.classNames.length &&
      model.classNames.every((n, i) => n === ds.classNames[i]);
  if (sameShape && sameClasses) return;
  throw new TinyforgeError(
    `the model (${modelName}) takes ${T} x ${C} windows with classes ${list(model.classNames)}; ` +
      `the data (${spec}) gives ${steps} x ${channels} windows with ${list(ds.classNames)}`,
    'input',
    hint ??
      `use data with the model's window length, channels and classes (in that order), or train a model on this data: tinyforge train --data ${spec} --out <dir>`,
  );
}

interface ChooseOptions {
  /** --data as given. */
  given: string | undefined;
  /** What the model records. */
  recorded: string | undefined;
  model: ModelIo;
  /** How messages name the model (its path). */
  modelName: string;
  /** 'trained' (model directory) or 'compressed' (.tfm). */
  made: 'trained' | 'compressed';
}

/** Picks --data or the model's record, loads it and checks it against the model. */
export function dataForModel(o: ChooseOptions): ModelData {
  const chosen = o.given ?? o.recorded;
  if (chosen === undefined)
    throw new TinyforgeError(
      `no --data given, and ${o.modelName} does not record the data it was ${o.made} with`,
      'usage',
      `pass --data: ${DATA_FORMS}`,
    );
  const spec = reloadableDataSpec(chosen);
  const recorded = o.given === undefined;
  let dataset: HarDataset;
  try {
    dataset = loadDataset(spec);
  } catch (e) {
    if (recorded && e instanceof TinyforgeError && e.category === 'input')
      throw new TinyforgeError(
        `${e.message} (the data ${o.modelName} was ${o.made} with)`,
        'input',
        `pass --data to use other data: ${DATA_FORMS}`,
      );
    throw e;
  }
  const other = o.recorded !== undefined && reloadableDataSpec(o.recorded) !== spec;
  checkDataFitsModel(
    o.model,
    o.modelName,
    dataset,
    spec,
    recorded
      ? `${o.modelName} records this data, but it no longer fits the model (changed since?); pass --data with data the model takes`
      : other
        ? `${o.modelName} was ${o.made} with ${o.recorded}: leave out --data to use that, or train a model on this data: tinyforge train --data ${spec} --out <dir>`
        : undefined,
  );
  return { spec, recorded, dataset };
}

/** --data or the data a model directory was trained on, checked against the model. */
export function dataForModelDir(
  given: string | undefined,
  loaded: LoadedModelDir,
  modelName: string,
): ModelData {
  return dataForModel({
    given,
    recorded: recordedTrainingData(loaded),
    model: loaded.model.graph,
    modelName,
    made: 'trained',
  });
}

/** --data or the data a .tfm was compressed with, checked against the model. */
export function dataForTfm(given: string | undefined, model: CompressedModel, modelName: string): ModelData {
  return dataForModel({
    given,
    recorded: recordedTfmData(model),
    model,
    modelName,
    made: 'compressed',
  });
}

/**
 * A model directory and the data to use it with (--data, else the data it was trained on),
 * checked against each other; an imported model without class names takes the data's.
 */
export async function modelDirAndData(
  modelPath: string,
  given: string | undefined,
  opts: { requantize?: boolean } = {},
): Promise<{ loaded: LoadedModelDir; data: ModelData }> {
  const loaded = await loadModel(modelPath, opts);
  const data = dataForModelDir(given, loaded, modelPath);
  const graph = loaded.model.graph;
  if (placeholderClassNames(graph.classNames))
    loaded.model = { ...loaded.model, graph: { ...graph, classNames: [...data.dataset.classNames] } };
  return { loaded, data };
}

/** What a .tfm records of its origin (meta.source): model, data and validation split, reloadable. */
export function compressSource(
  modelPath: string,
  loaded: LoadedModelDir,
  data: ModelData,
): Record<string, unknown> {
  const { valFraction, splitSeed } = recordedValidation(loaded);
  return {
    model: resolve(modelPath),
    data: data.spec,
    ...(valFraction !== undefined ? { valFraction } : {}),
    ...(splitSeed !== undefined ? { splitSeed } : {}),
  };
}

/** The windows of a split a firmware runs (`train` is the whole training split). */
export function runSplit(ds: HarDataset, split: 'test' | 'train'): WindowSet {
  return split === 'train' ? ds.train : ds.test;
}

/** The data for the commands' text output: its spec, then what was used and that the model recorded it. */
export function describeData(d: Pick<ModelData, 'spec' | 'recorded'>, what?: string): string {
  const notes = [what, d.recorded ? 'recorded by the model' : undefined].filter((x) => x !== undefined);
  return notes.length ? `${d.spec} (${notes.join(', ')})` : d.spec;
}
