// The one validator of a CompressedModel, run before anything interprets, compiles or writes it:
// shapes chain (the graph's own inference), formats chain, and each operator's rules (requantization
// shifts in range, no accumulator overflow, decodable weights, windows that touch the input).
// Every problem is a TinyforgeError('model') naming the layer; callers that read a file add its name.
import { TinyforgeError } from '../util/errors.js';
import { inferShapes } from '../graph/ir.js';
import { sizeOf, type ModelGraph } from '../graph/types.js';
import { isKnownKind, quantizedOps } from '../ops/registry.js';
import type { CompressedModel } from './model.js';

const isInt = (v: unknown): v is number => Number.isInteger(v);
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  Array.isArray(a) && a.length === b.length && a.every((n, i) => n === b[i]);

function bad(why: string): never {
  throw new TinyforgeError(`invalid compressed model: ${why}`, 'model');
}

/** Input shape, classes, normalization and layer names: what the per-layer checks rely on. */
function checkFrame(model: CompressedModel): void {
  const [T, C] = model.inputShape ?? [];
  if (!isInt(T) || !isInt(C) || T < 1 || C < 1) bad(`input shape ${JSON.stringify(model.inputShape)}`);
  if (!Array.isArray(model.classNames) || model.classNames.length < 1) bad('no class names');
  if (!isInt(model.inputFrac)) bad(`inputFrac ${model.inputFrac} is not an integer`);
  const { mean, std } = model.normalization ?? {};
  if (!Array.isArray(mean) || !Array.isArray(std) || mean.length !== C || std.length !== C)
    bad(`normalization needs ${C} means and ${C} standard deviations (one per input channel)`);
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0))
    bad('normalization has a non-finite mean or a zero / non-finite standard deviation');
  if (!Array.isArray(model.layers) || model.layers.length === 0) bad('no layers');
  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    if (typeof l?.name !== 'string' || l.name === '') bad(`layer #${i} has no name`);
    if (names.has(l.name)) bad(`duplicate layer name '${l.name}'`);
    if (!isKnownKind(l.kind)) bad(`layer '${l.name}' has unsupported kind '${l.kind}'`);
    names.add(l.name);
  });
}

/** The float graph a quantized model stands for (each operator maps its layer back). */
export function irGraph(model: CompressedModel): ModelGraph {
  return {
    inputShape: [model.inputShape[0], model.inputShape[1]],
    classNames: model.classNames,
    layers: model.layers.map((l) => quantizedOps(l.kind).toIr(l)),
  };
}

/** Throws TinyforgeError('model') naming the layer and the problem; returns nothing when valid. */
export function checkModel(model: CompressedModel): void {
  checkFrame(model);
  let infos;
  try {
    infos = inferShapes(irGraph(model));
  } catch (e) {
    if (e instanceof TinyforgeError) bad(e.message);
    throw e;
  }
  const fracs: number[] = [];
  model.layers.forEach((layer, i) => {
    const info = infos[i];
    const fail = (why: string): never => {
      throw new TinyforgeError(`layer '${layer.name}' (${layer.kind}, #${i}): ${why}`, 'model');
    };
    if (!sameShape(layer.inShape, info.inShape))
      fail(`inShape ${JSON.stringify(layer.inShape)} but its input is ${JSON.stringify(info.inShape)}`);
    if (!sameShape(layer.outShape, info.outShape))
      fail(`outShape ${JSON.stringify(layer.outShape)} but it computes ${JSON.stringify(info.outShape)}`);
    const ops = quantizedOps(layer.kind);
    ops.check(layer, { info, inFracs: info.inputs.map((p) => (p < 0 ? model.inputFrac : fracs[p])), fail });
    fracs.push(ops.outFrac(layer));
  });
  const logits = sizeOf(infos[infos.length - 1].outShape);
  if (logits !== model.classNames.length)
    bad(`the last layer gives ${logits} logits but there are ${model.classNames.length} classes`);
}
