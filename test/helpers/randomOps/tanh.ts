// Random tanh layers (src/ops/tanh.ts): a table activation of the current tensor to a random format.
import type { OpGenerator } from './builder.js';
import { tableOf } from './activationBranch.js';

export const tanh: OpGenerator = {
  kind: 'tanh',
  input: 'any',
  add: (b) => void tableOf(b, 'tanh'),
};
