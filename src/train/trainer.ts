// `tinyforge train` as a function: data -> validation split and normalization -> graph from an
// architecture -> fit -> test accuracy -> model directory. The CLI and the benchmark call this.
import * as tf from '@tensorflow/tfjs';
import {
  loadDatasetWithReport,
  parseSyntheticSpec,
  prepareData,
  type DataReport,
  type PreparedData,
} from '../data/load.js';
import { archToGraph, type ArchSpec } from '../graph/arch.js';
import type { FloatModel, ModelGraph } from '../graph/ir.js';
import { totalMacs, totalParams } from '../graph/ir.js';
import { deployableGraph } from '../graph/fold.js';
import { HAR_DEFAULT_ARCH, HAR_DEFAULT_TRAINING, resolveArch } from './archs/index.js';
import { initBackend } from './backend.js';
import { evaluateSet, fit, type FitResult } from './fit.js';
import { createVars, disposeVars, initParams, readParams } from './forward.js';
import { motionAugment } from './augment.js';
import { checkModelDirOut, reloadableDataSpec, saveModelDir } from './modelDir.js';
import { replaceDirectory } from '../util/files.js';
import type { ProgressMode } from './progress.js';
import { TinyforgeError } from '../util/errors.js';

export interface TrainOptions {
  /** Data directory (UCI HAR layout), dataset description or synthetic spec. */
  data: string;
  /** Model directory to write; nothing is written when absent. */
  out?: string;
  /** Architecture file path or object (default: the built-in har-default). */
  arch?: string | ArchSpec;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  valFraction?: number;
  splitSeed?: number;
  /** Early-stopping patience in epochs (0 disables early stopping). */
  patience?: number;
  progress?: ProgressMode;
  quietBackend?: boolean;
}

export interface TrainSummary {
  out?: string;
  /** The data, as later commands load it again (synthetic spec in full, or an absolute path). */
  data: string;
  dataSource: string;
  /** What the data source dropped and repaired while making the windows (data inspect has the rest). */
  dataReport: Pick<DataReport, 'windows' | 'rows' | 'repairs'> & { gaps: { count: number; seconds: number } };
  arch: string;
  backend: string;
  seed: number;
  params: number;
  macs: number;
  deployableParams: number;
  trainWindows: number;
  valWindows: number;
  testWindows: number;
  valSubjects: number[];
  epochsRun: number;
  bestEpoch: number;
  valAccuracy: number;
  testAccuracy: number;
  /** Wall time of the whole command. */
  seconds: number;
  /** CPU time (user + system) of this process: what the run costs on one idle core. */
  cpuSeconds: number;
  windowsPerSecond: number;
  hyper: Record<string, unknown>;
  history: FitResult['history'];
  /** A NaN or infinite loss stopped training (the model holds the last completed epoch's weights). */
  diverged?: FitResult['diverged'];
}

export interface TrainedModel {
  model: FloatModel;
  prepared: PreparedData;
  summary: TrainSummary;
}

