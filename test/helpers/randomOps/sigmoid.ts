// Random sigmoid layers (src/ops/sigmoid.ts): a table activation of the current tensor to a random format.
import type { OpGenerator } from './builder.js';
import { tableOf } from './activationBranch.js';

export const sigmoid: OpGenerator = {
  kind: 'sigmoid',
  input: 'any',
  add: (b) => void tableOf(b, 'sigmoid'),
};
