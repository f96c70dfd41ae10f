// Validation split: whole subjects taken out of the training split, chosen deterministically, so
// that validation accuracy (early stopping) measures generalization to unseen people, as the test does.
import { TinyforgeError } from '../util/errors.js';
import { subset, type WindowSet } from './dataset.js';
import { Rng } from './prng.js';

export interface ValidationSplit {
  train: WindowSet;
  val: WindowSet;
  valSubjects: number[];
}

/**
 * Moves whole subjects (in an order shuffled by `seed`) into validation until it holds at least
 * `fraction` of the windows. Without subject ids, windows are split individually.
 */
export function splitBySubject(set: WindowSet, fraction: number, seed: number): ValidationSplit {
  if (!(fraction > 0 && fraction < 1))
    throw new TinyforgeError(`validation fraction ${fraction} must be between 0 and 1`, 'usage');
  const rng = Rng.derive(seed, 'validation-split');
  if (!set.subjects) {
    const order = rng.shuffle(Array.from({ length: set.n }, (_, i) => i));
    const nVal = Math.max(1, Math.round(set.n * fraction));
    const val = order.slice(0, nVal).sort((a, b) => a - b);
    const train = order.slice(nVal).sort((a, b) => a - b);
    return { train: subset(set, train), val: subset(set, val), valSubjects: [] };
  }
  const ids = [...new Set(set.subjects)].sort((a, b) => a - b);
  if (ids.length < 2)
    throw new TinyforgeError('a validation split by subject needs at least two subjects', 'input');
  rng.shuffle(ids);
  const count = new Map<number, number>();
  for (const s of set.subjects) count.set(s, (count.get(s) ?? 0) + 1);
  const chosen = new Set<number>();
  let taken = 0;
  for (const s of ids) {
    if (taken >= fraction * set.n || chosen.size === ids.length - 1) break;
    chosen.add(s);
    taken += count.get(s)!;
  }
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < set.n; i++) (chosen.has(set.subjects[i]) ? val : train).push(i);
  return { train: subset(set, train), val: subset(set, val), valSubjects: [...chosen].sort((a, b) => a - b) };
}
