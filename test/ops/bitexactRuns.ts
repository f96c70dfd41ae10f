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

/** Random windows plus the extremes (all -128, all 0, all 127). */
export function windowsFor(m: CompressedModel, seed: number, n = 5): Int8Array[] {
  const size = m.inputShape[0] * m.inputShape[1];
  const ws = Array.from({ length: n }, (_, i) => randomInput(m, seed * 100 + i));
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

function expectSame(ms: CompressedModel[], inputs: Int8Array[][], got: (m: number, w: number) => number[]) {
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
