// The kernel family of each layer (--ram small|fast|auto[:BYTES]) and the memory plan it gives.
//
// 'fast' plans exactly as before the small-RAM kernels existed (byte-identical C). 'small' takes the
// small kernel of every layer that has one and lets 1D pooling shrink over its input. 'auto' plans
// like 'small' but keeps each layer's fast kernel unless the arena would exceed the budget: starting
// from all fast, it moves to small the fast layer that saves the most scratch among the steps over
// the budget, until the arena fits or no step over it has a small kernel left. The budget is BYTES,
// else the liveness optimum + AUTO_SLACK_BYTES (room for the small kernels' accumulators on the
// stack: model RAM = arena + inference stack stays near the optimum).
import type { Prepared } from '../ops/types.js';
import { planMemory, type MemoryPlan, type PlanStep } from './planner.js';
import type { RamOption } from './viewTypes.js';

/** Default slack of --ram auto over the liveness optimum (bytes of arena). */
export const AUTO_SLACK_BYTES = 256;

export interface RamChoice {
  plan: MemoryPlan;
  /** Per layer: the prepared kernel taken. */
  prepared: (Prepared | undefined)[];
  /** Per layer: the small kernel was taken. */
  small: boolean[];
  /** Per layer: the operator has a small kernel for it. */
  hasSmall: boolean[];
  /** The arena budget of 'auto', else null. */
  budget: number | null;
}

/** Plan steps of the layers with the given kernels (scratch of each). */
export type StepsOf = (prepared: (Prepared | undefined)[]) => PlanStep[];

export function chooseKernels(
  inputBytes: number,
  stepsOf: StepsOf,
  fast: (Prepared | undefined)[],
  small: (Prepared | undefined)[],
  ram: RamOption,
): RamChoice {
  const plan = (pick: boolean[]): MemoryPlan =>
    planMemory(inputBytes, stepsOf(pick.map((s, i) => (s ? small[i] : fast[i]))), {
      shrink: ram.mode !== 'fast',
    });
  const has = small.map((p) => p?.small === true);
  const result = (pick: boolean[], budget: number | null): RamChoice => ({
    plan: plan(pick),
    prepared: pick.map((s, i) => (s ? small[i] : fast[i])),
    small: pick,
    hasSmall: has,
    budget,
  });
  if (ram.mode === 'fast')
    return result(
      has.map(() => false),
      null,
    );
  if (ram.mode === 'small') return result(has, null);
  const pick = has.map(() => false);
  let current = plan(pick);
  const budget = ram.bytes ?? current.livenessBytes + AUTO_SLACK_BYTES;
  while (current.arenaBytes > budget) {
    const saving = (i: number): number => (fast[i]?.scratchBytes ?? 0) - (small[i]?.scratchBytes ?? 0);
    const over = current.steps
      .map((s, i) => ({ i, over: s.liveBytes > budget }))
      .filter(({ i, over }) => over && has[i] && !pick[i] && saving(i) > 0)
      .sort((a, b) => saving(b.i) - saving(a.i));
    if (over.length === 0) break;
    pick[over[0].i] = true;
    current = plan(pick);
  }
  return {
    plan: current,
    prepared: pick.map((s, i) => (s ? small[i] : fast[i])),
    small: pick,
    hasSmall: has,
    budget,
  };
}

/**
 * Parses --ram: 'fast', 'small', 'auto' or 'auto:BYTES' (a positive integer). Returns null for
 * anything else (the caller names the flag in its error).
 */
export function parseRamOption(text: string): RamOption | null {
  if (text === 'fast' || text === 'small' || text === 'auto') return { mode: text };
  const m = /^auto:([1-9][0-9]{0,8})$/.exec(text);
  return m ? { mode: 'auto', bytes: Number(m[1]) } : null;
}

/** The option as the command line writes it. */
export function ramOptionText(ram: RamOption): string {
  return ram.mode === 'auto' && ram.bytes !== undefined ? `auto:${ram.bytes}` : ram.mode;
}

/** The layers that asked for a small-RAM kernel and kept the fast one (build warning, compile report). */
export function fastKeptWarning(layers: string[]): string {
  return `--ram: no small-RAM kernel for ${layers.join(', ')} (its scratch stays in the arena): fast kernel kept`;
}
