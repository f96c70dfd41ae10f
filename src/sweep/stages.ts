// The stages of a sweep point, each a plain function: train (or reuse) the float model of a width,
// the float baseline, compress with fine-tuning, host-reference accuracy. The on-target stage is
// the slot in target.ts. A runner (runner.ts) composes them.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { compressModel, fixedAccuracy, floatAccuracy, type FixedEvaluation } from '../compress/compress.js';
import { loadCompressData } from '../compress/data.js';
import type { CompressData } from '../compress/compress.js';
import type { CompressedModel } from '../qmodel/model.js';
import type { Normalization } from '../data/normalize.js';
import type { WindowSet } from '../data/dataset.js';
import { writeTfm } from '../qmodel/index.js';
import { deployableGraph } from '../graph/fold.js';
import { opOf, quantizedOps } from '../ops/registry.js';
import { inferShapes } from '../graph/ir.js';
import { initBackend } from '../train/backend.js';
import { loadModel } from '../import/loadModel.js';
import { writeFileAtomic } from '../util/files.js';
import { trainModel } from '../train/trainer.js';
import { codeVersion } from './hash.js';
import type { HostFigures, ModelInfo, ModelTask, PointTask, StageName } from './result.js';

/** How a stage talks back: log lines, kept in the point's log.txt. */
export interface StageLog {
  log(line: string): void;
}

/** What a runner gets: it also reports which stage starts (the sweep counts them). */
export interface StageContext extends StageLog {
  stage(name: StageName): void;
}

/** Written last into a model folder: its presence means the folder is complete. */
export const MODEL_MARKER = 'sweep-model.json';
/** The compressed model's file name inside a point's folder. */
export const TFM_NAME = 'model.tfm';

export function modelIsCached(dir: string): boolean {
  return existsSync(join(dir, MODEL_MARKER));
}

export function readModelInfo(task: ModelTask): ModelInfo {
  const m = JSON.parse(readFileSync(join(task.dir, MODEL_MARKER), 'utf8')) as ModelInfo;
  return { ...m, dir: task.dir };
}

/**
 * Trains the float model of one width into task.dir. The model is written to a
 * temporary folder renamed into place, so an interrupted training never leaves a folder that looks
 * complete.
 */
