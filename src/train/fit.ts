// The reusable training loop: Adam on softmax cross-entropy over the functional forward pass,
// seeded shuffling, early stopping on validation accuracy with best-weights restore. Used by
// `tinyforge train` and by compression fine-tuning (with weight/activation hooks).
import * as tf from '@tensorflow/tfjs';
import type { WindowSet } from '../data/dataset.js';
import { Rng } from '../data/prng.js';
import type { ModelGraph } from '../graph/ir.js';
import { forward, listVars, type ForwardHooks, type ModelVars } from './forward.js';
import { createProgress, type ProgressMode } from './progress.js';
import { yieldToEventLoop } from '../util/eventLoop.js';

/** Batches between two turns of the event loop (a batch is milliseconds to tens of milliseconds). */
const YIELD_EVERY_BATCHES = 8;

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  seconds: number;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  hooks?: ForwardHooks;
  /** Windows to monitor each epoch (accuracy, loss); needed for early stopping. */
  validation?: WindowSet;
  /**
   * Stop after `patience` epochs without a better validation accuracy and restore the best weights.
   * Epochs before `startEpoch` (default 1) are neither candidates nor counted: early epochs at a high
   * learning rate are noisy and a lucky one should not win (Keras' start_from_epoch).
   */
  earlyStopping?: { patience: number; minDelta?: number; startEpoch?: number } | false;
  /** Multiply the learning rate by this after every epoch (default 1). */
  lrDecay?: number;
  /** Halve the learning rate after this many epochs without improvement (default: never). */
  reduceLrPatience?: number;
  /** Label smoothing of the cross-entropy targets (default 0). */
  labelSmoothing?: number;
  /** L2 penalty on every kernel (default 0). */
  weightDecay?: number;
  /** Modifies a training batch in place (data augmentation), x is [n, T, C]. */
  augment?: (x: Float32Array, y: Int32Array, n: number, rng: Rng) => void;
  bnMomentum?: number;
  /**
   * Keep an exponential moving average of the trainable weights (decay per batch, e.g. 0.995) and
   * validate / return the averaged weights: smoother than the last step's, usually generalizes better.
   */
  ema?: number;
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  progress?: ProgressMode;
  /** Prefix of progress lines. */
  label?: string;
}

export interface FitResult {
  history: EpochRecord[];
  epochsRun: number;
  /** 1-based epoch whose weights the variables hold at the end (best validation, or last). */
  bestEpoch: number;
  bestValAccuracy?: number;
  stoppedEarly: boolean;
  seconds: number;
  /** Training windows processed per second (excluding validation). */
  windowsPerSecond: number;
  /**
   * Set when a batch's loss was NaN or infinite: training stopped there and the variables hold the
   * weights of the last completed epoch (`epoch - 1`; the initial weights when it is 1).
   */
  diverged?: { epoch: number; batch: number; loss: number };
}

/** Copies windows `idx[from..to)` of a set into batch buffers. */
function gather(
  set: WindowSet,
  idx: ArrayLike<number>,
  from: number,
  to: number,
  xb: Float32Array,
  yb: Int32Array,
): void {
  const w = set.steps * set.channels;
  for (let k = from; k < to; k++) {
    const i = idx[k];
    xb.set(set.x.subarray(i * w, (i + 1) * w), (k - from) * w);
    yb[k - from] = set.y[i];
  }
}

export interface SetMetrics {
  loss: number;
  accuracy: number;
  /** Predicted class per window. */
  predictions: Int32Array;
}

