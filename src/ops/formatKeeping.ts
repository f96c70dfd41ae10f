// What the operators that keep their input's fixed-point format share (pooling aside): the
// quantized layer carries that format as `frac`, and its .tfm entry has no other fields.
import { z } from 'zod';
import { archName } from './archFields.js';
import type { Layer, Shape } from '../graph/types.js';
import { poolWindows, type Reduction } from './window1d.js';
import type { QLayer } from '../qmodel/model.js';
import { fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import type { OpModule, QuantizeContext, Quantized, QuantizedOps } from './types.js';
import type * as tf from '@tensorflow/tfjs';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';

export interface QFormatKeeping extends QLayer {
  frac: number;
}

/** A layer without attributes of its own (e.g. from an architecture entry `{ "type": ... }`). */
export function plainArch(kind: string) {
  return {
    schema: z.strictObject({ type: z.literal(kind), name: archName }),
    toLayer: (_s: Record<string, unknown>, { name }: { name: string }): Layer => ({ kind, name }),
  };
}

export function quantizeKeeping(kind: string, ctx: QuantizeContext): Quantized {
  const frac = ctx.inFracs[0];
  const layer: QFormatKeeping = { ...ctx.base, kind, frac };
  return { layer, outFrac: frac };
}

/** Quantized operations of a format-keeping layer with the given integer kernel. */
export function keepingOps(
  kind: string,
  reference: (q: QFormatKeeping, x: Int8Array[]) => Int8Array,
): QuantizedOps<QFormatKeeping> {
  return {
    schema: z.strictObject({ kind: z.literal(kind), ...layerBaseFields, frac: fracBits }),
    toIr: (q) => ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: (q) => q.frac,
    check(q, { inFracs, fail }) {
      if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
    },
    reference,
  };
}

/** What distinguishes one global pooling operator (over all time steps, per channel). */
export interface GlobalPoolSpec {
  kind: string;
  title: string;
  kerasClassNames: string[];
  tfjsLayer(name: string): tf.layers.Layer;
  tfjsForward(x: tf.Tensor): tf.Tensor;
  /** Reduces the T values of one channel, float and integer (semantics.ts). */
  float: Reduction;
  int: Reduction;
  view(base: LayerViewBase): LayerView;
}

/** Reduces each channel of x [T, C] over all T steps: one window of the whole sequence. */
function perChannel<A extends Float32Array | Int8Array>(
  x: ArrayLike<number>,
  [T, C]: Shape,
  out: A,
  r: Reduction,
): A {
  return poolWindows(x, [T, C], 1, { poolSize: T, stride: 1, padLeft: 0 }, out, r);
}

/** A global pooling operator: [T, C] to the feature vector [1, C] in its input's format. */
export function globalPoolOp(spec: GlobalPoolSpec): OpModule<Layer, QFormatKeeping> {
  const { kind } = spec;
  return {
    kind,
    title: spec.title,
    infer(_l, [x], fail) {
      if (x.flat) fail('global pooling needs a sequence');
      return { shape: [1, x.shape[1]], flat: true };
    },
    arch: plainArch(kind),
    keras: {
      classNames: spec.kerasClassNames,
      fromKeras(l, k) {
        k.checkChannelsLast(l);
        if (l.config.keepdims) k.unsupported(l, 'keepdims true');
        return { layers: [{ kind, name: l.name }] };
      },
    },
    tfjs: { layer: (l) => spec.tfjsLayer(l.name), forward: (_l, [x]) => spec.tfjsForward(x) },
    floatForward: (_l, info, _p, [x]) =>
      perChannel(x, info.inShape, new Float32Array(info.inShape[1]), spec.float),
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    quantize: (_l, ctx) => quantizeKeeping(kind, ctx),
    quantized: keepingOps(kind, (q, [x]) => perChannel(x, q.inShape, new Int8Array(q.inShape[1]), spec.int)),
    codegen: { alias: 'none', view: (_q, base) => spec.view(base) },
  };
}
