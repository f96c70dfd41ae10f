// The CI sweep end to end on synthetic data, in two worker processes: real training, compression
// and host reference; results, front and plots; a failing and a crashing point recorded without
// stopping the others; a second run answered entirely from the cache; an extended sweep computing
// only its new point.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedAccuracy } from '../../src/compress/compress.js';
import { loadCompressData } from '../../src/compress/data.js';
import { readTfm } from '../../src/qmodel/index.js';
import { expandPoints, loadSweepConfig, parseSweepConfig, type SweepConfig } from '../../src/sweep/config.js';
import type { PointResult } from '../../src/sweep/result.js';
import { parseCsv, type ResultsFile } from '../../src/sweep/results.js';
import { runSweep, type SweepSummary } from '../../src/sweep/sweep.js';
import { CRASHING_PRUNE, IMPOSSIBLE_PRUNE } from './fixtures/failingRunner.js';
import { FAKE_TARGET_ID, KERNEL_BYTES } from './fixtures/targetRunner.js';
import { FIXTURES, REPO, SOURCE_WORKER, tempDir } from './helpers.js';
import { pngInfo } from './png.js';

const CI = loadSweepConfig(join(REPO, 'sweeps', 'ci.json'));
const RUNNER = join(FIXTURES, 'failingRunner.ts');

/** ci.json plus the two injected points. */
function ciWithFailures(): SweepConfig {
  return parseSweepConfig({
    ...CI.config,
    points: [
      ...(CI.config.points ?? []),
      { width: 8, bits: 4, prune: IMPOSSIBLE_PRUNE, finetuneEpochs: 0 },
      { width: 8, bits: 4, prune: CRASHING_PRUNE, finetuneEpochs: 0 },
    ],
  });
}

const OUTPUTS = ['results.json', 'results.csv', 'results.md', 'error-vs-memory.svg', 'error-vs-memory.png'];

function snapshot(out: string): Record<string, string> {
  const s: Record<string, string> = {};
  for (const f of OUTPUTS) s[f] = readFileSync(join(out, f), 'latin1');
  return s;
}

function resultTimes(out: string): Record<string, number> {
  const t: Record<string, number> = {};
  for (const h of readdirSync(join(out, 'points')))
    t[h] = statSync(join(out, 'points', h, 'result.json')).mtimeMs;
  return t;
}

