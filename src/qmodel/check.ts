// Validity of a CompressedModel before anything runs or compiles it: shapes chain, formats chain,
// requantization shifts in range, no accumulator overflow, weight matrices match their layers.
import { TinyforgeError } from '../util/errors.js';
import { ACC_LIMIT, MAX_SHIFT, MIN_SHIFT, requantShift } from '../fixedpoint/semantics.js';
import { inferShapes, padLeft as irPadLeft, type Layer, type Shape } from '../graph/ir.js';
import { codedWeightsProblem } from './coding/weights.js';
import { wFracOf, type CompressedModel, type QConv1D, type QDense, type QLayer } from './model.js';

/** The IR layer a quantized layer stands for, so shapes follow the one definition in ir.ts. */
function irLayer(l: QLayer): Layer {
  switch (l.kind) {
    case 'conv1d':
      return {
        kind: 'conv1d',
        name: l.name,
        filters: l.filters,
        kernelSize: l.kernelSize,
        stride: l.stride,
        padding: l.padding,
        activation: l.relu ? 'relu' : 'linear',
        useBias: true,
      };
    case 'dense':
      return {
        kind: 'dense',
        name: l.name,
        units: l.units,
        activation: l.relu ? 'relu' : 'linear',
        useBias: true,
      };
    case 'maxpool1d':
    case 'avgpool1d':
      return { kind: l.kind, name: l.name, poolSize: l.poolSize, stride: l.stride, padding: l.padding };
    case 'gap1d':
    case 'flatten':
    case 'relu':
      return { kind: l.kind, name: l.name };
    default:
      throw new TinyforgeError(
        `layer '${(l as QLayer).name}' has unsupported kind '${(l as { kind: string }).kind}'`,
        'model',
      );
  }
}

const isInt = (v: unknown): v is number => Number.isInteger(v);
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  Array.isArray(a) && a.length === 2 && a[0] === b[0] && a[1] === b[1];

/** Worst-case |accumulator| of output channel o: |bias| + n * 128 * 2^(bits-1). */
export function worstCaseAccumulator(layer: QConv1D | QDense, o: number): number {
  return Math.abs(layer.bias[o]) + layer.weights.rowLength * 128 * 2 ** (layer.weights.bits - 1);
}

function checkWeighted(
  layer: QConv1D | QDense,
  inShape: Shape,
  inFrac: number,
  fail: (why: string) => never,
): void {
  const outs = layer.kind === 'conv1d' ? layer.filters : layer.units;
  const rowLength = layer.kind === 'conv1d' ? layer.kernelSize * inShape[1] : inShape[0] * inShape[1];
  if (layer.inFrac !== inFrac) fail(`inFrac ${layer.inFrac} differs from its input's format ${inFrac}`);
  if (!isInt(layer.inFrac) || !isInt(layer.outFrac)) fail('inFrac and outFrac must be integers');
  if (!Array.isArray(layer.wFrac) || (layer.wFrac.length !== 1 && layer.wFrac.length !== outs)) {
    fail(`wFrac has ${layer.wFrac?.length} entries, expected 1 (per layer) or ${outs} (per channel)`);
  }
  if (!layer.wFrac.every(isInt)) fail('wFrac entries must be integers');
  if (!(layer.bias instanceof Int32Array) || layer.bias.length !== outs) {
    fail(`bias has ${layer.bias?.length} entries, expected ${outs}`);
  }
  const w = layer.weights;
  if (w.rows !== outs || w.rowLength !== rowLength) {
    fail(`weights are ${w.rows} x ${w.rowLength}, expected ${outs} rows of ${rowLength}`);
  }
  const problem = codedWeightsProblem(w);
  if (problem) fail(`weights: ${problem}`);
  if (w.bitstream.length < Math.ceil(w.bitLength / 8)) {
    fail(
      `the bitstream has ${w.bitstream.length} bytes, its ${w.bitLength} bits need ${Math.ceil(w.bitLength / 8)}`,
    );
  }
  for (let o = 0; o < outs; o++) {
    const s = requantShift(layer.inFrac, wFracOf(layer, o), layer.outFrac);
    if (s < MIN_SHIFT || s > MAX_SHIFT) {
      fail(
        `output channel ${o}: requantization shift inFrac + wFrac - outFrac = ${s} is outside [${MIN_SHIFT}, ${MAX_SHIFT}]`,
      );
    }
    const acc = worstCaseAccumulator(layer, o);
    if (acc >= ACC_LIMIT) {
      fail(`output channel ${o}: worst-case accumulator ${acc} is not below 2^30 (int32 overflow possible)`);
    }
  }
}

