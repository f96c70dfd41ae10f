// `make fuzz`: builds every libFuzzer harness and runs each for FUZZ_SECONDS (default 60) or
// FUZZ_RUNS executions; exits 1 on any finding. FUZZ_ONLY=huffman,rle picks harnesses.
import { HARNESSES, type HarnessName } from './render.js';
import { buildHarnesses, describeRun, runHarness } from './run.js';

const env = process.env;
const only = env.FUZZ_ONLY ? (env.FUZZ_ONLY.split(',') as HarnessName[]) : [...HARNESSES];
const budget = env.FUZZ_RUNS ? { runs: Number(env.FUZZ_RUNS) } : { seconds: Number(env.FUZZ_SECONDS ?? 60) };

const exes = await buildHarnesses();
let findings = 0;
for (const h of only) {
  if (!HARNESSES.includes(h)) throw new Error(`no harness ${h}; there are ${HARNESSES.join(', ')}`);
  const r = await runHarness(h, exes[h], budget);
  if (r.exitCode !== 0) {
    findings++;
    console.log(r.report);
  }
  console.log(describeRun(r));
}
process.exit(findings ? 1 : 0);
