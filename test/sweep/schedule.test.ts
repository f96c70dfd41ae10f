// Scheduling: a point starts as soon as its own float model is ready, so a wide model's long
// training does not hold back the points of narrower, already trained widths.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { MODEL_MARKER } from '../../src/sweep/stages.js';
import { FIXTURES, SOURCE_WORKER, tempDir } from './helpers.js';

const FAKE = join(FIXTURES, 'fakeRunner.ts');
const DATA = 'synthetic:seed=2,train=30,test=12,subjects=4';

describe('sweep scheduling', () => {
  it('runs points of a trained width while a wider model still trains', async () => {
    const out = tempDir('tf-sweep-sched-');
    // width 64 trains for SLOW_TRAIN_MS in the fake runner; width 8 in 50 ms.
    const config = parseSweepConfig({ axes: { widths: [8, 64], bits: [4, 8] } });
    // At each point saved: how many float models are trained so far.
    const models = join(out, 'models');
    const trainedModels = () =>
      existsSync(models)
        ? readdirSync(models).filter((d) => existsSync(join(models, d, MODEL_MARKER))).length
        : 0;
    const events: { label: string; trained: number }[] = [];
    const summary = await runSweep({
      config,
      data: DATA,
      out,
      jobs: 2,
      progress: 'none',
      log: () => {},
      worker: SOURCE_WORKER,
      runnerModule: FAKE,
      onPoint: (r) => events.push({ label: r.label, trained: trainedModels() }),
    });
    expect(summary.ok).toBe(summary.points);
    expect(summary.computed.models).toBe(2);
    const narrow = events.filter((e) => e.label.startsWith('w8 '));
    expect(narrow).toHaveLength(2); // 4-bit, 8-bit
    expect(events.filter((e) => e.label.startsWith('w64 '))).toHaveLength(2);
    // The width-8 points ran on the second slot while width 64 trained (SLOW_TRAIN_MS, against
    // 2 x FAKE_POINT_MS for them): only their own model existed when each was saved.
    expect(narrow.map((e) => e.trained)).toEqual([1, 1]);
    expect(events.slice(0, 2).map((e) => e.label.split(' ')[0])).toEqual(['w8', 'w8']);
  }, 120_000);
});
