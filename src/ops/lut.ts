// Activations computed through a 256-entry int8 lookup table (sigmoid, tanh, hard-swish, LeakyReLU).
// The table is a function of (the float function, the input frac, the output frac) only: entry b
// (the byte of an int8 input x, b = x & 255) is quantizeValue(f(x * 2^-inFrac), outFrac, 8), i.e.
// f rounded half up onto the output grid, computed in double precision here at compile time. The
// host reference and the generated C (a const table in flash, .rodata.tf_tables.<layer>) use this
// same table, so they agree by construction; the .tfm stores only the formats (and the function's
// attributes), and the table is rebuilt from them.
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { fracBitsFor, lookup8, quantizeValue } from '../fixedpoint/semantics.js';
import { sizeOf, type Layer } from '../graph/types.js';
import type { QLayer } from '../qmodel/model.js';
import { fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import type { KerasLayer, KerasMapping, KerasContext, OpModule, QuantizeContext } from './types.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';

export const LUT_ENTRIES = 256;

export interface QLut extends QLayer {
  inFrac: number;
  outFrac: number;
}

/** The table of f from inFrac to outFrac, indexed by the byte of the input. */
export function lutTable(f: (x: number) => number, inFrac: number, outFrac: number): Int8Array {
  const t = new Int8Array(LUT_ENTRIES);
  for (let b = 0; b < LUT_ENTRIES; b++) {
    const x = b < 128 ? b : b - 256;
    t[b] = quantizeValue(f(x * 2 ** -inFrac), outFrac, 8);
  }
  return t;
}

/** FNV-1a over the table bytes: a short fingerprint the generated C prints in its comment. */
export function lutHash(t: Int8Array): string {
  let h = 0x811c9dc5;
  for (const v of t) h = Math.imul(h ^ (v & 255), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** What distinguishes one table activation. */
export interface LutSpec<L extends Layer, Q extends QLut> {
  kind: string;
  title: string;
  keras: {
    classNames: readonly string[];
    activationName?: string;
    fromKeras(l: KerasLayer, ctx: KerasContext): KerasMapping;
  };
  arch: OpModule<L>['arch'];
  tfjsLayer(l: L): tf.layers.Layer;
  tfjsForward(l: L, x: tf.Tensor): tf.Tensor;
  /** The float function of a float layer and of a quantized one (same attributes). */
  fn(l: L | Q): (x: number) => number;
  /** Attributes of the function (e.g. alpha): the same fields on the float and the quantized layer. */
  fields(l: L | Q): Record<string, unknown>;
  schemaFields: z.ZodRawShape;
  /** The output format; default: the calibrated range's. */
  outFrac?(ctx: QuantizeContext): number;
  requantizes: boolean;
  /** The activation's TFLite mapping (LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU). */
  tflite?: TfliteMapping;
  /** The activation's ONNX mapping (Sigmoid, Tanh, HardSwish, LeakyRelu). */
  onnx?: OnnxMapping;
}

const tables = new Map<string, Int8Array>();

/** The table of a quantized layer (cached: the reference runs it for every window). */
export function tableOf<L extends Layer, Q extends QLut>(spec: LutSpec<L, Q>, q: Q): Int8Array {
  const { name: _n, inputs: _i, inShape: _s, outShape: _o, ...key } = q;
  const k = JSON.stringify(key);
  let t = tables.get(k);
  if (!t) {
    t = lutTable(spec.fn(q), q.inFrac, q.outFrac);
    tables.set(k, t);
  }
  return t;
}

/** A table activation operator: elementwise, any rank, in place when the planner allows. */
export function lutOp<L extends Layer, Q extends QLut>(spec: LutSpec<L, Q>): OpModule<L, Q> {
  const { kind } = spec;
  return {
    kind,
    title: spec.title,
    ...(spec.tflite ? { tflite: spec.tflite } : {}),
    ...(spec.onnx ? { onnx: spec.onnx } : {}),
    infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat }),
    arch: spec.arch,
    keras: spec.keras,
    tfjs: { layer: spec.tfjsLayer, forward: (l, [x]) => spec.tfjsForward(l, x) },
    floatForward: (l, _i, _p, [x]) => x.map(spec.fn(l)),
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    requantizes: spec.requantizes,
    quantize(l, ctx) {
      const inFrac = ctx.inFracs[0];
      const outFrac = spec.outFrac ? spec.outFrac(ctx) : fracBitsFor(ctx.outRange, 8);
      const layer = { ...ctx.base, kind, ...spec.fields(l), inFrac, outFrac } as unknown as Q;
      return { layer, outFrac };
    },
    quantized: {
      schema: z.strictObject({
        kind: z.literal(kind),
        ...layerBaseFields,
        ...spec.schemaFields,
        inFrac: fracBits,
        outFrac: fracBits,
      }),
      toIr: (q) =>
        ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}), ...spec.fields(q) }) as L,
      outFrac: (q) => q.outFrac,
      check(q, { inFracs, fail }) {
        if (q.inFrac !== inFracs[0]) fail(`inFrac ${q.inFrac} differs from its input's format ${inFracs[0]}`);
      },
      reference(q, [x]) {
        const t = tableOf(spec, q);
        return x.map((v) => lookup8(t, v));
      },
    },
    codegen: {
      alias: 'inplace',
      view(q, base) {
        const t = tableOf(spec, q);
        return {
          ...base,
          title: spec.title,
          table: t,
          hash: lutHash(t),
          size: sizeOf(q.outShape),
          tableBytes: LUT_ENTRIES,
          lookupTableBytes: LUT_ENTRIES,
        };
      },
    },
  };
}