/** Loss, accuracy and predictions on a set, in inference mode. */
export function evaluateSet(
  graph: ModelGraph,
  vars: ModelVars,
  set: WindowSet,
  opts: { hooks?: ForwardHooks; batchSize?: number } = {},
): SetMetrics {
  const bs = opts.batchSize ?? 512;
  const predictions = new Int32Array(set.n);
  let lossSum = 0;
  let correct = 0;
  const w = set.steps * set.channels;
  for (let s = 0; s < set.n; s += bs) {
    const e = Math.min(set.n, s + bs);
    const [lossV, pred] = tf.tidy(() => {
      const x = tf.tensor3d(set.x.subarray(s * w, e * w), [e - s, set.steps, set.channels]);
      const logits = forward(graph, vars, x, { training: false, hooks: opts.hooks, logits: true });
      const labels = tf.oneHot(tf.tensor1d(set.y.subarray(s, e), 'int32'), logits.shape[1]!);
      const loss = tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.SUM);
      return [loss.dataSync()[0], tf.argMax(logits, 1).dataSync() as Int32Array];
    });
    lossSum += lossV;
    for (let i = 0; i < pred.length; i++) {
      predictions[s + i] = pred[i];
      if (pred[i] === set.y[s + i]) correct++;
    }
  }
  return { loss: lossSum / Math.max(set.n, 1), accuracy: correct / Math.max(set.n, 1), predictions };
}

function snapshot(vars: tf.Variable[]): tf.Tensor[] {
  return vars.map((v) => tf.keep(v.clone()));
}

