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
import type { Int8Ops, OpModule } from './types.js';
import { checkInt8Input, int8Base, int8Schema, type Int8Q } from './int8.js';
import { add as tfliteAdd, addParams, TFLITE_2_21_ROUNDING, type AddParams } from '../fixedpoint/tflite.js';
import type { AffineQuant } from '../qmodel/model.js';
import { affineQuant } from '../qmodel/schemaParts.js';
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

/** Under TFLite's int8 scheme: two inputs, each with its own quantization (ADD, no broadcasting). */
export interface QAdd8 extends Int8Q {
  input2: AffineQuant;
}

function addParamsOf(q: QAdd8): AddParams {
  const [a, b, o] = [q.input, q.input2, q.output];
  const rounding = TFLITE_2_21_ROUNDING.add;
  return addParams(a.scale, a.zeroPoint, b.scale, b.zeroPoint, o.scale, o.zeroPoint, q.activation, rounding);
}

const addInt8: Int8Ops<Layer, QAdd8> = {
  fromTflite(_l, ctx) {
    if (ctx.inputs.length !== 2) ctx.fail(`${ctx.inputs.length} inputs (the int8 Add takes 2)`);
    return { ...int8Base(ctx), kind: KIND, input2: ctx.inputs[1] };
  },
  quantized: {
    schema: int8Schema(KIND, { input2: affineQuant }, false),
    toIr: (q) => ({ kind: KIND, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: () => 0,
    outQuant: (q) => q.output,
    check(q, ctx) {
      if (ctx.inQuants.length !== 2) ctx.fail(`${ctx.inQuants.length} inputs (the int8 Add takes 2)`);
      checkInt8Input(q, ctx);
      checkInt8Input(q, { ...ctx, inQuants: [ctx.inQuants[1]] }, q.input2);
    },
    reference(q, [a, b]) {
      const p = addParamsOf(q);
      return a.map((v, i) => tfliteAdd(v, b[i], p, TFLITE_2_21_ROUNDING.add));
    },
  },
};

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
  int8: addInt8,
};
