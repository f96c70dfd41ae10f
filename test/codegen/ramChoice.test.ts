// --ram: parsing, the liveness optimum (brute force over random chains with shrinking pools), the
// shrinking placement (no two tensors live at one step share bytes), and the auto choice (fast
// kernels exactly where they fit the budget).
import { describe, expect, it } from 'vitest';
import { alignUp, livenessOptimum, planMemory, type PlanStep } from '../../src/codegen/planner.js';
import { chooseKernels, parseRamOption } from '../../src/codegen/ramChoice.js';
import type { Prepared } from '../../src/ops/types.js';
import { ramFrom } from '../../src/cli/ramOption.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { makeRng, randInt } from '../helpers/randomModel.js';

describe('parseRamOption', () => {
  it('accepts small, fast, auto and auto:BYTES', () => {
    expect(parseRamOption('small')).toEqual({ mode: 'small' });
    expect(parseRamOption('fast')).toEqual({ mode: 'fast' });
    expect(parseRamOption('auto')).toEqual({ mode: 'auto' });
    expect(parseRamOption('auto:4096')).toEqual({ mode: 'auto', bytes: 4096 });
  });
  it('rejects anything else, and the CLI names the flag', () => {
    for (const bad of ['', 'Small', 'auto:', 'auto:0', 'auto:-1', 'auto:1.5', 'auto:4k', 'fast:10', 'tiny'])
      expect(parseRamOption(bad), bad).toBeNull();
    expect(() => ramFrom('tiny')).toThrow(TinyforgeError);
    expect(() => ramFrom('tiny')).toThrow(/--ram tiny/);
  });
});

/** A random chain: weighted-like steps with scratch, pools that halve (shrink), ReLUs in place. */
function randomChain(seed: number): { input: number; steps: PlanStep[] } {
  const rng = makeRng(seed);
  let bytes = randInt(rng, 8, 300);
  const input = bytes;
  const steps: PlanStep[] = [];
  const n = randInt(rng, 1, 10);
  for (let j = 0; j < n; j++) {
    const r = rng();
    if (r < 0.3 && bytes >= 2) {
      bytes = Math.max(1, Math.floor(bytes / randInt(rng, 1, 3)));
      steps.push({ name: `pool${j}`, outBytes: bytes, alias: 'shrink', scratchBytes: 0 });
    } else if (r < 0.45) {
      steps.push({ name: `relu${j}`, outBytes: bytes, alias: 'inplace', scratchBytes: 0 });
    } else {
      bytes = randInt(rng, 1, 400);
      steps.push({
        name: `w${j}`,
        outBytes: bytes,
        alias: 'none',
        scratchBytes: rng() < 0.5 ? randInt(rng, 1, 200) : 0,
      });
    }
  }
  return { input, steps };
}

/**
 * Brute force from the definitions: tensor t (output of step t - 1) lives from step t - 1 to step t
 * (a chain); a shrink or in-place step's output shares its input's bytes unless that input is the
 * caller's; the last tensor is the caller's logits. Per step: the live arena tensors, those sharing
 * bytes counted once at the larger.
 */
function bruteLiveness(input: number, steps: PlanStep[]): number {
  const n = steps.length;
  const bytes = [input, ...steps.map((s) => s.outBytes)];
  const group = [0];
  for (let j = 0; j < n; j++) {
    const shares = steps[j].alias !== 'none' && group[j] !== 0;
    group.push(shares ? group[j] : j + 1);
  }
  let best = 0;
  for (let j = 0; j < n; j++) {
    const live = [j, j + 1].filter((t) => group[t] !== 0 && group[t] !== group[n]);
    const per = new Map<number, number>();
    for (const t of live) per.set(group[t], Math.max(per.get(group[t]) ?? 0, alignUp(bytes[t])));
    best = Math.max(
      best,
      [...per.values()].reduce((a, b) => a + b, 0),
    );
  }
  return best;
}

