// ZeroPadding1D (Keras): `padding` = [left, right] zero time steps around [T, C], in the input's format.
// tfjs has no ZeroPadding1D layer, so model.json gets this small one under the Keras class name.
import * as tf from '@tensorflow/tfjs';
import { onnxPad } from './onnxFields.js';
import { kerasPads, padPair, zeroPadOp, type PadRank } from './zeropad.js';
import { padTflite } from './tfliteFields.js';

/** The Keras layer, for model.json (the importer reads its class name and `padding`). */
class ZeroPadding1D extends tf.layers.Layer {
  static className = 'ZeroPadding1D';
  private readonly pad: [number, number];
  constructor(args: { name: string; padding: [number, number] }) {
    super({ name: args.name });
    this.pad = args.padding;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, t, c] = s as tf.Shape;
    return [n, t === null ? null : t + this.pad[0] + this.pad[1], c];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [[0, 0], this.pad, [0, 0]]);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: [...this.pad] };
  }
}
tf.serialization.registerClass(ZeroPadding1D);

const RANK: PadRank<[number, number]> = {
  rank: 1,
  schema: padPair,
  pads: (p) => [p],
  fromKeras: (l, k) => kerasPads(l, k, l.config.padding ?? 1),
  onnx: onnxPad(1),
  tfjsLayer: (name, p) => new ZeroPadding1D({ name, padding: p }),
  tflite: padTflite('zeropad1d', 1),
};

export const zeropad1d = zeroPadOp('zeropad1d', 'ZeroPadding1D', RANK);
