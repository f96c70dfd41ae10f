// What the weighted operators (Conv1D, Dense: a weight matrix, int32 bias, requantized int8 output)
// share: quantization of the rows, the validity rules, the .tfm fields, the fused activation and
// the template view. Each operator module supplies its geometry and row layout.
import { z } from 'zod';
import {
  ACC_LIMIT,
  MAX_SHIFT,
  MIN_SHIFT,
  fracBitsFor,
  quantizeBias,
  quantizeValue,
  requantShift,
  weightRange,
} from '../fixedpoint/semantics.js';
import type { Layer, LayerParams } from '../graph/types.js';
import { codedWeightsProblem } from '../qmodel/coding/index.js';
import type { CodedWeights, QLayer } from '../qmodel/model.js';
import { codedWeightsSchema, biasSchema, fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import { TinyforgeError } from '../util/errors.js';
import type { Geometry } from '../codegen/kernelPlan.js';
import {
  kernelChoice,
  kernelFacts,
  kernelViews,
  smallUses,
  smallView,
  usedBy,
  type KernelFacts,
  type SmallView,
} from '../codegen/weightedKernel.js';
import { int8RequantView, requantView, weightsView } from '../codegen/weightsData.js';
import type { LayerView, LayerViewBase, RequantView, WeightsView } from '../codegen/viewTypes.js';
import * as tf from '@tensorflow/tfjs';
import type { NodeInfo } from '../graph/types.js';
import type {
  CheckContext,
  CodegenOps,
  Int8Ops,
  OpModule,
  ParamSpec,
  Prepared,
  QuantizeContext,
  Quantized,
  TfContext,
} from './types.js';
import {
  checkInt8Weighted,
  int8Base,
  weightedFromTflite,
  weightedInt8Quantized,
  weightedInt8Reference,
  type Int8WeightedQ,
  type WeightedFlavour,
  type WeightedLoop,
} from './int8.js';

/** A float weighted layer: a fused activation and an optional bias. */
export interface WeightedLayer extends Layer {
  activation: 'linear' | 'relu';
  useBias: boolean;
}

/** int8 in, int32 accumulate, requantize to int8 out. */
export interface WeightedQ extends QLayer {
  relu: boolean;
  inFrac: number;
  outFrac: number;
  /** Weight fractional bits: length 1 (per layer) or one per output channel. */
  wFrac: number[];
  /** Per output channel, in the accumulator format (inFrac + wFrac[o] fractional bits). */
  bias: Int32Array;
  weights: CodedWeights;
}

/** A weighted layer's own fields without its pow2 arithmetic (what both schemes share). */
export type WeightedFields<Q extends WeightedQ> = Omit<Q, Exclude<keyof WeightedQ, keyof QLayer>>;

/** The .tfm header fields of a weighted layer (bias and bitstream live in the payload). */
export const weightedSchemaFields = {
  relu: z.boolean(),
  inFrac: fracBits,
  outFrac: fracBits,
  wFrac: z.array(fracBits).min(1),
  bias: biasSchema,
  weights: codedWeightsSchema,
};

/** Per-channel fractional bits of a layer's weights for output channel o. */
export function wFracOf(q: WeightedQ, o: number): number {
  return q.wFrac.length === 1 ? q.wFrac[0] : q.wFrac[o];
}

/** The fused activation applied to a float accumulator. */
export function activate(v: number, activation: string): number {
  return activation === 'relu' && v < 0 ? 0 : v;
}

/** The kernel (Glorot uniform with the given fans) and, with useBias, the bias (zeros). */
export function weightedParams(
  kernel: number[],
  fans: [number, number],
  units: number,
  useBias: boolean,
): ParamSpec[] {
  const specs: ParamSpec[] = [
    { key: 'kernel', shape: kernel, init: { glorot: fans }, trainable: true, kerasName: 'kernel' },
  ];
  if (useBias) specs.push({ key: 'bias', shape: [units], init: 'zeros', trainable: true, kerasName: 'bias' });
  return specs;
}

/** A kernel [blocks, C, outs] (outs innermost) with only the input channels in `keep`. */
export function keepKernelInputs(
  old: Float32Array,
  blocks: number,
  C: number,
  keep: number[],
  outs: number,
): Float32Array {
  const kernel = new Float32Array(blocks * keep.length * outs);
  for (let b = 0; b < blocks; b++)
    keep.forEach((c, ci) => {
      for (let o = 0; o < outs; o++) kernel[(b * keep.length + ci) * outs + o] = old[(b * C + c) * outs + o];
    });
  return kernel;
}

/**
 * Pruning of a conv's filters: keeps the listed output channels (the last kernel axis, [..., Co])
 * and their biases.
 */
export function keepFilters<L extends WeightedLayer & { filters: number }>(
  l: L,
  p: LayerParams,
  keep: number[],
): { layer: L; params: LayerParams } {
  const Co = l.filters;
  const w = p.kernel!;
  const rowsOf = w.length / Co;
  const kernel = new Float32Array(rowsOf * keep.length);
  for (let r = 0; r < rowsOf; r++) keep.forEach((o, i) => (kernel[r * keep.length + i] = w[r * Co + o]));
  return {
    layer: { ...l, filters: keep.length },
    params: { ...p, kernel, ...(p.bias ? { bias: Float32Array.from(keep, (o) => p.bias![o]) } : {}) },
  };
}

/** The tfjs tail of a weighted layer: bias, then the fused activation. */
export function biasAndActivation(y: tf.Tensor, l: WeightedLayer, ctx: TfContext): tf.Tensor {
  const b = ctx.param('bias');
  const z = b ? tf.add(y, b) : y;
  return l.activation === 'relu' ? tf.relu(z) : z;
}

/** What one weighted operator adds to the shared parts. */
export interface WeightedSpec<L extends WeightedLayer, Q extends WeightedQ> {
  kind: L['kind'];
  /** The operator's own fields of its .tfm entry. */
  schemaFields: z.ZodRawShape;
  outChannels(l: L): number;
  rows(l: L, info: NodeInfo, kernel: Float32Array): { rows: number; rowLength: number; data: Float32Array };
  /** The operator's own fields of its quantized layer (pow2 and int8 alike). */
  fields(l: L, ctx: { info: NodeInfo }): Omit<Q, keyof WeightedQ>;
  /** Kernel geometry on the target (a Dense layer is one window of all features). */
  geometry(q: Q): Geometry;
  /** The operator's own fields of its template view. */
  view(q: Q, base: LayerViewBase): Record<string, unknown>;
}

/** The parts every weighted operator shares: folding, quantization, payload and C generation. */
export function weightedParts<L extends WeightedLayer, Q extends WeightedQ>(spec: WeightedSpec<L, Q>) {
  const stages = {
    foldable: {
      outChannels: spec.outChannels,
      activation: (l: L) => l.activation,
      withActivation: (l: L, activation: 'relu') => ({ ...l, activation }),
      withBias: (l: L) => ({ ...l, useBias: true }),
    },
    weights: { rows: spec.rows },
    requantizes: true,
    quantize: (l: L, ctx: QuantizeContext) =>
      quantizeWeighted(
        l,
        ctx,
        spec.rows(l, ctx.info, ctx.params!.kernel!),
        (c) => ({ ...c, ...spec.fields(l, ctx) }) as Q,
      ),
  } satisfies Partial<OpModule<L, Q>>;
  const quantized = {
    schema: z.strictObject({
      kind: z.literal(spec.kind),
      ...layerBaseFields,
      ...spec.schemaFields,
      ...weightedSchemaFields,
    }),
    outFrac: (q: Q) => q.outFrac,
    coded: (q: Q) => ({ weights: q.weights, bias: q.bias }),
  };
  const codegen: CodegenOps<Q> = {
    alias: 'none',
    prepare: (q, opts) => prepareWeighted(q, spec.geometry(q), spec.kind, opts.small),
    view: (q, base, ctx) => ({
      ...weightedView(
        q,
        base,
        ctx.prepared as KernelFacts | SmallFacts,
        requantView(q, (o) => wFracOf(q, o)),
      ),
      ...spec.view(q, base),
    }),
  };
  return { stages, quantized, codegen, spec };
}

/** What a weighted operator adds to the shared int8 parts (src/ops/int8.ts). */
export interface WeightedInt8Spec<L extends WeightedLayer, Q extends Int8WeightedQ> {
  /** The operator's pow2 spec: its own fields, rows and geometry serve both schemes. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- only kind, fields, rows and schema are read.
  spec: WeightedSpec<L, any>;
  flavour: WeightedFlavour;
  /** The operator's reference loop (the one its pow2 reference runs). */
  loop: WeightedLoop<Q>;
  outs(q: Q): number;
  rowLength(q: Q, info: NodeInfo): number;
  toIr(q: Q): Layer;
  /** Geometry checks of the operator's own. */
  check?(q: Q, ctx: CheckContext): void;
}

/**
 * A weighted operator under TFLite's int8 scheme: import, .tfm entry, checks, reference, and C: the
 * pow2 kernel (templates/kernels/weighted.c.hbs) with the input copied as x - input zero point, the
 * int32 bias as it is, and TFLite's requantization per output channel (tf_req8_<ident>).
 */
export function weightedInt8<L extends WeightedLayer, Q extends Int8WeightedQ>(
  o: WeightedInt8Spec<L, Q>,
): Int8Ops<L, Q> {
  return {
    codegen: {
      alias: 'none',
      prepare: (q, opts) => prepareWeighted(q, o.spec.geometry(q), o.spec.kind, opts.small, true),
      view: (q, base, ctx) => ({
        ...weightedView(
          q,
          base,
          ctx.prepared as KernelFacts | SmallFacts,
          int8RequantView(q, o.outs(q), o.flavour),
        ),
        ...o.spec.view(q, base),
      }),
    },
    fromTflite(l, ctx) {
      const rows = o.spec.rows(l, ctx.info, ctx.params?.kernel ?? ctx.fail('no weights'));
      return { ...int8Base(ctx), ...o.spec.fields(l, ctx), ...weightedFromTflite(ctx, rows) } as Q;
    },
    quantized: {
      ...weightedInt8Quantized<Q>(o.spec.kind, o.spec.schemaFields),
      toIr: o.toIr,
      check(q, ctx) {
        checkInt8Weighted(q, o.outs(q), o.rowLength(q, ctx.info), ctx);
        o.check?.(q, ctx);
      },
      reference: (q, [x], row) => weightedInt8Reference(q, x, row, o.outs(q), o.flavour, o.loop),
    },
  };
}

/** Fractional bits of each row's weights (one entry when per layer). */
export function weightFracs(
  rows: Float32Array,
  nRows: number,
  rowLength: number,
  bits: number,
  perChannel: boolean,
): number[] {
  const maxAbs = (from: number, to: number): number => {
    let m = 0;
    for (let i = from; i < to; i++) m = Math.max(m, Math.abs(rows[i]));
    return m;
  };
  if (!perChannel) return [fracBitsFor(maxAbs(0, rows.length), bits)];
  return Array.from({ length: nRows }, (_, o) =>
    fracBitsFor(maxAbs(o * rowLength, (o + 1) * rowLength), bits),
  );
}

/**
 * Lowers the weight fraction bits of a channel whose weights are tiny next to its bias (a channel
 * BatchNorm all but switched off, as trained models have) until its bias fits the accumulator
 * bound: such a channel's output is its bias, and its weights lose nothing that mattered.
 */
function fitBiases(
  wFrac: number[],
  bias: Float32Array | undefined,
  inFrac: number,
  rowLength: number,
  bits: number,
): number[] {
  if (!bias) return wFrac;
  const room = ACC_LIMIT - 1 - rowLength * 128 * -weightRange(bits)[0];
  return wFrac.map((f, o) => {
    const b = wFrac.length === 1 ? Math.max(...Array.from(bias, Math.abs)) : Math.abs(bias[o]);
    while (f > -32 && Math.abs(quantizeBias(b, inFrac + f)) > room) f--;
    return f;
  });
}

/**
 * Quantizes weight rows (one per output channel) and the bias; the operator adds its own fields.
 * Shift = inFrac + wFrac - outFrac must lie in [0, 31]: the accumulator never has fewer fractional
 * bits than the output, and tiny channels do not need more than 31 extra.
 */
function quantizeWeighted<Q extends WeightedQ>(
  layer: WeightedLayer,
  ctx: QuantizeContext,
  rows: { rows: number; rowLength: number; data: Float32Array },
  fields: (common: WeightedQ) => Q,
): Quantized {
  const p = ctx.params;
  if (!p?.kernel) throw new TinyforgeError(`layer '${layer.name}' has no kernel weights`, 'model');
  const frac = ctx.inFracs[0];
  const { rows: n, rowLength, data } = rows;
  const wFrac = fitBiases(
    weightFracs(data, n, rowLength, ctx.bits, ctx.perChannel),
    p.bias,
    frac,
    rowLength,
    ctx.bits,
  );
  let outFrac = Math.min(fracBitsFor(ctx.outRange, 8), frac + Math.min(...wFrac));
  outFrac = Math.max(outFrac, frac + Math.max(...wFrac) - MAX_SHIFT);
  for (let o = 0; o < wFrac.length; o++) wFrac[o] = Math.min(wFrac[o], MAX_SHIFT + outFrac - frac);
  const fOf = (o: number): number => (wFrac.length === 1 ? wFrac[0] : wFrac[o]);
  const values = new Int8Array(n * rowLength);
  for (let o = 0; o < n; o++)
    for (let i = o * rowLength; i < (o + 1) * rowLength; i++)
      values[i] = quantizeValue(data[i], fOf(o), ctx.bits);
  const bias = Int32Array.from({ length: n }, (_, o) =>
    p.bias ? quantizeBias(p.bias[o], frac + fOf(o)) : 0,
  );
  const worst = Math.max(...Array.from(bias, Math.abs)) + rowLength * 128 * -weightRange(ctx.bits)[0];
  if (worst >= ACC_LIMIT)
    throw new TinyforgeError(
      `layer '${layer.name}': worst-case accumulator ${worst} exceeds 2^30`,
      'model',
      'use fewer input features per output (smaller kernel/fewer channels) or fewer weight bits',
    );
  const common: WeightedQ = {
    ...ctx.base,
    kind: layer.kind,
    relu: layer.activation === 'relu',
    inFrac: frac,
    outFrac,
    wFrac,
    bias,
    weights: ctx.encode(values, n, rowLength, ctx.bits),
  };
  return { layer: fields(common), outFrac };
}

/** Worst-case |accumulator| of output channel o: |bias| + n * 128 * 2^(bits-1). */
export function worstCaseAccumulator(q: WeightedQ, o: number): number {
  return Math.abs(q.bias[o]) + q.weights.rowLength * 128 * 2 ** (q.weights.bits - 1);
}

const isInt = (v: unknown): v is number => Number.isInteger(v);

/** The validity rules of a weighted layer with `outs` channels of `rowLength` weights each. */
export function checkWeighted(
  q: WeightedQ,
  outs: number,
  rowLength: number,
  inFrac: number,
  fail: (why: string) => never,
): void {
  if (q.inFrac !== inFrac) fail(`inFrac ${q.inFrac} differs from its input's format ${inFrac}`);
  if (!isInt(q.inFrac) || !isInt(q.outFrac)) fail('inFrac and outFrac must be integers');
  if (!Array.isArray(q.wFrac) || (q.wFrac.length !== 1 && q.wFrac.length !== outs))
    fail(`wFrac has ${q.wFrac?.length} entries, expected 1 (per layer) or ${outs} (per channel)`);
  if (!q.wFrac.every(isInt)) fail('wFrac entries must be integers');
  if (!(q.bias instanceof Int32Array) || q.bias.length !== outs)
    fail(`bias has ${q.bias?.length} entries, expected ${outs}`);
  const w = q.weights;
  if (w.rows !== outs || w.rowLength !== rowLength)
    fail(`weights are ${w.rows} x ${w.rowLength}, expected ${outs} rows of ${rowLength}`);
  const problem = codedWeightsProblem(w);
  if (problem) fail(`weights: ${problem}`);
  if (w.bitstream.length < Math.ceil(w.bitLength / 8))
    fail(
      `the bitstream has ${w.bitstream.length} bytes, its ${w.bitLength} bits need ${Math.ceil(w.bitLength / 8)}`,
    );
  for (let o = 0; o < outs; o++) {
    const s = requantShift(q.inFrac, wFracOf(q, o), q.outFrac);
    if (s < MIN_SHIFT || s > MAX_SHIFT)
      fail(
        `output channel ${o}: requantization shift inFrac + wFrac - outFrac = ${s} is outside [${MIN_SHIFT}, ${MAX_SHIFT}]`,
      );
    const acc = worstCaseAccumulator(q, o);
    if (acc >= ACC_LIMIT)
      fail(`output channel ${o}: worst-case accumulator ${acc} is not below 2^30 (int32 overflow possible)`);
  }
}

/** The small-RAM kernel of a layer (no scratch). */
export interface SmallFacts {
  small: SmallView;
}

/**
 * Codegen: the kernel facts computed before memory planning (its scratch size); with `small` the
 * small-RAM kernel (templates/kernels/small.c.hbs), which needs no scratch.
 */
function prepareWeighted(
  q: { weights: CodedWeights },
  g: Geometry,
  kind: string,
  small: boolean,
  int8 = false,
): Prepared {
  if (small)
    return { scratchBytes: 0, data: { small: smallView(g, weightsView(q.weights), kind) }, small: true };
  const facts = kernelFacts(g, q.weights, weightsView(q.weights), int8);
  return { scratchBytes: facts.bytes, data: facts };
}

/**
 * Codegen: the view templates/kernels/weighted.c.hbs renders (the operator adds its fields), with the
 * pow2 scheme's requantization (requantView) or TFLite's int8 one (int8RequantView).
 */
function weightedView(
  q: { weights: CodedWeights },
  base: LayerViewBase,
  facts: KernelFacts | SmallFacts,
  requant: RequantView,
): LayerView {
  const weights = weightsView(q.weights);
  if ('small' in facts) return smallWeightedView(base, weights, facts.small, requant);
  const { mac, sparse, decode } = kernelViews(facts, weights, base.scratchAt, requant.int8?.fast ?? false);
  return {
    ...base,
    weights,
    requant,
    mac,
    sparse,
    decode,
    kernelChoice: kernelChoice(mac, sparse, decode),
    uses: usedBy(mac, sparse, decode),
    weightBytes: weights.declaredBytes + requant.biasBytes,
    tableBytes:
      2 * (weights.table?.declaredEntries ?? 0) + requant.shiftBytes + (requant.int8?.tableBytes ?? 0),
    hasStatus: !weights.direct,
  };
}

/** Codegen: the view of the small-RAM kernel (templates/kernels/small.c.hbs; depthwise.ts too). */
export function smallWeightedView(
  base: LayerViewBase,
  weights: WeightsView,
  small: SmallView,
  requant: RequantView,
): LayerView {
  return {
    ...base,
    kernel: 'kernels/small',
    weights,
    requant,
    small,
    kernelChoice: { inner: 'small', windows: small.tb, lutBits: null, slowPath: weights.table !== null },
    uses: smallUses(weights),
    weightBytes: weights.declaredBytes + requant.biasBytes,
    tableBytes:
      2 * (weights.table?.declaredEntries ?? 0) + requant.shiftBytes + (requant.int8?.tableBytes ?? 0),
    hasStatus: !weights.direct,
  };
}