export async function trainModel(opts: TrainOptions): Promise<TrainedModel> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Refused before minutes of training, not after: --out replaces a model directory whole.
  if (opts.out) checkModelDirOut(opts.out, 'train');
  const backend = await initBackend({ quiet: opts.quietBackend });
  const d = HAR_DEFAULT_TRAINING;
  const hyper = {
    epochs: opts.epochs ?? d.epochs,
    batchSize: opts.batchSize ?? d.batchSize,
    lr: opts.lr ?? d.lr,
    lrDecay: d.lrDecay,
    patience: opts.patience ?? d.patience,
    startEpoch: d.startEpoch,
    valFraction: opts.valFraction ?? d.valFraction,
    splitSeed: opts.splitSeed ?? 0,
    bnMomentum: d.bnMomentum,
    weightDecay: d.weightDecay,
    labelSmoothing: d.labelSmoothing,
    ema: d.ema,
    augment: d.augment,
  };
  const seed = opts.seed ?? 1;
  const { dataset, report } = loadDatasetWithReport(opts.data);
  const prepared = prepareData(dataset, { valFraction: hyper.valFraction, splitSeed: hyper.splitSeed });
  const archSpec = typeof opts.arch === 'string' ? resolveArch(opts.arch) : (opts.arch ?? HAR_DEFAULT_ARCH);
  const archName = typeof opts.arch === 'string' ? opts.arch : (archSpec.name ?? 'custom');
  const graph: ModelGraph = archToGraph(
    archSpec,
    { inputShape: [dataset.train.steps, dataset.train.channels], classNames: dataset.classNames },
    typeof opts.arch === 'string' ? opts.arch : 'architecture',
  );
  const vars = createVars({ graph, params: initParams(graph, seed) });
  try {
    const result = await fit(graph, vars, prepared.train, {
      epochs: hyper.epochs,
      batchSize: hyper.batchSize,
      lr: hyper.lr,
      lrDecay: hyper.lrDecay,
      seed,
      validation: prepared.val,
      earlyStopping: hyper.patience > 0 ? { patience: hyper.patience, startEpoch: hyper.startEpoch } : false,
      bnMomentum: hyper.bnMomentum,
      weightDecay: hyper.weightDecay,
      labelSmoothing: hyper.labelSmoothing,
      ema: hyper.ema,
      augment: hyper.augment
        ? motionAugment(hyper.augment, graph.inputShape[0], graph.inputShape[1])
        : undefined,
      progress: opts.progress,
    });
    if (result.diverged) {
      const d = result.diverged;
      const where = `training diverged at epoch ${d.epoch}, batch ${d.batch}: the loss is ${d.loss}`;
      const hint = 'lower the learning rate (--lr), or check the data for extreme values';
      // Nothing written: the previous model (if any) stays where it is.
      if (result.epochsRun === 0)
        throw new TinyforgeError(`${where}; no epoch finished, so there is no model to keep`, 'usage', hint);
      process.stderr.write(
        `tinyforge: warning: ${where}; training stopped, the model keeps the weights of epoch ${result.bestEpoch}\n  hint: ${hint}\n`,
      );
    }
    const test = evaluateSet(graph, vars, prepared.test);
    const val = evaluateSet(graph, vars, prepared.val);
    const model: FloatModel = { graph, params: readParams(vars) };
    const summary: TrainSummary = {
      out: opts.out,
      // What compress, evaluate and deploy use when they are given no --data.
      data: parseSyntheticSpec(opts.data) ? dataset.spec : reloadableDataSpec(opts.data),
      dataSource: dataset.source,
      dataReport: {
        windows: report.windows,
        rows: report.rows,
        repairs: report.repairs,
        gaps: { count: report.gaps.count, seconds: report.gaps.seconds },
      },
      arch: archName,
      backend: backend.name,
      seed,
      params: totalParams(graph),
      macs: totalMacs(graph),
      deployableParams: totalParams(deployableGraph(model).graph),
      trainWindows: prepared.train.n,
      valWindows: prepared.val.n,
      testWindows: prepared.test.n,
      valSubjects: prepared.valSubjects,
      epochsRun: result.epochsRun,
      bestEpoch: result.bestEpoch,
      valAccuracy: val.accuracy,
      testAccuracy: test.accuracy,
      seconds: 0,
      cpuSeconds: 0,
      windowsPerSecond: result.windowsPerSecond,
      hyper,
      history: result.history,
      ...(result.diverged ? { diverged: result.diverged } : {}),
    };
    const clock = () => {
      const c = process.cpuUsage(cpu0);
      summary.cpuSeconds = (c.user + c.system) / 1e6;
      summary.seconds = (performance.now() - t0) / 1000;
    };
    if (opts.out) {
      clock();
      // The directory whole or not at all: a kill leaves the previous model or none, never a mix.
      await replaceDirectory(opts.out, (tmp) =>
        saveModelDir(tmp, model, {
          normalization: prepared.normalization,
          training: { ...summary, tfjsVersion: tf.version.tfjs, date: new Date().toISOString() },
        }),
      );
    }
    clock();
    return { model, prepared, summary };
  } finally {
    disposeVars(vars);
  }
}