describe('liveness optimum and shrinking placement', () => {
  it('equals the brute-force optimum, whatever the plan options', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { input, steps } = randomChain(seed);
      const want = bruteLiveness(input, steps);
      expect(livenessOptimum([input, ...steps.map((s) => s.outBytes)], steps), `seed ${seed}`).toBe(want);
      expect(planMemory(input, steps).livenessBytes).toBe(want);
      expect(planMemory(input, steps, { shrink: true }).livenessBytes).toBe(want);
    }
  });

  it('never overlaps tensors live at one step, nor scratch, and shrinks only when asked', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { input, steps } = randomChain(seed);
      for (const shrink of [false, true]) {
        const plan = planMemory(input, steps, { shrink });
        const n = steps.length;
        for (let j = 0; j < n; j++) {
          const spans: [number, number, number][] = [];
          for (const t of [j, j + 1]) {
            const p = plan.tensors[t];
            if (p.location === 'arena') spans.push([p.offset, p.offset + alignUp(p.bytes), p.buffer]);
          }
          const s = plan.steps[j];
          if (s.scratchBytes > 0)
            spans.push([s.scratchOffset, s.scratchOffset + alignUp(s.scratchBytes), -1 - j]);
          for (const [a0, a1, ba] of spans) {
            expect(a1, `seed ${seed} step ${j}`).toBeLessThanOrEqual(plan.arenaBytes);
            for (const [b0, b1, bb] of spans)
              if (ba !== bb)
                expect(a1 <= b0 || b1 <= a0, `seed ${seed} step ${j} shrink ${shrink}`).toBe(true);
          }
          if (steps[j].alias === 'shrink' && !shrink) expect(s.aliased).toBe(false);
        }
        if (!shrink) {
          // Without shrinking, a 'shrink' step is 'none': the plan of today's fast builds.
          const none = steps.map((x) => (x.alias === 'shrink' ? { ...x, alias: 'none' as const } : x));
          expect(plan.arenaBytes).toBe(planMemory(input, none).arenaBytes);
        }
      }
    }
  });

  it('puts a pooled output over its input (har-default: 3,072 B conv output, 1,536 B pool output)', () => {
    const steps: PlanStep[] = [
      { name: 'conv', outBytes: 3072, alias: 'none', scratchBytes: 0 },
      { name: 'pool', outBytes: 1536, alias: 'shrink', scratchBytes: 0 },
      { name: 'conv2', outBytes: 2048, alias: 'none', scratchBytes: 0 },
      { name: 'dense', outBytes: 6, alias: 'none', scratchBytes: 0 },
    ];
    const plan = planMemory(1152, steps, { shrink: true });
    expect(plan.tensors[2].offset).toBe(plan.tensors[1].offset);
    expect(plan.livenessBytes).toBe(1536 + 2048);
    expect(plan.arenaBytes).toBe(1536 + 2048);
    expect(planMemory(1152, steps).arenaBytes).toBe(3072 + 1536);
  });
});

describe('--ram auto', () => {
  // Three weighted steps; the fast kernels need 1,000 B of scratch, the small ones none.
  const steps = (prepared: (Prepared | undefined)[]): PlanStep[] =>
    [400, 200, 100].map((outBytes, i) => ({
      name: `w${i}`,
      outBytes,
      alias: 'none',
      scratchBytes: prepared[i]?.scratchBytes ?? 0,
    }));
  const fast: Prepared[] = [1000, 1000, 1000].map((s) => ({ scratchBytes: s, data: 'fast' }));
  const small: Prepared[] = [0, 0, 0].map((s) => ({ scratchBytes: s, data: 'small', small: true }));

  it('keeps fast kernels exactly at the steps that fit the budget', () => {
    // Steps live: 400 (+1000), 400 + 200 (+1000), 200 + logits (+1000).
    const c = chooseKernels(100, steps, fast, small, { mode: 'auto', bytes: 1300 });
    expect(c.small).toEqual([true, true, false]);
    expect(c.plan.arenaBytes).toBeLessThanOrEqual(1300);
    expect(c.budget).toBe(1300);
  });

  it('defaults the budget to the liveness optimum + 256 B, and gives small or fast everywhere when asked', () => {
    const c = chooseKernels(100, steps, fast, small, { mode: 'auto' });
    expect(c.budget).toBe(600 + 256);
    expect(c.small).toEqual([true, true, true]);
    expect(chooseKernels(100, steps, fast, small, { mode: 'small' }).small).toEqual([true, true, true]);
    expect(chooseKernels(100, steps, fast, small, { mode: 'fast' }).small).toEqual([false, false, false]);
    expect(chooseKernels(100, steps, fast, small, { mode: 'auto', bytes: 100_000 }).small).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('stops when no step over the budget has a small kernel left (fast kept, reported)', () => {
    const none = [undefined, { scratchBytes: 1000, data: 'fast' }, undefined];
    const c = chooseKernels(100, steps, fast, none, { mode: 'auto', bytes: 10 });
    expect(c.small).toEqual([false, false, false]);
    expect(c.hasSmall).toEqual([false, false, false]);
  });
});
