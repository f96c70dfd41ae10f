// `--budget FLASH_KB[,RAM_KB]`: the most accurate sweep point that fits.
import { TinyforgeError } from '../util/errors.js';

/** Sizes in the budget are kB of 1024 bytes, as flash and RAM sizes are quoted in datasheets. */
export const KB = 1024;

export interface Budget {
  flashBytes: number;
  ramBytes?: number;
}

/** Parses "32" or "32,8" (kB, decimals allowed). */
export function parseBudget(text: string): Budget {
  const parts = text.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length > 2 || parts.some((p) => p === '') || nums.some((n) => !(Number.isFinite(n) && n > 0)))
    throw new TinyforgeError(
      `--budget ${text} is not FLASH_KB or FLASH_KB,RAM_KB`,
      'usage',
      'for example --budget 32 (32 kB of model flash) or --budget 32,8 (and 8 kB of RAM); 1 kB = 1024 B',
    );
  return { flashBytes: nums[0] * KB, ramBytes: nums.length > 1 ? nums[1] * KB : undefined };
}

/** What budget selection needs of a point. */
export interface BudgetCandidate {
  label: string;
  ok: boolean;
  /** The memory the front is computed on (model flash, or coded bytes without a target stage). */
  memory?: number;
  ram?: number;
  error?: number;
}

export interface BudgetChoice<T extends BudgetCandidate> {
  best?: T;
  /** Points under the budget. */
  fitting: number;
  /** Smallest memory of any successful point, to say how far off the budget is. */
  smallestMemory?: number;
}

/**
 * Lowest error under the budget; ties go to less memory, then less RAM, then the label, so the
 * answer never depends on the order of the results.
 */
export function selectForBudget<T extends BudgetCandidate>(
  points: readonly T[],
  budget: Budget,
): BudgetChoice<T> {
  const usable = points.filter((p) => p.ok && p.memory !== undefined && p.error !== undefined);
  if (budget.ramBytes !== undefined && usable.length > 0 && usable.every((p) => p.ram === undefined))
    throw new TinyforgeError(
      'a RAM budget needs RAM measured on the target, and no point of this sweep has it',
      'usage',
      'give only the flash budget, or run the sweep with the on-target stage connected',
    );
  const fits = usable.filter(
    (p) =>
      p.memory! <= budget.flashBytes &&
      (budget.ramBytes === undefined || (p.ram !== undefined && p.ram <= budget.ramBytes)),
  );
  fits.sort(
    (a, b) =>
      a.error! - b.error! ||
      a.memory! - b.memory! ||
      (a.ram ?? Infinity) - (b.ram ?? Infinity) ||
      (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
  const smallest = usable.length ? Math.min(...usable.map((p) => p.memory!)) : undefined;
  return { best: fits[0], fitting: fits.length, smallestMemory: smallest };
}
