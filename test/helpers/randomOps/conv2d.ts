// Conv2D: random (kh, kw), strides 1..2 or dilation 1..3 (Keras allows one of them above 1), same or
// valid padding, sometimes pointwise (1x1, stride 1), over the current image.
import type { QConv2D } from '../../../src/ops/conv2d.js';
import { outLength, padLeft, type Padding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

type Pair = [number, number];

export const conv2d: OpGenerator = {
  kind: 'conv2d',
  input: 'image',
  add(b: ModelBuilder) {
    const [H, W, C] = b.current.shape;
    const pointwise = b.chance(0.25);
    const dilated = !pointwise && b.chance(0.4);
    let k: Pair = pointwise ? [1, 1] : [b.int(1, Math.min(4, H)), b.int(1, Math.min(4, W))];
    const strides: Pair = dilated || pointwise ? [1, 1] : [b.int(1, 2), b.int(1, 2)];
    let dilation: Pair = dilated ? [b.int(1, 3), b.int(1, 3)] : [1, 1];
    const padding: Padding = b.chance(0.5) ? 'same' : 'valid';
    const out = (): Pair => [
      outLength(H, k[0], strides[0], padding, dilation[0]),
      outLength(W, k[1], strides[1], padding, dilation[1]),
    ];
    if (out().some((n) => n < 1)) {
      k = [1, 1];
      dilation = [1, 1];
    }
    const [OH, OW] = out();
    // Multiples of 4 make the next pointwise layer take the fast path (MacView.pointwise).
    const filters = b.chance(0.3) ? 4 * b.int(1, 3) : b.int(1, 9);
    const w = b.weighted(filters, k[0] * k[1] * C, b.chance(0.7));
    const layer: QConv2D = {
      ...b.base('conv2d', [OH, OW, filters]),
      kind: 'conv2d',
      filters,
      kernelSize: k,
      strides,
      dilation,
      padding,
      pad: [
        padLeft(H, k[0], strides[0], padding, dilation[0]),
        padLeft(W, k[1], strides[1], padding, dilation[1]),
      ],
      ...w,
    };
    b.push(layer, w.outFrac);
  },
};
