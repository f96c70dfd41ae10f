// The small-RAM kernels (--ram small) ON THE TARGET (netduinoplus2 under QEMU, the Cortex-M4 build):
// the random models of test/codegen/smallRam.test.ts (every coding x width 2..8, Conv1D, Conv2D,
// Dense, DepthwiseConv1D/2D) bit for bit against the host reference; and the RAM bound of issue 18 on the README's
// har-default network, 80%-pruned 4-bit rle-huffman (seeded weights, synthetic windows): built with
// the measurement harness, model RAM = arena + the measured inference stack must stay within the
// liveness optimum + 256 B, with the logits equal to the host reference's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import {
  calibrationWindows,
  compressVariant,
  harDefaultGraph,
  randomFloatModel,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import { buildModelFirmware, measureOnTarget, type TargetResult } from '../../src/measure/index.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { smallRamInt8Cases, smallRamSuite, smallRamWindows } from '../codegen/smallRamModels.js';
import { runOnTarget, type KernelRun } from './target.js';

const WINDOWS = 4;

/** har-default, 80%-pruned 4-bit rle-huffman, from seeded float weights (as the kernel benchmarks). */
function r4Model(): CompressedModel {
  const graph = harDefaultGraph();
  const v = VARIANTS.find((x) => x.label === 'rle-huffman 4-bit, 80% pruned')!;
  return compressVariant(randomFloatModel(graph, 7), v, calibrationWindows(graph, 8, 8));
}

/**
 * The small kernels are plain C (no DSP path): the host test runs every model; on the target CI runs
 * one per coding (Conv1D, Conv2D, the int8 scheme) and a DepthwiseConv2D model (dilated, padded, depth
 * multiplier 2, then strided), TF_SMALL_RAM_FULL=1 all of them.
 */
function targetCases(
  all: { name: string; model: CompressedModel }[],
): { name: string; model: CompressedModel }[] {
  if (process.env.TF_SMALL_RAM_FULL === '1') return all;
  return all.filter((c) =>
    /^(packed 3-bit|huffman 5-bit|rle-huffman 8-bit|conv2d op rle-huffman|int8 conv1d_same huffman|depthwise2d rle-huffman 4-bit)$/.test(
      c.name,
    ),
  );
}

describe('small-RAM kernels on the Cortex-M4 (QEMU)', () => {
  let cases: { name: string; model: CompressedModel }[] = [];
  let inputs: Int8Array[][] = [];
  const dirs: string[] = [];
  let run: KernelRun;

  beforeAll(async () => {
    cases = targetCases([...smallRamSuite(), ...(await smallRamInt8Cases())]);
    expect(cases.length).toBeGreaterThanOrEqual(6);
    inputs = cases.map((c, i) => smallRamWindows(c.model, WINDOWS, i + 50));
    const dir = mkdtempSync(join(tmpdir(), 'tf-small-k-'));
    dirs.push(dir);
    run = await runOnTarget(
      dir,
      cases.map((c) => c.model),
      inputs,
      { ram: { mode: 'small' } },
    );
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('gives the reference logits bit for bit at every coding and width', () => {
    let windows = 0;
    cases.forEach((c, m) => {
      const prepared = prepareReference(c.model);
      inputs[m].forEach((x, w) => {
        expect({
          model: c.name,
          window: w,
          rc: run.rc[m][w],
          logits: Array.from(run.logits[m][w] ?? []),
        }).toEqual({
          model: c.name,
          window: w,
          rc: 0,
          logits: Array.from(runPrepared(prepared, x).logits),
        });
        windows++;
      });
    });
    expect(windows).toBe(cases.length * (WINDOWS + 3));
    expect(run.dsp).toEqual(cases.map(() => 1));
  });
});

describe('--ram small on har-default 4-bit rle-huffman 80% (QEMU, measurement harness)', () => {
  const model = r4Model();
  const graph = harDefaultGraph();
  const n = 3;
  let dir: string;
  let result: TargetResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-small-ram-'));
    const fw = await buildModelFirmware({ model, outDir: join(dir, 'fw'), ram: { mode: 'small' } });
    result = await measureOnTarget({
      buildDir: fw.dir,
      model,
      windows: calibrationWindows(graph, n, 99),
      labels: new Array<number>(n).fill(0),
      progress: 'none',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plans the arena at the liveness optimum, which the fast plan also reports', () => {
    const small = generateC(model, { ram: { mode: 'small' } }).report;
    const fast = generateC(model).report;
    expect(small.livenessBytes).toBe(fast.livenessBytes);
    expect(small.arenaBytes).toBe(small.livenessBytes);
    expect(result.ram.arena).toBe(small.arenaBytes);
  });

  it('runs bit-exact with model RAM (arena + measured inference stack) <= liveness optimum + 256 B', () => {
    expect(result.agreement.equal).toBe(true);
    const liveness = generateC(model, { ram: { mode: 'small' } }).report.livenessBytes;
    expect(result.stack.inference).toBeGreaterThan(0);
    expect(result.ram.model).toBe(result.ram.arena + result.stack.inference);
    expect(result.ram.model).toBeLessThanOrEqual(liveness + 256);
  });
});