export async function trainStage(task: ModelTask, ctx: StageLog): Promise<ModelInfo> {
  if (!task.arch || !task.training) throw new Error(`trainStage: model ${task.hash} has no recipe to train`);
  const training = task.training;
  await initBackend({ quiet: true });
  const tmp = join(dirname(task.dir), `.tmp-${basename(task.dir)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const { summary } = await trainModel({
      data: task.data,
      out: tmp,
      arch: task.arch,
      epochs: training.epochs,
      batchSize: training.batchSize,
      lr: training.lr,
      patience: training.patience,
      seed: task.seed,
      progress: 'none',
      quietBackend: true,
    });
    ctx.log(
      `trained width ${task.widthLabel}: ${summary.params} parameters, ${summary.epochsRun} epochs, ` +
        `test accuracy ${(100 * summary.testAccuracy).toFixed(2)}% in ${summary.seconds.toFixed(1)} s (${summary.backend})`,
    );
    const info: ModelInfo = {
      hash: task.hash,
      dir: task.dir,
      testAccuracy: summary.testAccuracy,
      params: summary.params,
      seconds: summary.seconds,
    };
    writeFileAtomic(
      join(tmp, MODEL_MARKER),
      JSON.stringify(
        {
          ...info,
          width: task.widthLabel,
          arch: task.arch,
          training: task.training,
          seed: task.seed,
          code: codeVersion(),
        },
        null,
        2,
      ) + '\n',
    );
    if (modelIsCached(task.dir)) rmSync(tmp, { recursive: true, force: true });
    else renameSync(tmp, task.dir);
    return info;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Evaluation data normalized with the model's own statistics (the test split). */
export function evalData(task: Pick<PointTask, 'data'>, normalization: Normalization): CompressData {
  return loadCompressData(task.data, normalization, 'test');
}

/** The unquantized model of a width: float accuracy, 4 bytes per parameter. */
export async function floatStage(task: PointTask, ctx: StageLog): Promise<HostFigures> {
  const loaded = await loadModel(task.modelDir);
  const data = evalData(task, loaded.normalization);
  const model = deployableGraph(loaded.model);
  const accuracy = floatAccuracy(model, data.eval);
  let weights = 0;
  let biases = 0;
  // Weight matrices and biases: the parameters that reach the deployed model (BatchNorm is folded).
  for (const n of inferShapes(model.graph)) {
    const p = model.params[n.layer.name];
    weights += p?.kernel?.length ?? 0;
    biases += p?.bias?.length ?? 0;
  }
  ctx.log(`float model: accuracy ${(100 * accuracy).toFixed(2)}% on ${data.eval.n} ${data.evalName} windows`);
  return {
    accuracy,
    evalWindows: data.eval.n,
    floatAccuracy: accuracy,
    codedWeightBytes: 4 * weights,
    tableBytes: 0,
    biasBytes: 4 * biases,
    paramBytes: 4 * (weights + biases),
    weights,
    sparsity: 0,
  };
}

export interface CompressOutput {
  host: HostFigures;
  /** Absolute path of the written .tfm. */
  tfmPath: string;
  model: CompressedModel;
  /** The host reference over the test split, computed while compressing (reused, not redone). */
  reference?: HostReference;
}

/**
 * Float accuracy of each width's model on its test split, per process: a worker compresses the same
 * model for many points, and at width 96 this evaluation alone is most of a minute.
 */
const floatAccuracyOf = new Map<string, number>();

/** Prune, fine-tune, quantize and code one point; writes <point dir>/model.tfm. */
export async function compressStage(task: PointTask, ctx: StageLog): Promise<CompressOutput> {
  const p = task.point;
  if (p.bits === 'float') throw new Error('compressStage: a float point is not compressed');
  if (p.finetuneEpochs > 0) await initBackend({ quiet: true });
  const loaded = await loadModel(task.modelDir);
  const data = evalData(task, loaded.normalization);
  const known = floatAccuracyOf.get(task.modelDir);
  const { model, report, reference } = await compressModel(loaded.model, loaded.normalization, data, {
    ...(known !== undefined ? { knownFloatAccuracy: known } : {}),
    prune: p.prune,
    structured: p.structured,
    pruneScope: task.compression.pruneScope,
    bits: p.bits,
    perChannel: p.perChannel,
    coding: p.coding,
    finetuneEpochs: p.finetuneEpochs,
    seed: task.seed,
    lr: task.compression.lr,
    batchSize: task.compression.batchSize,
    calibrationWindows: task.compression.calibrationWindows,
    progress: 'none',
    log: ctx.log,
  });
  floatAccuracyOf.set(task.modelDir, report.floatAccuracy);
  model.meta.source = { sweepPoint: task.label, hash: task.hash, model: task.modelHash, data: task.data };
  const tfmPath = join(task.dir, TFM_NAME);
  await writeTfm(tfmPath, model);
  let biases = 0;
  const filters: number[] = [];
  for (const l of model.layers) {
    biases += quantizedOps(l.kind).coded?.(l).bias.length ?? 0;
    const width = opOf(l.kind).arch.widthKey;
    if (width) filters.push((l as unknown as Record<string, number>)[width]);
  }
  const t = report.totals;
  const codedWeightBytes = t.codedBytes - t.tableBytes;
  return {
    tfmPath,
    model,
    reference,
    host: {
      accuracy: report.fixedAccuracy,
      evalWindows: report.evalWindows,
      floatAccuracy: report.floatAccuracy,
      finetunedFloatAccuracy: report.finetunedFloatAccuracy,
      codedWeightBytes,
      tableBytes: t.tableBytes,
      biasBytes: 4 * biases,
      paramBytes: codedWeightBytes + t.tableBytes + 4 * biases,
      packed8Bytes: t.packed8Bytes,
      weights: t.weights,
      sparsity: t.sparsity,
      codings: report.layers.map((l) => l.coding),
      filters,
    },
  };
}

export type HostReference = FixedEvaluation;

/** The host reference interpreter over a normalized set: the figures the target must agree with. */
export function hostReferenceStage(model: CompressedModel, set: WindowSet): HostReference {
  return fixedAccuracy(model, set);
}