describe('sweeps/ci.json end to end', () => {
  const out = tempDir('tf-sweep-ci-');
  const config = ciWithFailures();
  const total = expandPoints(config).length;
  let first: SweepSummary;

  beforeAll(async () => {
    first = await runSweep({
      config,
      data: CI.data!,
      out,
      jobs: 2,
      progress: 'none',
      log: () => {},
      worker: SOURCE_WORKER,
      runnerModule: RUNNER,
    });
  }, 300_000);

  it('runs every point in worker processes; the two bad points fail alone', () => {
    expect(first.executor).toBe('processes');
    expect(first.jobs).toBe(2);
    expect(first.points).toBe(total);
    expect(first.cached).toBe(0);
    expect(first.computed.points).toBe(total);
    // Two widths in ci.json: two float models, each trained once although many points need them.
    expect(first.computed.models).toBe(2);
    expect(first.failed).toBe(2);
    expect(first.ok).toBe(total - 2);
    const bad = first.rows.filter((r) => r.status === 'failed');
    expect(bad.map((r) => r.prune).sort()).toEqual([IMPOSSIBLE_PRUNE, CRASHING_PRUNE]);
    const impossible = bad.find((r) => r.prune === IMPOSSIBLE_PRUNE)!;
    expect(impossible.failedStage).toBe('compress');
    expect(impossible.failedCategory).toBe('model');
    expect(impossible.failure).toMatch(/impossible in this test/);
    const crashed = bad.find((r) => r.prune === CRASHING_PRUNE)!;
    expect(crashed.failedStage).toBe('worker');
    expect(crashed.failure).toMatch(/exit code 3/);
    // Recorded on disk as failed, with the reason.
    const stored = JSON.parse(
      readFileSync(join(out, 'points', impossible.hash, 'result.json'), 'utf8'),
    ) as PointResult;
    expect(stored.status).toBe('failed');
    expect(stored.error?.message).toMatch(/impossible/);
  });

  it('records host-reference figures that the stored .tfm reproduces', async () => {
    const ok = first.rows.filter((r) => r.status === 'ok');
    for (const r of ok) {
      expect(r.accuracy, r.label).toBeGreaterThan(0);
      expect(r.memory, r.label).toBeGreaterThan(0);
      expect(r.accuracySource).toBe(r.bits === 'float' ? 'float' : 'host-reference');
    }
    // One compressed point checked independently: load its .tfm and score it again.
    const row = ok.find((r) => r.bits === 4 && r.prune === 0.5)!;
    const model = await readTfm(join(out, 'points', row.hash, 'model.tfm'));
    const data = loadCompressData(CI.data!, model.normalization, 'test');
    expect(fixedAccuracy(model, data.eval).accuracy).toBe(row.hostAccuracy);
    expect(row.evalWindows).toBe(data.eval.n);
    // Fewer bits never need more parameter bytes at the same width and pruning.
    const b8 = ok.find((r) => r.bits === 8 && r.prune === 0.5 && r.width === row.width)!;
    expect(row.memory!).toBeLessThan(b8.memory!);
  });

  it('writes results files that parse and agree, with the front marked', () => {
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(json.points).toHaveLength(total);
    expect(json.metric).toBe('paramBytes');
    expect(json.counts).toMatchObject({ points: total, failed: 2 });
    const front = json.points.filter((p) => p.pareto);
    expect(front.length).toBeGreaterThan(0);
    // The front as defined: no successful point is at least as good on both and better on one.
    const ok = json.points.filter((p) => p.status === 'ok');
    for (const p of ok) {
      const beaten = ok.some(
        (q) =>
          q.memory! <= p.memory! &&
          q.errorRate! <= p.errorRate! &&
          (q.memory! < p.memory! || q.errorRate! < p.errorRate!),
      );
      expect(p.pareto, p.label).toBe(!beaten);
    }
    const csv = parseCsv(readFileSync(join(out, 'results.csv'), 'utf8'));
    expect(csv.map((r) => r.label)).toEqual(json.points.map((p) => p.label));
    expect(csv.filter((r) => r.pareto === 'true').map((r) => r.label)).toEqual(front.map((p) => p.label));
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    for (const p of front) expect(md).toContain(`| **yes** | \`${p.label}\``);
    expect(md).toContain('![error-vs-memory.png](error-vs-memory.png)');
  });

  it('draws the plot as SVG and a readable PNG', () => {
    const svg = readFileSync(join(out, 'error-vs-memory.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('error rate');
    expect(svg).toContain('Pareto front');
    // No paper reference on synthetic data.
    expect(svg).not.toContain('SYSINT');
    const png = readFileSync(join(out, 'error-vs-memory.png'));
    const { width, height } = pngInfo(png);
    expect(width).toBeGreaterThanOrEqual(1200);
    expect(height).toBeGreaterThanOrEqual(700);
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('a second run computes nothing and writes the same results', async () => {
    const before = snapshot(out);
    const times = resultTimes(out);
    const again = await runSweep({
      config,
      data: CI.data!,
      out,
      jobs: 2,
      progress: 'none',
      log: () => {},
      worker: SOURCE_WORKER,
      runnerModule: RUNNER,
    });
    expect(again.cached).toBe(total);
    expect(again.computed).toEqual({ models: 0, points: 0, stages: {} });
    expect(again.executor).toBe('none');
    expect(again.rows).toEqual(first.rows);
    expect(snapshot(out)).toEqual(before);
    expect(resultTimes(out)).toEqual(times);
  });

  it('an extended sweep computes only its new point, reusing the float model', async () => {
    const extended = parseSweepConfig({
      ...config,
      points: [...(config.points ?? []), { width: 8, bits: 6, prune: 0.5, finetuneEpochs: 0 }],
    });
    const r = await runSweep({
      config: extended,
      data: CI.data!,
      out,
      jobs: 1,
      progress: 'none',
      log: () => {},
      runnerModule: RUNNER,
    });
    expect(r.points).toBe(total + 1);
    expect(r.cached).toBe(total);
    expect(r.computed).toEqual({ models: 0, points: 1, stages: { compress: 1 } });
    expect(r.rows.find((x) => x.bits === 6)?.status).toBe('ok');
  });

  it('--retry-failed runs the failed points again, and only those', async () => {
    const r = await runSweep({
      config,
      data: CI.data!,
      out,
      jobs: 2,
      retryFailed: true,
      progress: 'none',
      log: () => {},
      worker: SOURCE_WORKER,
      runnerModule: RUNNER,
    });
    expect(r.computed.points).toBe(2);
    expect(r.computed.models).toBe(0);
    expect(r.failed).toBe(2);
  });

  it('a target stage connected later measures the cached points without compressing again', async () => {
    const withTarget = {
      config,
      data: CI.data!,
      out,
      jobs: 1,
      progress: 'none' as const,
      log: () => {},
      runnerModule: join(FIXTURES, 'targetRunner.ts'),
    };
    const r = await runSweep(withTarget);
    const compressed = r.rows.filter((x) => x.status === 'ok' && x.bits !== 'float');
    expect(compressed.length).toBeGreaterThan(5);
    expect(r.computed.models).toBe(0);
    expect(r.computed.stages).toEqual({ 'host-reference': compressed.length, target: compressed.length });
    expect(r.metric).toBe('modelFlash');
    for (const x of compressed) {
      const tfmBytes = statSync(join(out, 'points', x.hash, 'model.tfm')).size;
      expect(x.modelFlash, x.label).toBe(tfmBytes + KERNEL_BYTES);
      expect(x.memory).toBe(x.modelFlash);
      expect(x.accuracySource).toBe('target');
      // The stand-in agrees with the host reference, so its accuracy is the host's.
      expect(x.targetAccuracy).toBe(x.hostAccuracy);
      const stored = JSON.parse(
        readFileSync(join(out, 'points', x.hash, 'result.json'), 'utf8'),
      ) as PointResult;
      expect(stored.target?.stageId).toBe(FAKE_TARGET_ID);
    }
    // Float points have no firmware: listed, not on a flash front.
    for (const x of r.rows.filter((y) => y.bits === 'float')) expect(x.memory).toBeUndefined();
    expect(existsSync(join(out, 'accuracy-vs-instructions.png'))).toBe(true);
    expect(pngInfo(readFileSync(join(out, 'accuracy-vs-instructions.png'))).width).toBeGreaterThan(800);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(
      /model flash kB \| total flash kB \| RAM kB/,
    );

    const again = await runSweep(withTarget);
    expect(again.computed).toEqual({ models: 0, points: 0, stages: {} });
  });
});
