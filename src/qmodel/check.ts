// The one validator of a CompressedModel, run before anything interprets, compiles or writes it:
// shapes chain (the graph's own inference), formats chain, and each operator's rules (requantization
// shifts in range, no accumulator overflow, decodable weights, windows that touch the input).
// Every problem is a TinyforgeError('model') naming the layer; callers that read a file add its name.
import { TinyforgeError } from '../util/errors.js';
import { inferShapes } from '../graph/ir.js';
import { sizeOf, type ModelGraph } from '../graph/types.js';
import { isKnownKind, quantizedOps } from '../ops/registry.js';
import { schemeOf, type AffineQuant, type CompressedModel } from './model.js';

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
  checkScheme(model);
  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    if (typeof l?.name !== 'string' || l.name === '') bad(`layer #${i} has no name`);
    if (names.has(l.name)) bad(`duplicate layer name '${l.name}'`);
    if (!isKnownKind(l.kind)) bad(`layer '${l.name}' has unsupported kind '${l.kind}'`);
    names.add(l.name);
  });
}

const validQuant = (q: AffineQuant | undefined): boolean =>
  !!q &&
  Number.isFinite(q.scale) &&
  q.scale > 0 &&
  isInt(q.zeroPoint) &&
  q.zeroPoint >= -128 &&
  q.zeroPoint <= 127;

/** The scheme is known, and a tflite-int8 model states its input and output quantization. */
function checkScheme(model: CompressedModel): void {
  const scheme = schemeOf(model);
  if (scheme !== 'pow2' && scheme !== 'tflite-int8') bad(`unknown quantization scheme '${String(scheme)}'`);
  if (scheme === 'pow2') {
    if (model.affine !== undefined) bad('a pow2 model has no affine input/output quantization');
    return;
  }
  if (!validQuant(model.affine?.input) || !validQuant(model.affine?.output))
    bad('a tflite-int8 model needs its input and output scale (> 0) and zero point (int8)');
}

/** The float graph a quantized model stands for (each operator maps its layer back). */
export function irGraph(model: CompressedModel): ModelGraph {
  return {
    inputShape: [model.inputShape[0], model.inputShape[1]],
    classNames: model.classNames,
    layers: model.layers.map((l) => quantizedOps(l.kind, schemeOf(model)).toIr(l)),
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
  const scheme = schemeOf(model);
  const fracs: number[] = [];
  const quants: AffineQuant[] = [];
  const NO_QUANT = { scale: 0, zeroPoint: 0 };
  const inputQuant = model.affine?.input ?? NO_QUANT;
  model.layers.forEach((layer, i) => {
    const info = infos[i];
    const fail = (why: string): never => {
      throw new TinyforgeError(`layer '${layer.name}' (${layer.kind}, #${i}): ${why}`, 'model');
    };
    if (!sameShape(layer.inShape, info.inShape))
      fail(`inShape ${JSON.stringify(layer.inShape)} but its input is ${JSON.stringify(info.inShape)}`);
    if (!sameShape(layer.outShape, info.outShape))
      fail(`outShape ${JSON.stringify(layer.outShape)} but it computes ${JSON.stringify(info.outShape)}`);
    const ops = quantizedOps(layer.kind, scheme);
    ops.check(layer, {
      info,
      inFracs: info.inputs.map((p) => (p < 0 ? model.inputFrac : fracs[p])),
      inQuants: info.inputs.map((p) => (p < 0 ? inputQuant : quants[p])),
      fail,
    });
    fracs.push(ops.outFrac(layer));
    quants.push(ops.outQuant?.(layer) ?? NO_QUANT);
  });
  const logits = sizeOf(infos[infos.length - 1].outShape);
  if (logits !== model.classNames.length)
    bad(`the last layer gives ${logits} logits but there are ${model.classNames.length} classes`);
}
