// The time-to-finish estimate weighs jobs by their expected work: in a sweep a width-96 point is
// ~20 times a width-16 one, and a mean over jobs would promise minutes where hours are left.
import { describe, expect, it } from 'vitest';
import { parseSweepConfig, expandPoints } from '../../src/sweep/config.js';
import { formatDuration, sweepProgress } from '../../src/sweep/progress.js';
import { pointCost } from '../../src/sweep/sweep.js';

function logPhase(total: number, slots: number, cost?: number) {
  const lines: string[] = [];
  const phase = sweepProgress('log', (l) => lines.push(l)).phase('points', total, 0, slots, cost);
  return { phase, lines };
}

describe('sweep progress estimate', () => {
  it('is seconds per unit of work done times the work left, shared among the slots', () => {
    // Three jobs of work 1, 1 and 10; the first (work 1) took 10 s: 10 s per unit, 11 units left.
    const { phase, lines } = logPhase(3, 1, 12);
    phase.done('small', 10, 'ok', 1);
    expect(lines[0]).toContain(`about ${formatDuration(110)} left`);
    phase.done('small', 30, 'ok', 1); // now 40 s for 2 units: 20 s per unit, 10 left
    expect(lines[1]).toContain(`about ${formatDuration(200)} left`);
    phase.done('large', 1, 'ok', 10);
    expect(lines[2]).toMatch(/3\/3 large: ok in 1\.0 s .*done\)$/);
  });

  it('without costs every job counts the same (mean job time times jobs left)', () => {
    const { phase, lines } = logPhase(4, 2);
    phase.done('a', 8, 'ok');
    // 3 jobs left at 8 s on 2 slots
    expect(lines[0]).toContain(`about ${formatDuration(12)} left`);
  });

  it('weighs a point by its model MACs and its passes over the data; float points only evaluate', () => {
    const config = parseSweepConfig({ axes: { widths: [16], bits: [4, 'float'], finetuneEpochs: [0, 3] } });
    const points = expandPoints(config);
    const cost = (bits: number | 'float', ft: number) =>
      pointCost(
        points.find((p) => p.bits === bits && (bits === 'float' || p.finetuneEpochs === ft))!,
        1000,
      );
    expect(cost(4, 3)).toBe(4 * cost(4, 0));
    expect(cost('float', 0)).toBeLessThan(cost(4, 0));
    // Same settings, 6x the MACs: 6x the work.
    const p = points.find((q) => q.bits === 4)!;
    expect(pointCost(p, 6000)).toBe(6 * pointCost(p, 1000));
  });
});
