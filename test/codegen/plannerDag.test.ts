// The memory planner on graphs whose steps read any earlier tensor (the DAG of src/graph): from
// the definitions, a tensor is live from its producing step to the last step that reads it; no two
// buffers live at the same step share bytes, scratch never overlaps a live buffer, an in-place step
// never overwrites a tensor that a later step still reads.
import { describe, expect, it } from 'vitest';
import {
  alignUp,
  planMemory,
  type AliasKind,
  type MemoryPlan,
  type PlanStep,
} from '../../src/codegen/planner.js';
import { makeRng, pick, randInt } from '../helpers/randomModel.js';

function randomDag(seed: number): { inputBytes: number; steps: PlanStep[] } {
  const rng = makeRng(seed);
  const inputBytes = randInt(rng, 1, 300);
  const n = randInt(rng, 2, 10);
  const bytes = [inputBytes];
  const steps: PlanStep[] = [];
  for (let j = 0; j < n; j++) {
    // Mostly the previous tensor, sometimes an older one (a skip connection's branch).
    const src = rng() < 0.35 ? randInt(rng, 0, j) : j;
    // Sometimes a second input (a residual Add or a Concatenate joining two branches).
    const inputs = rng() < 0.25 && src !== j ? [src, j] : [src];
    const alias: AliasKind = pick(rng, ['none', 'none', 'view', 'inplace'] as const);
    const outBytes = alias === 'none' ? randInt(rng, 1, 300) : bytes[src];
    steps.push({
      name: `s${j}`,
      inputs,
      outBytes,
      alias,
      scratchBytes: rng() < 0.4 ? randInt(rng, 1, 200) : 0,
    });
    bytes.push(outBytes);
  }
  return { inputBytes, steps };
}

function check(inputBytes: number, steps: PlanStep[]): MemoryPlan & { bound: number } {
  const plan = planMemory(inputBytes, steps);
  const n = steps.length;
  const reads = steps.map((s) => s.inputs!);
  // Liveness from the definitions: producer step .. last reader (the output lives to the end).
  const lastRead = Array.from({ length: n + 1 }, (_, t) => (t === n ? n : t - 1));
  reads.forEach((ins, j) => ins.forEach((t) => (lastRead[t] = Math.max(lastRead[t], j))));
  const live = (t: number, j: number): boolean => t - 1 <= j && j <= lastRead[t];
  const sameBuffer = (a: number, b: number): boolean => plan.tensors[a].buffer === plan.tensors[b].buffer;
  for (let j = 0; j < n; j++) {
    const arena = plan.tensors.filter((p, t) => live(t, j) && p.location === 'arena');
    for (const a of arena)
      for (const b of arena) {
        if (a.tensor >= b.tensor || sameBuffer(a.tensor, b.tensor)) continue;
        const disjoint = a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset;
        expect(disjoint, `step ${j}: tensors ${a.tensor} and ${b.tensor} overlap`).toBe(true);
      }
    const s = plan.steps[j];
    if (s.scratchBytes > 0) {
      expect(s.scratchOffset + alignUp(s.scratchBytes)).toBeLessThanOrEqual(plan.arenaBytes);
      for (const p of arena) {
        const disjoint =
          p.offset + p.bytes <= s.scratchOffset || s.scratchOffset + s.scratchBytes <= p.offset;
        expect(disjoint, `step ${j}: scratch overlaps tensor ${p.tensor}`).toBe(true);
      }
    }
    // Writing in place destroys the input: only when no later step reads it.
    if (s.aliased && steps[j].alias === 'inplace') expect(lastRead[reads[j][0]]).toBe(j);
  }
  for (const p of plan.tensors)
    if (p.location === 'arena') expect(p.offset + p.bytes).toBeLessThanOrEqual(plan.arenaBytes);
  // The liveness optimum from the definitions: distinct arena buffers live at a step (the graph's,
  // without scratch); with the step's scratch added, the lower bound of any arena.
  let optimum = 0;
  let bound = 0;
  for (let j = 0; j < n; j++) {
    const owners = new Set(
      plan.tensors.filter((p, t) => live(t, j) && p.location === 'arena').map((p) => p.buffer),
    );
    let sum = 0;
    for (const b of owners) sum += alignUp(plan.tensors[b].bytes);
    optimum = Math.max(optimum, sum);
    bound = Math.max(bound, sum + alignUp(steps[j].scratchBytes));
  }
  expect(plan.livenessBytes).toBe(optimum);
  expect(plan.arenaBytes).toBeGreaterThanOrEqual(bound);
  return Object.assign(plan, { bound });
}

describe('planMemory on graphs with branches', () => {
  it('places 2000 random graphs without overlap of live buffers or scratch, never below the optimum', () => {
    let optimal = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const g = randomDag(seed);
      const plan = check(g.inputBytes, g.steps);
      if (plan.arenaBytes === plan.bound) optimal++;
    }
    // First fit is a heuristic, but most small graphs leave it no room to waste.
    expect(optimal).toBeGreaterThan(1000);
  });

  it('reaches the lower bound on chains (ping-pong), the liveness optimum without scratch', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = makeRng(seed);
      const steps: PlanStep[] = Array.from({ length: randInt(rng, 1, 8) }, (_, i) => ({
        name: `s${i}`,
        outBytes: randInt(rng, 1, 300),
        alias: pick(rng, ['none', 'view', 'inplace'] as const),
        scratchBytes: rng() < 0.5 ? randInt(rng, 1, 100) : 0,
      }));
      for (let i = 0; i < steps.length; i++)
        if (steps[i].alias !== 'none') steps[i].outBytes = i === 0 ? 50 : steps[i - 1].outBytes;
      const plan = check(
        50,
        steps.map((s, i) => ({ ...s, inputs: [i] })),
      );
      // Live tensors plus scratch of the busiest step, and without scratch the liveness optimum.
      expect(plan.arenaBytes).toBe(plan.bound);
      const noScratch = planMemory(
        50,
        steps.map((s) => ({ ...s, scratchBytes: 0 })),
      );
      expect(noScratch.arenaBytes).toBe(plan.livenessBytes);
    }
  });

  it('keeps a tensor another branch still reads: an in-place ReLU of it gets its own buffer', () => {
    // t1 = conv(input); t2 = relu(t1) in place would destroy t1, which step 2 reads.
    const plan = planMemory(16, [
      { name: 'conv', inputs: [0], outBytes: 40, alias: 'none', scratchBytes: 0 },
      { name: 'relu', inputs: [1], outBytes: 40, alias: 'inplace', scratchBytes: 0 },
      { name: 'pool', inputs: [1], outBytes: 20, alias: 'none', scratchBytes: 0 },
    ]);
    expect(plan.steps[1].aliased).toBe(false);
    const [, conv, relu] = plan.tensors;
    expect(relu.offset + relu.bytes <= conv.offset || conv.offset + conv.bytes <= relu.offset).toBe(true);
  });

  it('gives a chain written with explicit inputs the same plan as without them', () => {
    const plain: PlanStep[] = [300, 50, 200, 10].map((b, i) => ({
      name: `s${i}`,
      outBytes: b,
      alias: 'none',
      scratchBytes: 8 * i,
    }));
    const explicit = plain.map((s, i) => ({ ...s, inputs: [i] }));
    expect(planMemory(100, explicit)).toEqual(planMemory(100, plain));
  });
});