/** Throws TinyforgeError('model') naming the layer and the problem; returns nothing when valid. */
export function checkModel(model: CompressedModel): void {
  const bad = (why: string): never => {
    throw new TinyforgeError(`invalid compressed model: ${why}`, 'model');
  };
  const [T, C] = model.inputShape ?? [];
  if (!isInt(T) || !isInt(C) || T < 1 || C < 1) bad(`input shape ${JSON.stringify(model.inputShape)}`);
  if (!Array.isArray(model.classNames) || model.classNames.length < 1) bad('no class names');
  if (!isInt(model.inputFrac)) bad(`inputFrac ${model.inputFrac} is not an integer`);
  const { mean, std } = model.normalization ?? {};
  if (!Array.isArray(mean) || !Array.isArray(std) || mean.length !== C || std.length !== C) {
    bad(`normalization needs ${C} means and ${C} standard deviations (one per input channel)`);
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0)) {
    bad('normalization has a non-finite mean or a zero / non-finite standard deviation');
  }
  if (!Array.isArray(model.layers) || model.layers.length === 0) bad('no layers');

  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    if (typeof l?.name !== 'string' || l.name === '') bad(`layer #${i} has no name`);
    if (names.has(l.name)) bad(`duplicate layer name '${l.name}'`);
    names.add(l.name);
    const sizes =
      l.kind === 'conv1d'
        ? [l.filters, l.kernelSize, l.stride]
        : l.kind === 'dense'
          ? [l.units]
          : l.kind === 'maxpool1d' || l.kind === 'avgpool1d'
            ? [l.poolSize, l.stride]
            : [];
    if (!sizes.every((v) => isInt(v) && v >= 1)) {
      bad(`layer '${l.name}' (${l.kind}): sizes ${JSON.stringify(sizes)} must be integers >= 1`);
    }
  });
  const infos = inferShapes({
    inputShape: [T, C],
    classNames: model.classNames,
    layers: model.layers.map(irLayer),
  });
  let frac = model.inputFrac;
  model.layers.forEach((layer, i) => {
    const info = infos[i];
    const fail = (why: string): never => {
      throw new TinyforgeError(`layer '${layer.name}' (${layer.kind}, #${i}): ${why}`, 'model');
    };
    if (!sameShape(layer.inShape, info.inShape)) {
      fail(`inShape ${JSON.stringify(layer.inShape)} but its input is ${JSON.stringify(info.inShape)}`);
    }
    if (!sameShape(layer.outShape, info.outShape)) {
      fail(`outShape ${JSON.stringify(layer.outShape)} but it computes ${JSON.stringify(info.outShape)}`);
    }
    switch (layer.kind) {
      case 'conv1d':
      case 'dense':
        checkWeighted(layer, info.inShape, frac, fail);
        frac = layer.outFrac;
        break;
      default:
        if (layer.frac !== frac) fail(`frac ${layer.frac} differs from its input's format ${frac}`);
    }
    if (layer.kind === 'conv1d' || layer.kind === 'maxpool1d' || layer.kind === 'avgpool1d') {
      const k = layer.kind === 'conv1d' ? layer.kernelSize : layer.poolSize;
      const expected = irPadLeft(info.inShape[0], k, layer.stride, layer.padding);
      if (layer.padLeft !== expected)
        fail(`padLeft ${layer.padLeft}, expected ${expected} for '${layer.padding}'`);
    }
  });
  const [oT, oC] = infos[infos.length - 1].outShape;
  if (oT * oC !== model.classNames.length) {
    bad(`the last layer gives ${oT * oC} logits but there are ${model.classNames.length} classes`);
  }
}
