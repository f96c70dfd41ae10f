// The small-RAM kernels (--ram small, templates/kernels/small.c.hbs) compiled for the host with the
// strict flags, against the host reference: bit-for-bit logits on random models at every coding and
// weight width (Conv1D with both paddings and strides, dilated Conv1D, Conv2D, Dense, DepthwiseConv1D
// and DepthwiseConv2D with strides, dilations, paddings and depth multipliers 1..3, 8-bit packed read
// straight from flash), with in-place 1D pooling; --ram auto on the same models. The planner's
// side (no scratch, shrinking pools) is checked on the generated plans.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildView } from '../../src/codegen/view.js';
import type { RamOption } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { CODINGS, smallRamInt8Cases, smallRamSuite, smallRamWindows } from './smallRamModels.js';
import {
  buildRunner,
  clangPresent,
  compileClean,
  runRunner,
  STRICT,
  writeGenerated,
  type RunOutput,
} from './cbuild.js';
import { generateC } from '../../src/codegen/index.js';
import type { SmallView } from '../../src/codegen/weightedKernel.js';

const WINDOWS = 6;
function expectReference(
  cases: { name: string; model: CompressedModel }[],
  inputs: Int8Array[][],
  out: RunOutput,
) {
  expect(out.stderr).toBe('');
  expect(out.exitCode).toBe(0);
  let windows = 0;
  cases.forEach((c, m) => {
    const prepared = prepareReference(c.model);
    inputs[m].forEach((x, i) => {
      const got = out.results[m].windows[i];
      expect({ model: c.name, window: i, rc: got.rc, logits: Array.from(got.logits) }).toEqual({
        model: c.name,
        window: i,
        rc: 0,
        logits: Array.from(prepared && runPrepared(prepared, x).logits),
      });
      windows++;
    });
  });
  return windows;
}

/** The depthwise geometry a small kernel runs (SmallView's fields the coverage test reads). */
type DwSmall = Pick<SmallView, 'sh' | 'sw' | 'dh' | 'dw' | 'padTop' | 'padLeft' | 'mult'>;

/** What one depthwise layer on a small kernel covers: its kind with each coding, width and geometry. */
function depthwiseSeen(seen: Set<string>, kind: string, s: DwSmall, bits: number): void {
  seen.add(`${kind}:bits:${bits}`);
  seen.add(`${kind}:mult${s.mult}`);
  if (s.sw > 1) seen.add(`${kind}:stride`);
  if (s.dw > 1) seen.add(`${kind}:dilated`);
  if (s.padLeft > 0) seen.add(`${kind}:padded`);
  if (s.sh > 1) seen.add(`${kind}:stride-h`);
  if (s.dh > 1) seen.add(`${kind}:dilated-h`);
  if (s.padTop > 0) seen.add(`${kind}:padded-top`);
}

