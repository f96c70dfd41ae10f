// What Add and Concatenate share: several inputs, each brought to the output's fixed-point format by
// a rounding right shift (semantics.ts rescale8, shift = its frac - the output frac >= 0, capped at
// 31 where every int8 already rescales to 0).
// The quantized layer lists its inputs' formats (`inFracs`) and the output's (`outFrac`); the
// validator checks them against the formats the producers actually have.
import { z } from 'zod';
import { archName } from './archFields.js';
import { GRAPH_INPUT, sizeOf, type Layer, type TensorInfo } from '../graph/types.js';
import type { QLayer } from '../qmodel/model.js';
import { fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import { MAX_SHIFT, MIN_SHIFT } from '../fixedpoint/semantics.js';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';
import type { CheckContext, KerasLayer, KerasMapping, QuantizedOps } from './types.js';

export interface QMerge extends QLayer {
  inFracs: number[];
  outFrac: number;
}

/** Inputs of a merge in an architecture file: layer names (or '<input>' for the model input). */
export function mergeArch(kind: string) {
  const schema = z.strictObject({
    type: z.literal(kind),
    name: archName,
    inputs: z.array(z.string().min(1)).min(2),
  });
  return {
    schema,
    toLayer: (s: Record<string, unknown>, { name }: { name: string }): Layer => ({
      kind,
      name,
      inputs: [...(s as z.output<typeof schema>).inputs],
    }),
  };
}

/** A Keras merge layer reads the layers its inbound nodes name. */
export function mergeFromKeras(kind: string, l: KerasLayer): KerasMapping {
  return { layers: [{ kind, name: l.name, inputs: l.inbound.length ? [...l.inbound] : [GRAPH_INPUT] }] };
}

/** At least two inputs; the same rank and the same size in every dimension but, maybe, the channels. */
export function checkMergeInputs(
  xs: TensorInfo[],
  fail: (why: string) => never,
  channelsMayDiffer: boolean,
): void {
  if (xs.length < 2) fail(`needs at least two inputs, has ${xs.length}`);
  const first = xs[0].shape;
  for (const x of xs) {
    const s = x.shape;
    const lead = (v: readonly number[]) => (channelsMayDiffer ? v.slice(0, -1) : v);
    if (s.length !== first.length || lead(s).some((d, i) => d !== lead(first)[i]))
      fail(
        `inputs of shapes [${first.join(', ')}] and [${s.join(', ')}] do not agree` +
          (channelsMayDiffer ? ' outside the channels' : ''),
      );
  }
}

/**
 * Shifts that take each input's format to the output's: its frac - the output frac, at most
 * MAX_SHIFT (rescale8 of an int8 gives 0 for every shift from 8 on, so the cap changes nothing).
 */
export function mergeShifts(q: QMerge): number[] {
  return q.inFracs.map((f) => Math.min(f - q.outFrac, MAX_SHIFT));
}

/** Quantized operations of a merge with the given integer kernel. */
export function mergeOps(
  kind: string,
  reference: (q: QMerge, x: Int8Array[]) => Int8Array,
): QuantizedOps<QMerge> {
  return {
    schema: z.strictObject({
      kind: z.literal(kind),
      ...layerBaseFields,
      inFracs: z.array(fracBits).min(2),
      outFrac: fracBits,
    }),
    toIr: (q) => ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: (q) => q.outFrac,
    check(q: QMerge, { inFracs, fail }: CheckContext) {
      if (q.inFracs.length !== inFracs.length || q.inFracs.some((f, i) => f !== inFracs[i]))
        fail(`inFracs [${q.inFracs.join(', ')}] differ from its inputs' formats [${inFracs.join(', ')}]`);
      for (const f of q.inFracs)
        if (f - q.outFrac < MIN_SHIFT) fail(`outFrac ${q.outFrac} is finer than an input's format ${f}`);
    },
    reference,
  };
}

/** The output frac of a merge: the wanted one, at most the coarsest input's (right shifts only). */
export function mergeOutFrac(inFracs: number[], wanted: number): number {
  return Math.min(wanted, ...inFracs);
}

/** The view of a merge: each input's tensor and shift (templates read them as `inputs`). */
export function mergeView(q: QMerge, base: LayerViewBase, extra: Record<string, unknown> = {}): LayerView {
  const shifts = mergeShifts(q);
  return {
    ...base,
    merged: base.inputs.map((ref, k) => ({ ref, shift: shifts[k], k })),
    size: sizeOf(q.outShape),
    ...extra,
  };
}
