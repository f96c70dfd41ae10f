// Reshape (Keras Reshape): the same elements in the same order under another shape, e.g. the input
// window [T, C] as [T, C, 1] for the 2D operators, or [H, W, C] as [H*W, C]. Channels-last data
// does not move, so on the target it is a view of its input (no code, no bytes), as Flatten is.
// A target of one dimension [F] is a feature vector [1, F]; one dimension may be -1 (the rest).
import * as tf from '@tensorflow/tfjs';
import { onnxReshape } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { TinyforgeError } from '../util/errors.js';
import { sizeOf, type Layer, type TensorInfo } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import { keepingInt8, keepingOps, quantizeKeeping, type QFormatKeeping } from './formatKeeping.js';
import type { CodegenOps, OpModule } from './types.js';
import type { QLayer } from '../qmodel/model.js';
import type { Int8Q } from './int8.js';

const KIND = 'reshape';
/** The TFLite operators that only change the shape. */
const LAYOUT_OPS = ['RESHAPE', 'SQUEEZE', 'EXPAND_DIMS'];

export interface ReshapeLayer extends Layer {
  kind: 'reshape';
  /** The shape without the batch: 1 to 3 dimensions, at most one -1. */
  targetShape: number[];
}

type ReshapeArgs = Parameters<typeof tf.layers.reshape>[0];
/** The tfjs Reshape class (tfjs exports only its factory). */
const TfReshape = Object.getPrototypeOf(tf.layers.reshape({ targetShape: [1] })).constructor as new (
  args: ReshapeArgs,
) => tf.layers.Layer & { targetShape: (number | null)[] };

/**
 * tfjs's Reshape, saved as Keras 'Reshape', whose output shape resolves a -1 (tfjs leaves it
 * unresolved whenever the batch size is unknown, which breaks the layers after it in a model).
 */
class KerasReshape extends TfReshape {
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, ...rest] = s as tf.Shape;
    if (rest.some((d) => d === null)) return [batch, ...this.targetShape];
    // tfjs keeps the unknown dimension as null.
    const target = this.targetShape.map((d) => d ?? -1);
    const t = resolveTarget(target, sizeOf(rest as number[]));
    if (typeof t === 'string') throw new TinyforgeError(`layer '${this.name}': ${t}`, 'model');
    return [batch, ...t];
  }
}

const dimension = z.union([posInt, z.literal(-1)]);
const targetSchema = z
  .array(dimension)
  .min(1)
  .max(3)
  .refine((t) => t.filter((d) => d === -1).length <= 1, 'at most one dimension may be -1');

/** The target with its -1 resolved to the input's size; a reason when it cannot hold `size` elements. */
export function resolveTarget(target: readonly number[], size: number): number[] | string {
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (!target.includes(-1))
    return known === size
      ? [...target]
      : `target [${target.join(', ')}] holds ${known} elements, not ${size}`;
  if (size % known !== 0) return `no -1 makes [${target.join(', ')}] hold ${size} elements`;
  return target.map((d) => (d === -1 ? size / known : d));
}

function inferReshape(l: ReshapeLayer, x: TensorInfo, fail: (why: string) => never) {
  const t = resolveTarget(l.targetShape, sizeOf(x.shape));
  if (typeof t === 'string') return fail(t);
  return t.length === 1 ? { shape: [1, t[0]], flat: true } : { shape: t, flat: false };
}

/** A Reshape layer (importers put one before a rank-3 network's first operator). */
export function reshapeLayer(name: string, targetShape: number[]): ReshapeLayer {
  return { kind: KIND, name, targetShape: [...targetShape] };
}

/** A view of its input: no code under either scheme. */
const VIEW: CodegenOps<QLayer> = { alias: 'view', view: (_q, base) => ({ ...base, hasCode: false }) };

export const reshape: OpModule<ReshapeLayer, QFormatKeeping> = {
  kind: KIND,
  title: 'Reshape',
  infer: (l, [x], fail) => inferReshape(l, x, fail),
  arch: {
    schema: z.strictObject({ type: z.literal(KIND), name: archName, targetShape: targetSchema }),
    toLayer: (s, { name }) => ({ kind: KIND, name, targetShape: [...(s.targetShape as number[])] }),
  },
  keras: {
    classNames: ['Reshape'],
    fromKeras(l, k) {
      // tfjs writes the unknown dimension as null, Keras as -1.
      const raw: unknown = l.config.target_shape;
      const t = targetSchema.safeParse(Array.isArray(raw) ? raw.map((d: unknown) => d ?? -1) : raw);
      if (!t.success) k.unsupported(l, `target_shape ${JSON.stringify(l.config.target_shape)}`);
      return { layers: [{ kind: KIND, name: l.name, targetShape: t.data! }] };
    },
  },
  tflite: {
    opNames: LAYOUT_OPS,
    fromTflite(ctx) {
      // The output tensor's shape is the target (a RESHAPE's shape input may be computed).
      const t = [...ctx.outShape];
      if (t.length < 1 || t.length > 3) ctx.unsupported(`a result of rank ${t.length + 1} (with the batch)`);
      const x = ctx.inShapes[0];
      const out = t.length === 1 ? [1, t[0]] : t;
      if (out.length === x.length && out.every((d, i) => d === x[i]) && (t.length === 1) === ctx.inFlat[0])
        return { layers: [] };
      // A vector from positions is a Flatten (flatten.ts).
      if (t.length === 1 && !ctx.inFlat[0]) return undefined;
      return { layers: [reshapeLayer(ctx.name, t)] };
    },
    // A unit row [1, W, C] is [W, C] once its layers are 1D.
    collapse1d: (l) => {
      const t = (l as ReshapeLayer).targetShape;
      return t.length === 3 && t[0] === 1 ? { ...l, targetShape: t.slice(1) } : undefined;
    },
  },
  onnx: onnxReshape,
  tfjs: {
    layer: (l) => new KerasReshape({ name: l.name, targetShape: [...l.targetShape] }), // tfjs rewrites its argument,
    forward: (l, [x]) => x.reshape([x.shape[0], ...l.targetShape]),
  },
  floatForward: (_l, _i, _p, [x]) => Float32Array.from(x),
  pruning: {
    // Channels removed before a Reshape would change the shape it names (and move what a channel is).
    keepInputs(l) {
      throw new TinyforgeError(
        `structured pruning cannot remove channels read by Reshape '${l.name}'`,
        'usage',
        'prune without --structured, or only layers after the Reshape',
      );
    },
  },
  quantize: (_l, ctx) => quantizeKeeping(KIND, ctx),
  // The quantized layer names no shape of its own: its outShape is the resolved target.
  quantized: {
    ...keepingOps(KIND, (_q, [x]) => x.slice()),
    toIr: (q) => ({
      kind: KIND,
      name: q.name,
      ...(q.inputs ? { inputs: q.inputs } : {}),
      targetShape: [...q.outShape],
    }),
  },
  codegen: VIEW,
  int8: (() => {
    const k = keepingInt8(KIND, (_q, [x]) => x.slice());
    const toIr = (q: Int8Q): Layer => ({ ...k.quantized.toIr(q), targetShape: [...q.outShape] }) as Layer;
    return { ...k, quantized: { ...k.quantized, toIr }, codegen: VIEW };
  })(),
};
