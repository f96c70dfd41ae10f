// Accuracy of a model on a set of windows: overall, per class, confusion matrix, plus the size
// figures of the deployable graph. `classificationReport` is shared with other evaluators (e.g. the
// fixed-point host reference) that produce predictions their own way.
import type { WindowSet } from '../data/dataset.js';
import { applyNormalization, type Normalization } from '../data/normalize.js';
import { deployableGraph } from '../graph/fold.js';
import type { FloatModel } from '../graph/ir.js';
import { totalMacs, totalParams } from '../graph/ir.js';
import { TinyforgeError } from '../util/errors.js';
import { evaluateSet } from './fit.js';
import { createVars, disposeVars } from './forward.js';

export interface ClassificationReport {
  n: number;
  accuracy: number;
  perClass: { name: string; support: number; correct: number; accuracy: number }[];
  /** confusion[true class][predicted class] = count. */
  confusion: number[][];
}

export function classificationReport(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classNames: string[],
): ClassificationReport {
  const K = classNames.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    confusion[labels[i]][predictions[i]]++;
    if (labels[i] === predictions[i]) correct++;
  }
  const perClass = classNames.map((name, k) => {
    const support = confusion[k].reduce((a, b) => a + b, 0);
    return { name, support, correct: confusion[k][k], accuracy: support ? confusion[k][k] / support : 0 };
  });
  return { n: labels.length, accuracy: labels.length ? correct / labels.length : 0, perClass, confusion };
}

export interface FloatEvaluation extends ClassificationReport {
  /** Parameters / multiply-accumulates per window of the deployable graph (BatchNorm folded). */
  params: number;
  macs: number;
  /** Parameters of the model as trained (BatchNorm counted). */
  trainedParams: number;
  /** Mean cross-entropy. */
  loss: number;
}

/** Evaluates a float model on raw (not yet normalized) windows. Needs an initialized backend. */
export function evaluateFloatModel(
  model: FloatModel,
  normalization: Normalization,
  set: WindowSet,
): FloatEvaluation {
  const [T, C] = model.graph.inputShape;
  if (set.steps !== T || set.channels !== C)
    throw new TinyforgeError(
      `the model takes windows of ${T}x${C}, the data has ${set.steps}x${set.channels}`,
      'input',
      'evaluate on the kind of data the model was trained on',
    );
  const K = model.graph.classNames.length;
  const vars = createVars(model);
  try {
    const m = evaluateSet(model.graph, vars, applyNormalization(set, normalization));
    for (let i = 0; i < set.n; i++)
      if (set.y[i] >= K)
        throw new TinyforgeError(`the data has label ${set.y[i]}, the model only ${K} classes`, 'input');
    const dep = deployableGraph(model).graph;
    return {
      ...classificationReport(set.y, m.predictions, model.graph.classNames),
      loss: m.loss,
      params: totalParams(dep),
      macs: totalMacs(dep),
      trainedParams: totalParams(model.graph),
    };
  } finally {
    disposeVars(vars);
  }
}

/** Confusion matrix and per-class accuracy as text, for people. */
export function formatReport(r: ClassificationReport): string {
  const names = r.perClass.map((c) => c.name);
  const w = Math.max(...names.map((n) => n.length), 10);
  const cw = Math.max(6, ...r.confusion.flat().map((v) => String(v).length + 1));
  const lines: string[] = [];
  lines.push(`${'class'.padEnd(w)}  accuracy  support`);
  for (const c of r.perClass)
    lines.push(
      `${c.name.padEnd(w)}  ${(c.accuracy * 100).toFixed(2).padStart(7)}%  ${String(c.support).padStart(7)}`,
    );
  lines.push('');
  lines.push(`confusion (rows: true class, columns: predicted ${names.map((_, i) => i).join(' ')})`);
  r.confusion.forEach((row, i) =>
    lines.push(`${`${i} ${names[i]}`.padEnd(w + 2)}${row.map((v) => String(v).padStart(cw)).join('')}`),
  );
  return lines.join('\n');
}
