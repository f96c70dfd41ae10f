// --budget: parsing FLASH_KB[,RAM_KB] and picking the most accurate point that fits.
import { describe, expect, it } from 'vitest';
import { parseBudget, selectForBudget, type BudgetCandidate } from '../../src/sweep/budget.js';
import { paretoFront } from '../../src/sweep/pareto.js';
import { TinyforgeError } from '../../src/util/errors.js';

const c = (label: string, memory: number, error: number, ram?: number, ok = true): BudgetCandidate => ({
  label,
  ok,
  memory,
  error,
  ram,
});

describe('parseBudget', () => {
  it('reads kB of 1024 bytes, RAM optional', () => {
    expect(parseBudget('32')).toEqual({ flashBytes: 32768, ramBytes: undefined });
    expect(parseBudget('7.5, 4')).toEqual({ flashBytes: 7680, ramBytes: 4096 });
  });
  it('rejects anything else with a usage error', () => {
    for (const bad of ['', 'abc', '0', '-3', '1,2,3', '4,', ',4'])
      expect(() => parseBudget(bad), bad).toThrow(TinyforgeError);
  });
});

describe('selectForBudget', () => {
  const points = [
    c('tiny', 5000, 0.2, 3000),
    c('small', 9000, 0.12, 6000),
    c('small-big-ram', 9500, 0.1, 20000),
    c('mid', 20000, 0.08, 7000),
    c('huge', 90000, 0.05, 9000),
    c('broken', 1000, 0.01, 1000, false),
  ];

  it('lowest error under the flash budget; failed points never count', () => {
    expect(selectForBudget(points, { flashBytes: 10 * 1024 }).best?.label).toBe('small-big-ram');
    expect(selectForBudget(points, { flashBytes: 10 * 1024 }).fitting).toBe(3);
    expect(selectForBudget(points, { flashBytes: 100 * 1024 }).best?.label).toBe('huge');
  });

  it('the RAM budget removes points that need more', () => {
    expect(selectForBudget(points, { flashBytes: 10 * 1024, ramBytes: 8 * 1024 }).best?.label).toBe('small');
  });

  it('nothing fits: no answer, and the smallest working point is reported', () => {
    const r = selectForBudget(points, { flashBytes: 4 * 1024 });
    expect(r.best).toBeUndefined();
    expect(r.smallestMemory).toBe(5000);
  });

  it('ties go to less memory, whatever the order', () => {
    const tied = [c('b', 8000, 0.1), c('a', 6000, 0.1), c('c', 7000, 0.1)];
    expect(selectForBudget(tied, { flashBytes: 10 * 1024 }).best?.label).toBe('a');
    expect(selectForBudget([...tied].reverse(), { flashBytes: 10 * 1024 }).best?.label).toBe('a');
  });

  it('a RAM budget without RAM figures is a usage error', () => {
    const noRam = [c('x', 1000, 0.1), c('y', 2000, 0.05)];
    expect(() => selectForBudget(noRam, { flashBytes: 4096, ramBytes: 4096 })).toThrow(
      /RAM measured on the target/,
    );
  });

  it('the answer is always a point of the Pareto front', () => {
    const ok = points.filter((p) => p.ok);
    const front = new Set(
      paretoFront(ok.map((p) => ({ memory: p.memory!, error: p.error! }))).map((i) => ok[i].label),
    );
    for (const kb of [5, 9, 10, 20, 50, 100]) {
      const best = selectForBudget(points, { flashBytes: kb * 1024 }).best;
      expect(best && front.has(best.label), `${kb} kB -> ${best?.label}`).toBe(true);
    }
  });
});
