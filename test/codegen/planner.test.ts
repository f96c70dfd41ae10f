// The memory planner against a brute-force lifetime computation on random sequential graphs:
// no two tensors live at the same step share bytes (unless one is a view / in-place result of the
// other), scratch never overlaps a live tensor, and the arena is no larger than the largest sum of
// live tensors plus scratch.
import { describe, expect, it } from 'vitest';
import { alignUp, planMemory, type AliasKind, type PlanStep } from '../../src/codegen/planner.js';
import { makeRng, pick, randInt } from '../helpers/randomModel.js';

interface Graph {
  inputBytes: number;
  steps: PlanStep[];
}

function randomGraph(seed: number): Graph {
  const rng = makeRng(seed);
  const inputBytes = randInt(rng, 1, 400);
  const n = randInt(rng, 1, 12);
  const steps: PlanStep[] = [];
  let bytes = inputBytes;
  for (let j = 0; j < n; j++) {
    const alias: AliasKind = pick(rng, ['none', 'none', 'none', 'view', 'inplace'] as const);
    const outBytes = alias === 'none' ? randInt(rng, 1, 400) : bytes;
    const scratchBytes = rng() < 0.4 ? randInt(rng, 1, 300) : 0;
    steps.push({ name: `s${j}`, outBytes, alias, scratchBytes });
    bytes = outBytes;
  }
  return { inputBytes, steps };
}

/**
 * Brute force, from the definitions: tensor t (0 = input, t = output of step t - 1) is live from
 * its producer step t - 1 to its consumer step t (the last tensor until the end). Storage groups:
 * a view shares its input's storage; an in-place step too, unless that storage is the caller's
 * input (read-only).
 */
function bruteForce(g: Graph) {
  const n = g.steps.length;
  const bytes = [g.inputBytes, ...g.steps.map((s) => s.outBytes)];
  const group = [0];
  for (let j = 0; j < n; j++) {
    const a = g.steps[j].alias;
    group.push(a === 'view' || (a === 'inplace' && group[j] !== 0) ? group[j] : j + 1);
  }
  const live = (t: number, j: number): boolean => t - 1 <= j && j <= (t === n ? n : t);
  return { n, bytes, group, live };
}

function check(g: Graph): void {
  const plan = planMemory(g.inputBytes, g.steps);
  const { n, bytes, group, live } = bruteForce(g);
  const outGroup = group[n];

  // Ends: the input never moves into the arena; the output is the caller's logits (or the input).
  expect(plan.tensors[0].location).toBe('input');
  expect(plan.tensors[n].location).toBe(outGroup === 0 ? 'input' : 'logits');
  expect(plan.copyOutput).toBe(outGroup === 0);
  for (let t = 0; t <= n; t++) {
    const p = plan.tensors[t];
    expect(p.bytes).toBe(bytes[t]);
    // Only views (never writes) may land on the read-only input.
    if (p.location === 'input') expect(group[t]).toBe(0);
    if (p.location === 'arena') {
      expect(p.offset % 4).toBe(0);
      expect(p.offset).toBeGreaterThanOrEqual(0);
      expect(p.offset + bytes[t]).toBeLessThanOrEqual(plan.arenaBytes);
    }
  }

  let bound = 0;
  for (let j = 0; j < n; j++) {
    const liveArena = [];
    for (let t = 0; t <= n; t++) if (live(t, j) && plan.tensors[t].location === 'arena') liveArena.push(t);
    // Pairwise: distinct storage groups never overlap; one group is one place.
    for (const a of liveArena) {
      for (const b of liveArena) {
        if (a >= b) continue;
        const pa = plan.tensors[a];
        const pb = plan.tensors[b];
        if (group[a] === group[b]) {
          expect(pb.offset).toBe(pa.offset);
        } else {
          const disjoint = pa.offset + bytes[a] <= pb.offset || pb.offset + bytes[b] <= pa.offset;
          expect(disjoint, `step ${j}: tensors ${a} and ${b} overlap`).toBe(true);
        }
      }
    }
    const s = plan.steps[j];
    expect(s.scratchBytes).toBe(g.steps[j].scratchBytes);
    if (s.scratchBytes > 0) {
      expect(s.scratchOffset % 4).toBe(0);
      expect(s.scratchOffset + s.scratchBytes).toBeLessThanOrEqual(plan.arenaBytes);
      for (const t of liveArena) {
        const p = plan.tensors[t];
        const disjoint =
          p.offset + bytes[t] <= s.scratchOffset || s.scratchOffset + s.scratchBytes <= p.offset;
        expect(disjoint, `step ${j}: scratch overlaps tensor ${t}`).toBe(true);
      }
    }
    const groups = new Map(liveArena.map((t) => [group[t], alignUp(bytes[t])]));
    const liveSum = [...groups.values()].reduce((x, y) => x + y, 0) + alignUp(g.steps[j].scratchBytes);
    bound = Math.max(bound, liveSum);
  }
  expect(plan.arenaBytes).toBeLessThanOrEqual(bound);
}

describe('planMemory', () => {
  it('places 2000 random sequential graphs without overlap, within the live-size bound', () => {
    for (let seed = 1; seed <= 2000; seed++) check(randomGraph(seed));
  });

  it('is ping-pong for a plain chain: the arena is the largest adjacent pair', () => {
    // input 100 -> 300 -> 50 -> 200 -> logits 10: pairs (arena only) 300+50, 50+200.
    const steps: PlanStep[] = [300, 50, 200, 10].map((b, i) => ({
      name: `s${i}`,
      outBytes: b,
      alias: 'none',
      scratchBytes: 0,
    }));
    const plan = planMemory(100, steps);
    expect(plan.arenaBytes).toBe(352); // 300 + 52 (50 aligned to 4)
    expect(plan.tensors.map((t) => t.location)).toEqual(['input', 'arena', 'arena', 'arena', 'logits']);
  });

  it('aliases Flatten and in-place ReLU, never writes the input in place', () => {
    const plan = planMemory(20, [
      { name: 'relu0', outBytes: 20, alias: 'inplace', scratchBytes: 0 },
      { name: 'conv', outBytes: 40, alias: 'none', scratchBytes: 12 },
      { name: 'relu', outBytes: 40, alias: 'inplace', scratchBytes: 0 },
      { name: 'flatten', outBytes: 40, alias: 'view', scratchBytes: 0 },
      { name: 'dense', outBytes: 3, alias: 'none', scratchBytes: 0 },
    ]);
    const [input, relu0, conv, relu, flat, out] = plan.tensors;
    expect(input.location).toBe('input');
    expect(relu0.location).toBe('arena'); // a ReLU of the input must not overwrite it
    expect(relu.buffer).toBe(conv.buffer);
    expect(flat.buffer).toBe(conv.buffer);
    expect(out.location).toBe('logits');
    // Largest step: relu0 (20) + conv (40) + its scratch (12).
    expect(plan.arenaBytes).toBe(20 + 40 + 12);
  });

  it('copies when the output is a view of the input', () => {
    const plan = planMemory(12, [{ name: 'flatten', outBytes: 12, alias: 'view', scratchBytes: 0 }]);
    expect(plan.copyOutput).toBe(true);
    expect(plan.arenaBytes).toBe(0);
  });
});
