// The generated C of int8 models kept int8 (scheme 'tflite-int8') against the host reference, layer by
// layer: every int8 fixture (test/fixtures/import/*.int8.tflite) at every weight coding, on the
// interpreter's recorded inputs (where the host reference equals TFLite's interpreter at every layer,
// test/import/tfliteInt8.test.ts) and on random windows. Compiled with gcc and clang for the host
// (portable C) and for the emulated Cortex-M4 (the DSP kernels, and the portable ones with
// -DTF_PORTABLE); each layer's output is compared through its CRC-32 (test/kernels/harness/klayers.h).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { importModelFile } from '../../src/import/index.js';
import { CODINGS } from '../../src/qmodel/model.js';
import { int8Kinds } from '../../src/ops/registry.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { everyBuild, referenceCrcs, type LayerCase } from '../kernels/layerChecks.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');
const RANDOM_WINDOWS = 6;

async function cases(): Promise<LayerCase[]> {
  const names = readdirSync(join(FIX, 'expected'))
    .filter((f) => f.endsWith('.int8.json'))
    .sort()
    .map((f) => f.replace(/\.json$/, ''))
    // Developers only: TF_INT8_CASES=<regex> narrows the run to some fixtures (the coverage check then fails).
    .filter((n) => new RegExp(process.env.TF_INT8_CASES ?? '').test(n));
  const out: LayerCase[] = [];
  for (const name of names) {
    const fx = JSON.parse(readFileSync(join(FIX, 'expected', `${name}.json`), 'utf8')) as {
      input: number;
      runs: Record<string, number[]>[];
    };
    const imported = await importModelFile(join(FIX, 'tflite', `${name}.tflite`));
    for (const coding of CODINGS) {
      const model = imported.keptQuantization!({ coding });
      const size = model.inputShape[0] * model.inputShape[1];
      const recorded = fx.runs.map((r) => Int8Array.from(r[String(fx.input)]));
      const random = Array.from({ length: RANDOM_WINDOWS }, (_, s) => xorshiftInt8(size, 7919 * (s + 1)));
      out.push({ name: `${name} ${coding}`, model, inputs: [...recorded, ...random] });
    }
  }
  return out;
}

describe('int8 models: generated C equals the host reference at every layer', () => {
  let all: LayerCase[];
  let want: number[][][];
  beforeAll(async () => {
    all = await cases();
    want = all.map(referenceCrcs);
  }, 120_000);

  it('covers every int8 operator kind with code, every coding, recorded and random windows', () => {
    const kinds = new Set(all.flatMap((c) => c.model.layers.map((l) => l.kind)));
    const missing = int8Kinds().filter(
      (k) => !kinds.has(k) && !['depthwise1d', 'avgpool1d', 'maxpool1d'].includes(k),
    );
    expect(missing).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(19 * CODINGS.length);
  });

  everyBuild(
    'int8',
    () => all,
    () => want,
  );
});