describe('small-RAM kernels vs host reference (gcc, host)', () => {
  const cases = smallRamSuite();
  let models = cases.map((c) => c.model);
  let inputs: Int8Array[][] = [];
  const dirs: string[] = [];
  const runs = new Map<string, RunOutput>();
  const modes: RamOption[] = [{ mode: 'small' }, { mode: 'auto' }];

  beforeAll(async () => {
    cases.push(...(await smallRamInt8Cases()));
    models = cases.map((c) => c.model);
    inputs = models.map((m, i) => smallRamWindows(m, WINDOWS, i + 7));
    for (const ram of modes) {
      const dir = mkdtempSync(join(tmpdir(), 'tf-small-'));
      dirs.push(dir);
      // auto mixes kernels the other tests cover one by one: every fourth model is enough (CI time).
      const pick = (i: number): boolean => ram.mode === 'small' || i % 4 === 0;
      const ms = models.filter((_m, i) => pick(i));
      const built = await buildRunner(dir, ms, { ram });
      runs.set(
        ram.mode,
        await runRunner(
          built,
          dir,
          ms,
          inputs.filter((_x, i) => pick(i)),
        ),
      );
    }
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('covers every coding, width and weighted kind with small kernels', () => {
    const seen = new Set<string>();
    for (const m of models) {
      const { view } = buildView(m, { ram: { mode: 'small' } });
      for (const l of view.layers) {
        if (l.kernel !== 'kernels/small' || !l.weights) continue;
        seen.add(`${l.kind}:${l.weights.coding}`);
        seen.add(`bits:${l.weights.bits}`);
        const s = l.small as { sw: number; dw: number; padLeft: number; kh: number };
        if (s.sw > 1) seen.add('stride2');
        if (s.dw > 1) seen.add('dilated');
        if (s.padLeft > 0) seen.add('padded');
        if (s.kh > 1) seen.add('2d');
        if (l.weights.direct) seen.add('direct8');
        if (/^depthwise/.test(l.kind)) depthwiseSeen(seen, l.kind, l.small as DwSmall, l.weights.bits);
      }
      if (view.layers.some((l) => l.inPlace && /pool1d$/.test(l.kind))) seen.add('pool:in-place');
    }
    const int8Small = (kinds: RegExp): boolean =>
      models.some(
        (m) =>
          m.affine &&
          buildView(m, { ram: { mode: 'small' } }).view.layers.some(
            (l) => l.kernel === 'kernels/small' && kinds.test(l.kind),
          ),
      );
    if (int8Small(/^(conv|dense)/)) seen.add('int8');
    if (int8Small(/^depthwise/)) seen.add('int8:depthwise');
    const want = ['stride2', 'dilated', 'padded', '2d', 'direct8', 'pool:in-place', 'int8', 'int8:depthwise'];
    for (const k of ['conv1d', 'conv2d', 'dense', 'depthwise1d', 'depthwise2d'])
      for (const c of CODINGS) want.push(`${k}:${c}`);
    for (let b = 2; b <= 8; b++) want.push(`bits:${b}`, `depthwise1d:bits:${b}`, `depthwise2d:bits:${b}`);
    for (const k of ['depthwise1d', 'depthwise2d'])
      for (const f of ['stride', 'dilated', 'padded', 'mult1', 'mult2', 'mult3']) want.push(`${k}:${f}`);
    want.push('depthwise2d:stride-h', 'depthwise2d:dilated-h', 'depthwise2d:padded-top');
    for (const w of want) expect(seen, `no model has ${w}`).toContain(w);
  });

  it('plans no scratch for the small kernels, and takes one for every depthwise layer', () => {
    let depthwise = 0;
    for (const m of models) {
      const { view } = buildView(m, { ram: { mode: 'small' } });
      for (const l of view.layers) if (l.kernel === 'kernels/small') expect(l.scratchBytes).toBe(0);
      for (const l of view.layers.filter((x) => /^depthwise/.test(x.kind))) {
        expect({ layer: l.name, kernel: l.kernel }).toEqual({ layer: l.name, kernel: 'kernels/small' });
        depthwise++;
      }
    }
    expect(depthwise).toBeGreaterThanOrEqual(28);
  });

  it('--ram small gives the reference logits bit for bit', () => {
    expect(expectReference(cases, inputs, runs.get('small')!)).toBe(models.length * (WINDOWS + 3));
  });

  it('--ram auto (fast and small kernels mixed) gives the reference logits bit for bit', () => {
    const every4 = <T>(xs: T[]): T[] => xs.filter((_x, i) => i % 4 === 0);
    const n = every4(models).length;
    expect(expectReference(every4(cases), every4(inputs), runs.get('auto')!)).toBe(n * (WINDOWS + 3));
    // Some of them mix both families.
    const mixed = every4(models).filter((m) => {
      const ks = buildView(m, { ram: { mode: 'auto' } }).view.layers.map((l) => l.kernel);
      return (
        ks.includes('kernels/small') &&
        ks.some((k) => ['kernels/conv1d', 'kernels/conv2d', 'kernels/dense'].includes(k))
      );
    });
    expect(mixed.length).toBeGreaterThan(0);
  });
});

describe('small-RAM C compiles cleanly on its own (clang, model.c as the main file)', () => {
  it('has no warning with -Wall -Wextra -Werror -pedantic, small and auto', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-small-cc-'));
    try {
      // clang warns about unused static functions of the main file, gcc does not (the runner above
      // includes model.c from a wrapper, where neither does).
      const cc = (await clangPresent()) ? 'clang' : 'gcc';
      const models = smallRamSuite().filter((_c, i) => i % 6 === 0);
      for (const [i, c] of models.entries())
        for (const ram of i === 0
          ? ([{ mode: 'small' }, { mode: 'auto' }] as const)
          : ([{ mode: 'small' }] as const)) {
          const sub = join(dir, `m${i}${ram.mode}`);
          writeGenerated(sub, generateC(c.model, { ram }));
          await compileClean(cc, [...STRICT, '-O1', '-c', 'model.c', '-o', 'model.o'], sub);
        }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
