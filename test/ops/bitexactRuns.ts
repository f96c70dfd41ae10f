// Test support for the window and shape operators' tests: compiled on the host with gcc and clang
// and on the Cortex-M4 under QEMU (TF_DSP), the generated C must give the host reference's logits
// bit for bit on every window.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { randomInput } from '../helpers/randomModel.js';
import { buildRunner, runRunner } from '../codegen/cbuild.js';
import { runOnTarget } from '../kernels/target.js';

/** `n` random windows of `m`'s input. */
export function randomWindows(m: CompressedModel, seed: number, n: number): Int8Array[] {
  return Array.from({ length: n }, (_, i) => randomInput(m, seed * 100 + i));
}

/** Random windows plus the extremes (all -128, all 0, all 127). */
export function windowsFor(m: CompressedModel, seed: number, n = 5): Int8Array[] {
  const size = m.inputShape[0] * m.inputShape[1];
  const ws = randomWindows(m, seed, n);
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

/** Every model's logits `got` on every window are the host reference's. */
export function expectSame(
  ms: CompressedModel[],
  inputs: Int8Array[][],
  got: (m: number, w: number) => number[],
) {
  ms.forEach((m, i) => {
    const p = prepareReference(m);
    inputs[i].forEach((x, w) => {
      expect({ model: i, window: w, logits: got(i, w) }).toEqual({
        model: i,
        window: w,
        logits: Array.from(runPrepared(p, x).logits),
      });
    });
  });
}

/** Registers the host (gcc -O2, gcc -O0, clang -O2) and QEMU bit-exactness tests of `ms`. */
export function bitExactSuite(tag: string, ms: () => CompressedModel[]): void {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), `tf-${tag}-`));
    dirs.push(d);
    return d;
  };
  let cache: { models: CompressedModel[]; inputs: Int8Array[][] } | undefined;
  const cases = () => {
    if (!cache) {
      const models = ms();
      cache = { models, inputs: models.map((m, i) => windowsFor(m, i + 1)) };
    }
    return cache;
  };
  for (const { cc, opt } of [
    { cc: 'gcc', opt: ['-O2'] },
    { cc: 'gcc', opt: ['-O0'] },
    { cc: 'clang', opt: ['-O2'] },
  ]) {
    it(`${cc} ${opt.join(' ')} gives the reference logits bit for bit`, async () => {
      const { models, inputs } = cases();
      const dir = temp();
      const out = await runRunner(await buildRunner(dir, models, { cc, cflags: opt }), dir, models, inputs);
      expect(out.stderr).toBe('');
      expect(out.exitCode).toBe(0);
      expectSame(models, inputs, (m, w) => Array.from(out.results[m].windows[w].logits));
    }, 300_000);
  }
  it('gives the reference logits bit for bit on the Cortex-M4 (QEMU, TF_DSP)', async () => {
    const { models, inputs } = cases();
    const run = await runOnTarget(temp(), models, inputs);
    expect(run.dsp.every((d) => d === 1)).toBe(true);
    expectSame(models, inputs, (m, w) => Array.from(run.logits[m][w] ?? []));
  }, 600_000);
}

/**
 * Registers the conv kernels' bit-exactness tests of `ms` on `inputs`: five host compilers and
 * flags, QEMU (TF_DSP), and QEMU at -O1, -Os and -O3 on the first 14 models. Temp dirs go to `dirs`.
 */
export function convBitExactTests(
  tag: string,
  ms: CompressedModel[],
  inputs: Int8Array[][],
  dirs: string[],
): void {
  const temp = (prefix: string): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  for (const { cc, opt } of [
    { cc: 'gcc', opt: ['-O2'] },
    { cc: 'gcc', opt: ['-O0'] },
    { cc: 'gcc', opt: ['-O3', '-funroll-loops'] },
    { cc: 'clang', opt: ['-Os'] },
    { cc: 'clang', opt: ['-O2'] },
  ]) {
    it(`${cc} ${opt.join(' ')} gives the reference logits bit for bit`, async () => {
      const dir = temp(`tf-${tag}-`);
      const out = await runRunner(await buildRunner(dir, ms, { cc, cflags: opt }), dir, ms, inputs);
      expect(out.stderr).toBe('');
      expect(out.exitCode).toBe(0);
      expectSame(ms, inputs, (m, w) => Array.from(out.results[m].windows[w].logits));
    });
  }

  it('gives the reference logits bit for bit on the Cortex-M4 (QEMU, TF_DSP)', async () => {
    const run = await runOnTarget(temp(`tf-${tag}-m4-`), ms, inputs);
    expect(run.dsp.every((d) => d === 1)).toBe(true);
    expectSame(ms, inputs, (m, w) => Array.from(run.logits[m][w] ?? []));
  }, 600_000);

  // The kernels pin every register their assembly uses: each optimization level must still build and
  // agree (at -O0 the firmware runs the portable C: TF_DSP needs an optimizing build).
  for (const opt of ['-O1', '-Os', '-O3']) {
    it(`gives the reference logits bit for bit on the Cortex-M4 at ${opt}`, async () => {
      const dir = temp('tf-conv-opt-');
      const sub = ms.slice(0, 14);
      const run = await runOnTarget(dir, sub, inputs.slice(0, 14), { optLevel: opt });
      expect(run.dsp.every((d) => d === 1)).toBe(true);
      expectSame(sub, inputs.slice(0, 14), (m, w) => Array.from(run.logits[m][w] ?? []));
    }, 600_000);
  }
}
