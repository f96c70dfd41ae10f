// The compression pipeline: deployable float model -> pruning (gradual, fine-tuned) -> fake-quant
// fine-tuning -> fixed-point quantization -> per-layer coding, with the accuracy at each step.
import { recodeInt8, type Int8CodingReport } from './int8.js';
import type { WindowSet } from '../data/dataset.js';
import type { Normalization } from '../data/normalize.js';
import { subset } from '../data/dataset.js';
import { deployableGraph } from '../graph/fold.js';
import { channelsOf, inferShapes, type FloatModel } from '../graph/ir.js';
import { fit, evaluateSet } from '../train/fit.js';
import { createVars, disposeVars, readParams } from '../train/forward.js';
import { codingStats, encodeWeights, type CodingChoice, type CodingStats } from '../qmodel/coding/index.js';
import { entropyBoundReport } from '../qmodel/coding/stats.js';
import { compressionHooks, type FakeQuantSettings } from './finetune.js';
import { floatPredict } from './floatForward.js';
import type { CodedWeights, CompressedModel } from '../qmodel/model.js';
import { opOf } from '../ops/registry.js';
import {
  applyMasks,
  magnitudeMasks,
  pruneFilters,
  sparsityAt,
  type Masks,
  type PruneScope,
} from './prune.js';
import { activationRanges, quantizeModel } from './quantize.js';
import { fracBitsFor } from '../fixedpoint/semantics.js';
import { runReferenceBatch } from '../reference/index.js';
import { quantizeWindow } from '../reference/input.js';

export interface CompressOptions {
  /** Target sparsity (unstructured) or fraction of filters removed (structured), 0..0.99. */
  prune: number;
  structured: boolean;
  pruneScope: PruneScope;
  bits: number;
  perChannel: boolean;
  coding: CodingChoice;
  finetuneEpochs: number;
  seed: number;
  lr: number;
  batchSize: number;
  /** Windows used to calibrate activation formats (default 1024). */
  calibrationWindows?: number;
  /**
   * The original model's accuracy on data.eval, when the caller has computed it already (a sweep
   * compresses one model many times): skips that evaluation, the same figure either way.
   */
  knownFloatAccuracy?: number;
  progress?: 'auto' | 'bar' | 'log' | 'none';
  log?: (line: string) => void;
}

/** 8-bit per-channel packed, no pruning or fine-tuning: the baseline every caller starts from. */
export const DEFAULT_COMPRESS_OPTIONS: CompressOptions = {
  prune: 0,
  structured: false,
  pruneScope: 'layer',
  bits: 8,
  perChannel: true,
  coding: 'packed',
  finetuneEpochs: 0,
  seed: 1,
  lr: 5e-4,
  batchSize: 64,
  progress: 'none',
};

/** Normalized data the compressor fine-tunes, calibrates and evaluates on. */
export interface CompressData {
  train: WindowSet;
  val: WindowSet;
  /** Where accuracy is reported (test split). */
  eval: WindowSet;
  evalName: string;
}

export interface LayerReport extends CodingStats {
  layer: string;
  kind: string;
  codedBytes: number;
  /** Bytes of the same layer at 8-bit packed (the comparison baseline). */
  packed8Bytes: number;
  entropyBoundBits?: number;
  withinEntropyBound?: boolean;
}

export interface CompressReport {
  settings: Omit<CompressOptions, 'log' | 'progress'>;
  floatAccuracy: number;
  /** Float accuracy after pruning / fine-tuning, before integer quantization. */
  finetunedFloatAccuracy: number;
  fixedAccuracy: number;
  evalName: string;
  evalWindows: number;
  layers: LayerReport[];
  /** codedBytes = bitstream bytes + decode-table bytes; streamBytes = bitstreams alone. */
  totals: {
    weights: number;
    streamBytes: number;
    codedBytes: number;
    packed8Bytes: number;
    tableBytes: number;
    sparsity: number;
  };
  seconds: number;
  /** A model that keeps TFLite's int8 quantization: the lossless coding and its decoders. */
  int8?: Int8CodingReport;
}

function accuracy(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return y.length ? c / y.length : 0;
}

/** Float accuracy of a model on a normalized set (plain TS forward). */
export function floatAccuracy(model: FloatModel, set: WindowSet): number {
  return accuracy(floatPredict(model, set.x, set.n), set.y);
}

/** What the host reference computes over a normalized set: what the target must agree with. */
export interface FixedEvaluation {
  accuracy: number;
  predictions: Int32Array;
  /** int8 inputs of every window, as the reference (and the firmware) takes them. */
  inputs: Int8Array;
}

