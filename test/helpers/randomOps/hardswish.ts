// Random hardswish layers (src/ops/hardswish.ts): a table activation of the current tensor to a random format.
import type { OpGenerator } from './builder.js';
import { tableOf } from './activationBranch.js';

export const hardswish: OpGenerator = {
  kind: 'hardswish',
  input: 'any',
  add: (b) => void tableOf(b, 'hardswish'),
};
