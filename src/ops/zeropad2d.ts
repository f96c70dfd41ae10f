// ZeroPadding2D (Keras): `padding` = [[top, bottom], [left, right]] zeros around the positions of
// [H, W, C], in the input's format.
import * as tf from '@tensorflow/tfjs';
import { onnxPad } from './onnxFields.js';
import { z } from 'zod';
import { kerasPads, padPair, zeroPadOp, type PadRank } from './zeropad.js';
import { padTflite } from './tfliteFields.js';

type Pads2D = [[number, number], [number, number]];

const RANK: PadRank<Pads2D> = {
  rank: 2,
  schema: z.tuple([padPair, padPair]),
  pads: (p) => [p[0], p[1]],
  fromKeras(l, k) {
    const v: unknown = l.config.padding ?? 1;
    // An int pads all four sides; a pair of ints is (rows, columns) padded symmetrically.
    if (Array.isArray(v) && v.length === 2) return [kerasPads(l, k, v[0]), kerasPads(l, k, v[1])];
    const n = kerasPads(l, k, v);
    return [n, [...n]];
  },
  onnx: onnxPad(2),
  tfjsLayer: (name, p) => tf.layers.zeroPadding2d({ name, padding: p }),
  tflite: padTflite('zeropad2d', 2, 'zeropad1d'),
};

export const zeropad2d = zeroPadOp('zeropad2d', 'ZeroPadding2D', RANK);
