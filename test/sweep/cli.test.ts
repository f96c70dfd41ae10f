import { runCommand } from '../helpers/cli.js';
// `tinyforge sweep` through yargs, in process: a sweep answered from its cache, --json, --budget
// on an existing results folder, and the exit codes. The cache is filled with fake stages first
// (cache keys do not depend on the runner), so no training runs here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { sweepCommand } from '../../src/cli/commands/sweep.js';
import { parseSweepConfig, type SweepConfigInput } from '../../src/sweep/config.js';
import type { SweepRow } from '../../src/sweep/results.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { FIXTURES, tempDir } from './helpers.js';

function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  return runCommand(sweepCommand, args);
}

// The cache holds fake .tfm files: keep the on-target slot empty whatever target.ts binds.
vi.mock('../../src/sweep/target.js', () => ({ targetStage: undefined }));

const DATA = 'synthetic:seed=2,train=30,test=12,subjects=4';
const FAKE = join(FIXTURES, 'fakeRunner.ts');

/** Fills `out` with fake results for `cfg` and writes the config file next to it. */
async function prepared(
  cfg: SweepConfigInput,
): Promise<{ out: string; configPath: string; rows: SweepRow[] }> {
  const out = tempDir('tf-sweep-cli-');
  const configPath = join(out, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...cfg, data: DATA }));
  const s = await runSweep({
    config: parseSweepConfig(cfg),
    data: DATA,
    out,
    jobs: 1,
    runnerModule: FAKE,
    progress: 'none',
    log: () => {},
  });
  return { out, configPath, rows: s.rows };
}

describe('tinyforge sweep', () => {
  let ok: Awaited<ReturnType<typeof prepared>>;
  beforeAll(async () => {
    ok = await prepared({ name: 'cli', axes: { widths: [8], bits: [2, 4, 8], prune: [0, 0.5] } });
  }, 60_000);

  it('runs from the cache: summary, front table, files', async () => {
    const r = await run(['sweep', '--config', ok.configPath, '--out', ok.out, '--jobs', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /sweep cli: 6 points \(6 ok, 0 failed\), 6 from the cache, 0 computed, 0 float models trained/,
    );
    expect(r.out).toMatch(/NOT linked flash/);
    for (const row of ok.rows.filter((x) => x.pareto)) expect(r.out).toContain(row.label);
    expect(r.out).toMatch(/results: results\.json, results\.csv, results\.md, error-vs-memory\.png/);
  });

  it('--json gives the summary and the front for machines', async () => {
    const r = await run([
      'sweep',
      '--config',
      ok.configPath,
      '--out',
      ok.out,
      '--jobs',
      '1',
      '--json',
      '--budget',
      '100',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ points: 6, ok: 6, cached: 6, metric: 'paramBytes' });
    expect(j.front.map((x: SweepRow) => x.label)).toEqual(
      ok.rows
        .filter((x) => x.pareto)
        .sort((a, b) => a.memory! - b.memory!)
        .map((x) => x.label),
    );
    expect(j.budget.best.label).toBeDefined();
  });

  it('--budget on an existing results folder picks the most accurate point that fits', async () => {
    // Budgets between every pair of neighbouring memories, worked out from the rows.
    const mems = [...new Set(ok.rows.map((x) => x.memory!))].sort((a, b) => a - b);
    for (const m of mems) {
      const kB = (m + 0.5) / 1024;
      const fits = ok.rows.filter((x) => x.memory! <= kB * 1024);
      const bestErr = Math.min(...fits.map((x) => x.errorRate!));
      const expected = fits.filter((x) => x.errorRate === bestErr).sort((a, b) => a.memory! - b.memory!)[0];
      const r = await run(['sweep', '--out', ok.out, '--budget', kB.toFixed(6), '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).budget.best.label, `${kB} kB`).toBe(expected.label);
    }
    const text = await run(['sweep', '--out', ok.out, '--budget', '100']);
    expect(text.out).toMatch(
      /^best under 100 kB of parameter bytes \(host estimate, NOT linked flash\) \(6 points fit\): /,
    );
    expect(text.out).toMatch(/accuracy\s+\d+\.\d\d% \(host-reference/);
  });

  it('a budget nothing fits, a RAM budget without target figures, a malformed budget: usage errors', async () => {
    const small = await run(['sweep', '--out', ok.out, '--budget', '0.01']);
    expect(small.code).toBe(2);
    expect(small.out).toMatch(/no point fits under 0.01 kB/);
    const ram = await run(['sweep', '--out', ok.out, '--budget', '100,8']);
    expect(ram.code).toBe(2);
    expect(ram.err).toMatch(/RAM measured on the target/);
    const bad = await run(['sweep', '--out', ok.out, '--budget', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--budget lots/);
  });

  it('--budget on a folder without results says so', async () => {
    const r = await run(['sweep', '--out', tempDir('tf-sweep-cli-'), '--budget', '10']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/has no results\.json/);
  });

  it('no data anywhere is a usage error', async () => {
    const out = tempDir('tf-sweep-cli-');
    const cfg = join(out, 'nodata.json');
    writeFileSync(cfg, JSON.stringify({ axes: { widths: [8] } }));
    const r = await run(['sweep', '--config', cfg, '--out', join(out, 'o')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no data/);
  });

  it('exits non-zero when every point failed, with the first failure', async () => {
    const bad = await prepared({ name: 'bad', axes: { widths: [8], bits: [4, 8], prune: [0.3] } });
    expect(bad.rows.every((x) => x.status === 'failed')).toBe(true);
    const r = await run(['sweep', '--config', bad.configPath, '--out', bad.out, '--jobs', '1']);
    expect(r.code).toBe(4); // the failures are 'model' errors
    expect(r.err).toMatch(
      /all 2 points failed; the first, w8 b4 p0\.30 pc auto ft0, in compress: prune 0\.3 fails/,
    );
  });
});