/** Fixed-point accuracy of a compressed model (host reference) on a normalized set. */
export function fixedAccuracy(model: CompressedModel, set: WindowSet): FixedEvaluation {
  const size = set.steps * set.channels;
  const inputs = new Int8Array(set.n * size);
  // The set is normalized already: quantize with identity normalization.
  const q = {
    ...model,
    normalization: { mean: model.normalization.mean.map(() => 0), std: model.normalization.std.map(() => 1) },
  };
  for (let i = 0; i < set.n; i++)
    inputs.set(quantizeWindow(q, set.x.subarray(i * size, (i + 1) * size), `window ${i}`), i * size);
  const res = runReferenceBatch(model, inputs, set.n);
  const predictions = Int32Array.from(res.classIndex);
  return { accuracy: accuracy(predictions, set.y), predictions, inputs };
}

/** The report's totals over its layers. */
function totalsOf(layers: LayerReport[]): CompressReport['totals'] {
  const sum = (f: (r: LayerReport) => number): number => layers.reduce((s, r) => s + f(r), 0);
  return {
    weights: sum((r) => r.weights),
    streamBytes: sum((r) => r.codedBytes - r.tableBytes),
    codedBytes: sum((r) => r.codedBytes),
    packed8Bytes: sum((r) => r.packed8Bytes),
    tableBytes: sum((r) => r.tableBytes),
    sparsity:
      sum((r) => r.zeros) /
      Math.max(
        1,
        sum((r) => r.weights),
      ),
  };
}

/** Coding figures of one weighted layer. */
function layerReport(layer: string, kind: string, weights: CodedWeights, packed8Bytes: number): LayerReport {
  const s = codingStats(weights);
  const r: LayerReport = {
    layer,
    kind,
    ...s,
    codedBytes: weights.bitstream.length + s.tableBytes,
    packed8Bytes,
  };
  if (weights.coding !== 'packed') {
    const eb = entropyBoundReport(weights);
    r.entropyBoundBits = eb.boundBits;
    r.withinEntropyBound = eb.withinTolerance;
  }
  return r;
}

