// Add (Keras Add): the elementwise sum of two or more tensors of one shape, e.g. a residual
// connection. Quantized, each input is rescaled to the output format by a rounding right shift and
// the int8 terms are summed and saturated once (semantics.ts addRescaled). The output frac is the
// calibrated range's, at most the coarsest input's: every shift is then a right shift, and two
// inputs take one QADD8 per four elements on the Cortex-M4. In place over its first input when
// the planner allows. No structured pruning through it: its inputs' channels must stay matched.
import * as tf from '@tensorflow/tfjs';
import { onnxAdd } from './onnxFields.js';
import { addRescaled, fracBitsFor } from '../fixedpoint/semantics.js';
import {
  checkMergeInputs,
  mergeArch,
  mergeFromKeras,
  mergeOps,
  mergeOutFrac,
  mergeShifts,
  mergeView,
  type QMerge,
} from './merge.js';
import type { Layer } from '../graph/types.js';
import type { OpModule } from './types.js';
import { ADD_OPTIONS, noConstantInputs } from './tfliteFields.js';

const KIND = 'add';

/** The most inputs one Add takes: the four-lane path sums them in 16-bit lanes without overflow. */
export const MAX_ADD_INPUTS = 64;

function addReference(q: QMerge, xs: Int8Array[]): Int8Array {
  const shifts = mergeShifts(q);
  const y = new Int8Array(xs[0].length);
  const terms = new Array<number>(xs.length);
  for (let i = 0; i < y.length; i++) {
    for (let k = 0; k < xs.length; k++) terms[k] = xs[k][i];
    y[i] = addRescaled(terms, shifts);
  }
  return y;
}

export const add: OpModule<Layer, QMerge> = {
  kind: KIND,
  title: 'Add',
  infer(_l, xs, fail) {
    checkMergeInputs(xs, fail, false);
    if (xs.length > MAX_ADD_INPUTS) fail(`has ${xs.length} inputs, at most ${MAX_ADD_INPUTS}`);
    return { shape: [...xs[0].shape], flat: xs[0].flat };
  },
  arch: mergeArch(KIND),
  keras: { classNames: ['Add'], fromKeras: (l) => mergeFromKeras(KIND, l) },
  tflite: {
    opNames: ['ADD', 'ADD_N'],
    nary: true,
    fromTflite(ctx) {
      if (noConstantInputs(ctx) < 2) ctx.unsupported('adding a constant');
      const act = ctx.opName === 'ADD' ? ctx.activation(ADD_OPTIONS.activation, false) : { after: [] };
      return { layers: [{ kind: KIND, name: ctx.name }, ...act.after] };
    },
  },
  onnx: onnxAdd(KIND),
  tfjs: {
    layer: (l) => tf.layers.add({ name: l.name }),
    forward: (_l, xs) => tf.addN(xs),
  },
  floatForward(_l, _i, _p, xs) {
    const y = Float32Array.from(xs[0]);
    for (const x of xs.slice(1)) for (let i = 0; i < y.length; i++) y[i] += x[i];
    return y;
  },
  requantizes: true,
  quantize(_l, ctx) {
    const outFrac = mergeOutFrac(ctx.inFracs, fracBitsFor(ctx.outRange, 8));
    const layer: QMerge = { ...ctx.base, kind: KIND, inFracs: [...ctx.inFracs], outFrac };
    return { layer, outFrac };
  },
  quantized: mergeOps(KIND, addReference),
  codegen: {
    alias: 'inplace',
    view: (q, base) => mergeView(q, base, { two: q.inFracs.length === 2 }),
  },
};