/** Trains `vars` in place. Reproducible for a given seed on one backend. */
export async function fit(
  graph: ModelGraph,
  vars: ModelVars,
  train: WindowSet,
  opts: FitOptions,
): Promise<FitResult> {
  const { epochs, batchSize, seed } = opts;
  const rng = Rng.derive(seed, 'fit');
  const trainable = listVars(vars, true);
  const all = listVars(vars, false);
  const numClasses = graph.classNames.length;
  let lr = opts.lr;
  const optimizer = tf.train.adam(lr);
  const batches = Math.ceil(train.n / batchSize);
  const progress = createProgress(opts.progress ?? 'auto', epochs, batches, opts.label);
  const w = train.steps * train.channels;
  const xb = new Float32Array(batchSize * w);
  const yb = new Int32Array(batchSize);
  const order = Array.from({ length: train.n }, (_, i) => i);
  const history: EpochRecord[] = [];
  const es = opts.earlyStopping && opts.validation ? opts.earlyStopping : undefined;
  let best: { acc: number; loss: number; epoch: number; weights: tf.Tensor[] } | undefined;
  let sinceBest = 0;
  let sinceLrCut = 0;
  let stoppedEarly = false;
  let trainSeconds = 0;
  const t0 = performance.now();
  // EMA shadow weights (TF's schedule: decay min(ema, (1 + step) / (10 + step)) for a quick start).
  const shadow = opts.ema ? tf.tidy(() => trainable.map((v) => tf.variable(v.clone(), false))) : [];
  let step = 0;
  const updateShadow = () => {
    const d = Math.min(opts.ema!, (1 + step) / (10 + step));
    tf.tidy(() => shadow.forEach((s, i) => s.assign(tf.add(tf.mul(s, d), tf.mul(trainable[i], 1 - d)))));
    step++;
  };
  /** Runs f with the EMA weights in the variables, then puts the raw weights back. */
  const withShadow = <T>(f: () => T): T => {
    if (!opts.ema) return f();
    const raw = trainable.map((v) => tf.keep(v.clone()));
    trainable.forEach((v, i) => v.assign(shadow[i]));
    try {
      return f();
    } finally {
      trainable.forEach((v, i) => v.assign(raw[i]));
      tf.dispose(raw);
    }
  };
  const kernels = graph.layers.flatMap((l) => (vars[l.name]?.kernel ? [vars[l.name].kernel!] : []));
  // The weights at the end of the last completed epoch: what a NaN loss falls back to.
  let lastGood = snapshot([...all, ...shadow]);
  let diverged: FitResult['diverged'];

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      rng.shuffle(order);
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        const s = b * batchSize;
        const e = Math.min(train.n, s + batchSize);
        const n = e - s;
        gather(train, order, s, e, xb, yb);
        const xs = xb.subarray(0, n * w);
        const ys = yb.subarray(0, n);
        opts.augment?.(xs, ys, n, rng);
        let hits: tf.Tensor | undefined;
        const lossT = optimizer.minimize(
          () => {
            const x = tf.tensor3d(xs, [n, train.steps, train.channels]);
            const labels = tf.tensor1d(ys, 'int32');
            const logits = forward(graph, vars, x, {
              training: true,
              logits: true,
              hooks: opts.hooks,
              rng,
              bnMomentum: opts.bnMomentum,
            });
            let loss = tf.losses.softmaxCrossEntropy(
              tf.oneHot(labels, numClasses),
              logits,
              undefined,
              opts.labelSmoothing ?? 0,
            ) as tf.Scalar;
            if (opts.weightDecay)
              loss = tf.add(
                loss,
                tf.mul(opts.weightDecay, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))),
              ) as tf.Scalar;
            hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
            return loss;
          },
          true,
          trainable,
        )!;
        if (opts.ema) updateShadow();
        const loss = lossT.dataSync()[0];
        lossT.dispose();
        const c = hits!.dataSync()[0];
        hits!.dispose();
        if (!Number.isFinite(loss)) {
          // Diverged: this step's update (and the EMA's) holds NaN; go back to the last good epoch.
          [...all, ...shadow].forEach((v, i) => v.assign(lastGood[i]));
          diverged = { epoch, batch: b + 1, loss };
          break;
        }
        lossSum += loss * n;
        correct += c;
        progress.batch(epoch, b + 1, lossSum / e, correct / e);
        await opts.onBatchEnd?.({ epoch, batch: b + 1, batches, loss, accuracy: c / n });
        // Training is minutes of synchronous tfjs work (src/util/eventLoop.ts says why this matters).
        if (b % YIELD_EVERY_BATCHES === YIELD_EVERY_BATCHES - 1) await yieldToEventLoop();
      }
      trainSeconds += (performance.now() - te) / 1000;
      if (diverged) break;
      const rec: EpochRecord = {
        epoch,
        loss: lossSum / train.n,
        accuracy: correct / train.n,
        lr,
        seconds: (performance.now() - te) / 1000,
      };
      let note = '';
      if (opts.validation) {
        let snap: tf.Tensor[] = [];
        const m = withShadow(() => {
          const r = evaluateSet(graph, vars, opts.validation!, { hooks: opts.hooks });
          snap = es ? snapshot(all) : [];
          return r;
        });
        rec.valLoss = m.loss;
        rec.valAccuracy = m.accuracy;
        rec.seconds = (performance.now() - te) / 1000;
        const eligible = epoch >= (es?.startEpoch ?? 1);
        const improved =
          eligible &&
          (!best ||
            m.accuracy > best.acc + (es?.minDelta ?? 0) ||
            (m.accuracy === best.acc && m.loss < best.loss));
        if (improved) {
          best?.weights.forEach((t) => t.dispose());
          best = { acc: m.accuracy, loss: m.loss, epoch, weights: snap };
          snap = [];
          sinceBest = 0;
          sinceLrCut = 0;
          note = '*';
        } else if (eligible) {
          sinceBest++;
          sinceLrCut++;
        }
        tf.dispose(snap);
      }
      history.push(rec);
      tf.dispose(lastGood);
      lastGood = snapshot([...all, ...shadow]);
      progress.epoch({ ...rec, epochs, note });
      await opts.onEpochEnd?.(rec);
      if (es && sinceBest >= es.patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
      if (opts.reduceLrPatience && sinceLrCut >= opts.reduceLrPatience) {
        lr /= 2;
        sinceLrCut = 0;
      } else if (opts.lrDecay) lr *= opts.lrDecay;
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
    }
  } finally {
    progress.stop();
    tf.dispose(lastGood);
  }
  let bestEpoch = history.length;
  if (es && best) {
    all.forEach((v, i) => v.assign(best!.weights[i]));
    bestEpoch = best.epoch;
  } else if (opts.ema) trainable.forEach((v, i) => v.assign(shadow[i]));
  tf.dispose(shadow);
  best?.weights.forEach((t) => t.dispose());
  optimizer.dispose();
  const seconds = (performance.now() - t0) / 1000;
  return {
    history,
    epochsRun: history.length,
    bestEpoch,
    bestValAccuracy: best?.acc,
    stoppedEarly,
    seconds,
    windowsPerSecond: (train.n * history.length) / Math.max(trainSeconds, 1e-9),
    ...(diverged ? { diverged } : {}),
  };
}
