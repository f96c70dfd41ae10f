// Ctrl-C in the middle of a sweep: finished points stay, nothing is half-written, the next run
// computes exactly what is missing. Fake stages (fixed time, no training) keep it quick.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandPoints, parseSweepConfig } from '../../src/sweep/config.js';
import { POINT_RESULT_SCHEMA, type PointResult } from '../../src/sweep/result.js';
import { runSweep, SweepInterrupted } from '../../src/sweep/sweep.js';
import { FIXTURES, SOURCE_WORKER, tempDir } from './helpers.js';

const FAKE = join(FIXTURES, 'fakeRunner.ts');
const DATA = 'synthetic:seed=2,train=30,test=12,subjects=4';

describe('interrupting a sweep', () => {
  it('keeps finished points only, leaves no temporary files, and resumes', async () => {
    const out = tempDir('tf-sweep-int-');
    const config = parseSweepConfig({ axes: { widths: [8], bits: [2, 3, 4, 5, 6, 7, 8], prune: [0, 0.5] } });
    const total = expandPoints(config).length;
    const ac = new AbortController();
    let saved = 0;
    const common = {
      config,
      data: DATA,
      out,
      progress: 'none' as const,
      log: () => {},
      worker: SOURCE_WORKER,
      runnerModule: FAKE,
    };
    const run = runSweep({
      ...common,
      jobs: 2,
      signal: ac.signal,
      onPoint: () => {
        if (++saved === 3) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(SweepInterrupted);

    const dirs = readdirSync(join(out, 'points'));
    const done = dirs.filter((d) => existsSync(join(out, 'points', d, 'result.json')));
    expect(done).toHaveLength(3);
    for (const d of done) {
      const r = JSON.parse(readFileSync(join(out, 'points', d, 'result.json'), 'utf8')) as PointResult;
      expect(r.schema).toBe(POINT_RESULT_SCHEMA);
      expect(r.hash).toBe(d);
      expect(r.status).toBe('ok');
    }
    for (const d of dirs)
      expect(readdirSync(join(out, 'points', d)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Results are written at the end of a complete run only.
    expect(existsSync(join(out, 'results.json'))).toBe(false);

    // Resumed in this process (no worker start-up): the cache is the same whatever runs the points.
    const resumed = await runSweep({ ...common, jobs: 1 });
    expect(resumed.cached).toBe(3);
    expect(resumed.computed.points).toBe(total - 3);
    expect(resumed.ok).toBe(total);
  }, 120_000);

  it('workers that cannot start fail the points with their message; results are still written', async () => {
    const out = tempDir('tf-sweep-int-');
    const config = parseSweepConfig({ axes: { widths: [8], bits: [4, 8] } });
    const r = await runSweep({
      config,
      data: DATA,
      out,
      jobs: 2,
      progress: 'none',
      log: () => {},
      worker: { entry: join(out, 'no-such-worker.js') },
      runnerModule: FAKE,
    });
    expect(r.failed).toBe(r.points);
    // The float model (fake) could not be trained either: the points say so.
    for (const row of r.rows) {
      expect(row.failedStage).toBe('train');
      expect(row.failure).toMatch(/fail to start \(exit code 1\).*Cannot find module/);
    }
    expect(existsSync(join(out, 'results.json'))).toBe(true);
  }, 60_000);
});
