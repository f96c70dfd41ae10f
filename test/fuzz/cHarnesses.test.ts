// The CI budget of the libFuzzer harnesses (fuzz/, test/fuzz/c/): every harness is built with
// AddressSanitizer + UndefinedBehaviorSanitizer and fuzzed for a few seconds from its real-model
// seeds; any finding (crash, sanitizer report, disagreement between decoders, hang, allocation
// beyond 256 MB) fails the test with libFuzzer's report. `make fuzz` runs the same for longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { clangPresent } from '../codegen/cbuild.js';
import { tempDir } from '../helpers/temp.js';
import { HARNESSES, type HarnessName } from './c/render.js';
import { buildHarnesses, buildSelftest, describeRun, runHarness } from './c/run.js';

/** Seconds per harness in CI (six harnesses: about 25 s of fuzzing, plus the builds). */
const CI_SECONDS = Number(process.env.FUZZ_CI_SECONDS ?? 4);

const haveClang = await clangPresent();

describe.runIf(haveClang)('libFuzzer harnesses (CI budget)', () => {
  let root: string;
  let exes: Record<HarnessName, string>;

  beforeAll(async () => {
    root = tempDir('tf-fuzz-c-');
    exes = await buildHarnesses(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a planted bug (operand buffers one word short) is found and fails the run', async () => {
    const exe = await buildSelftest(root);
    const r = await runHarness('packed', exe, { seconds: 20 }, root);
    expect(r.exitCode).not.toBe(0);
    expect(r.report).toMatch(/AddressSanitizer: heap-buffer-overflow/);
    expect(r.artifacts.length).toBe(1);
  }, 120_000);

  for (const h of HARNESSES) {
    it(`${h}: no finding in ${CI_SECONDS} s`, async () => {
      const r = await runHarness(h, exes[h], { seconds: CI_SECONDS }, root);
      console.log(describeRun(r));
      if (r.exitCode !== 0) throw new Error(`${describeRun(r)}\n${r.report}`);
      // The run really fuzzed: libFuzzer reports its executions and the coverage it reached.
      expect(r.executions).toBeGreaterThan(1000);
      expect(r.cov).toBeGreaterThan(10);
    }, 120_000);
  }
});