export async function compressModel(
  original: FloatModel,
  normalization: Normalization,
  data: CompressData,
  opts: CompressOptions,
): Promise<{ model: CompressedModel; report: CompressReport; reference: FixedEvaluation }> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  let model = deployableGraph(original);
  const floatAcc = opts.knownFloatAccuracy ?? floatAccuracy(model, data.eval);
  log(`float accuracy (${data.evalName}): ${(100 * floatAcc).toFixed(2)}%`);

  const calN = Math.min(opts.calibrationWindows ?? 1024, data.train.n);
  const calibration = {
    windows: data.train.x.subarray(0, calN * data.train.steps * data.train.channels),
    n: calN,
  };

  if (opts.structured && opts.prune > 0) {
    model = pruneFilters(model, opts.prune);
    log(
      `structured pruning: ${inferShapes(model.graph)
        .filter((n) => opOf(n.layer.kind).pruning?.keepOutputs)
        .map((n) => `${n.layer.name}=${channelsOf(n.outShape)}`)
        .join(' ')} filters`,
    );
  }

  let masks: Masks = {};
  const unstructured = !opts.structured && opts.prune > 0;
  if (opts.finetuneEpochs > 0) {
    const vars = createVars(model);
    try {
      // Activation formats for fake quantization come from the float model before fine-tuning.
      const ranges = activationRanges(model, calibration);
      const activationFrac: Record<string, number> = {};
      // Only requantizing layers change format on the target (pools keep their input's, Softmax is
      // argmax): fake-quantizing other outputs would train against arithmetic the chip never does.
      inferShapes(model.graph).forEach((n, i) => {
        if (opOf(n.layer.kind).requantizes) activationFrac[n.layer.name] = fracBitsFor(ranges.outputs[i], 8);
      });
      const fq: FakeQuantSettings = {
        bits: opts.bits,
        perChannel: opts.perChannel,
        activationFrac,
        graph: model.graph,
      };
      const common = {
        batchSize: opts.batchSize,
        lr: opts.lr,
        progress: opts.progress,
        validation: data.val,
      };
      // Phase 1: raise sparsity gradually over the first half of the epochs, masks recomputed per epoch.
      const rampEpochs = unstructured ? Math.max(1, Math.ceil(opts.finetuneEpochs / 2)) : 0;
      // A NaN loss stops fine-tuning: fit leaves the weights of the last completed epoch.
      let diverged = false;
      const stopOn = (r: { diverged?: { epoch: number; batch: number; loss: number } }, phase: string) => {
        if (!r.diverged) return;
        diverged = true;
        log(
          `warning: ${phase} diverged (the loss is ${r.diverged.loss} at batch ${r.diverged.batch}); fine-tuning stopped, keeping the last completed epoch's weights`,
        );
      };
      for (let e = 0; e < rampEpochs && !diverged; e++) {
        const current: FloatModel = { graph: model.graph, params: readParams(vars) };
        masks = magnitudeMasks(current, sparsityAt(e + 1, rampEpochs, opts.prune), opts.pruneScope);
        const r = await fit(model.graph, vars, data.train, {
          ...common,
          epochs: 1,
          seed: opts.seed + e,
          hooks: compressionHooks(() => masks, fq),
          earlyStopping: false,
          label: `prune ${e + 1}/${rampEpochs}`,
        });
        stopOn(r, `pruning epoch ${e + 1}`);
      }
      // Phase 2: masks fixed, fake-quant fine-tuning with best-on-validation restore.
      const rest = opts.finetuneEpochs - rampEpochs;
      if (rest > 0 && !diverged) {
        const r = await fit(model.graph, vars, data.train, {
          ...common,
          epochs: rest,
          seed: opts.seed + 1000,
          hooks: compressionHooks(() => masks, fq),
          earlyStopping: { patience: Math.max(2, Math.ceil(rest / 3)) },
          label: 'fine-tune',
        });
        stopOn(r, 'fine-tuning');
      }
      const m = evaluateSet(model.graph, vars, data.val, { hooks: compressionHooks(() => masks, fq) });
      log(`fine-tuned (fake-quant) validation accuracy: ${(100 * m.accuracy).toFixed(2)}%`);
      model = { graph: model.graph, params: readParams(vars) };
    } finally {
      disposeVars(vars);
    }
  } else if (unstructured) {
    masks = magnitudeMasks(model, opts.prune, opts.pruneScope);
  }
  if (unstructured) model = applyMasks(model, masks);
  const finetunedAcc = floatAccuracy(model, data.eval);

  const packed8: Record<string, number> = {};
  const compressed = quantizeModel(model, {
    bits: opts.bits,
    perChannel: opts.perChannel,
    calibration,
    normalization: { mean: normalization.mean, std: normalization.std },
    encode: (values, rows, rowLength, bits, layer) => {
      packed8[layer] = rows * rowLength; // one byte per weight at 8-bit packed
      return encodeWeights(values, rows, rowLength, bits, opts.coding);
    },
    meta: {
      tool: 'tinyforge',
      prune: opts.prune,
      structured: opts.structured,
      pruneScope: opts.pruneScope,
      coding: opts.coding,
      finetuneEpochs: opts.finetuneEpochs,
      floatAccuracy: floatAcc,
    },
  });
  const fixed = fixedAccuracy(compressed, data.eval);
  log(`fixed-point accuracy (${data.evalName}, host reference): ${(100 * fixed.accuracy).toFixed(2)}%`);
  compressed.meta.fixedAccuracy = fixed.accuracy;

  const layers: LayerReport[] = compressed.layers.flatMap((l) => {
    const weights = opOf(l.kind).quantized?.coded?.(l)?.weights;
    return weights ? [layerReport(l.name, l.kind, weights, packed8[l.name])] : [];
  });
  const totals = totalsOf(layers);
  const { log: _l, progress: _p, knownFloatAccuracy: _k, ...settings } = opts;
  return {
    reference: fixed,
    model: compressed,
    report: {
      settings,
      floatAccuracy: floatAcc,
      finetunedFloatAccuracy: finetunedAcc,
      fixedAccuracy: fixed.accuracy,
      evalName: data.evalName,
      evalWindows: data.eval.n,
      layers,
      totals,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/**
 * A model that keeps TFLite's int8 quantization (import of a fully int8 .tflite): no pruning, no
 * quantization, only its weights coded as asked (recodeInt8, lossless); the report has the same
 * form as compressModel's, with the float accuracy of the dequantized graph beside the host
 * reference's.
 */
export function compressKeptInt8(
  kept: CompressedModel,
  original: FloatModel,
  data: CompressData,
  opts: CompressOptions,
): { model: CompressedModel; report: CompressReport } {
  const t0 = performance.now();
  const floatAcc = floatAccuracy(deployableGraph(original), data.eval);
  const { model, report: coding } = recodeInt8(kept, opts.coding);
  const fixed = fixedAccuracy(model, data.eval);
  model.meta.fixedAccuracy = fixed.accuracy;
  model.meta.floatAccuracy = floatAcc;
  const layers = coding.layers.map((r) => {
    const weights = opOf(r.kind).int8!.quantized.coded!(
      model.layers.find((l) => l.name === r.layer)!,
    )!.weights;
    return layerReport(r.layer, r.kind, weights, r.packedBytes);
  });
  const { log: _l, progress: _p, knownFloatAccuracy: _k, ...settings } = opts;
  return {
    model,
    report: {
      settings,
      floatAccuracy: floatAcc,
      finetunedFloatAccuracy: floatAcc,
      fixedAccuracy: fixed.accuracy,
      evalName: data.evalName,
      evalWindows: data.eval.n,
      layers,
      totals: totalsOf(layers),
      seconds: (performance.now() - t0) / 1000,
      int8: coding,
    },
  };
}

export { subset };
