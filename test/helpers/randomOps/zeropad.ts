// ZeroPadding1D on [T, C] and ZeroPadding2D on [H, W, C]: 0..2 zeros on each side, the format kept.
import type { QZeroPad } from '../../../src/ops/zeropad.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

const side = (b: ModelBuilder): [number, number] => [b.int(0, 2), b.int(0, 2)];

export const zeropad1d: OpGenerator = {
  kind: 'zeropad1d',
  input: 'seq',
  add(b: ModelBuilder) {
    const [T, C] = b.current.shape;
    const padding = side(b);
    const layer: QZeroPad<[number, number]> = {
      ...b.base('zeropad1d', [T + padding[0] + padding[1], C]),
      kind: 'zeropad1d',
      padding,
      frac: b.current.frac,
    };
    b.push(layer, b.current.frac);
  },
};

export const zeropad2d: OpGenerator = {
  kind: 'zeropad2d',
  input: 'image',
  add(b: ModelBuilder) {
    const [H, W, C] = b.current.shape;
    const padding: [[number, number], [number, number]] = [side(b), side(b)];
    const out = [H + padding[0][0] + padding[0][1], W + padding[1][0] + padding[1][1], C];
    const layer: QZeroPad<[[number, number], [number, number]]> = {
      ...b.base('zeropad2d', out),
      kind: 'zeropad2d',
      padding,
      frac: b.current.frac,
    };
    b.push(layer, b.current.frac);
  },
};
