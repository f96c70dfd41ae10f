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
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { crc32 } from '../../src/qmodel/crc32.js';
import { CODINGS, type CompressedModel } from '../../src/qmodel/model.js';
import { int8Kinds } from '../../src/ops/registry.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { runKernelsOnHost } from '../kernels/host.js';
import { buildKernelFirmware, runKernelFirmware, type KernelRun } from '../kernels/target.js';
import { tempDir } from '../helpers/temp.js';
import { clangPresent } from './cbuild.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');
const RANDOM_WINDOWS = 6;

interface Case {
  name: string;
  model: CompressedModel;
  inputs: Int8Array[];
}

async function cases(): Promise<Case[]> {
  const names = readdirSync(join(FIX, 'expected'))
    .filter((f) => f.endsWith('.int8.json'))
    .sort()
    .map((f) => f.replace(/\.json$/, ''))
    // Developers only: TF_INT8_CASES=<regex> narrows the run to some fixtures (the coverage check then fails).
    .filter((n) => new RegExp(process.env.TF_INT8_CASES ?? '').test(n));
  const out: Case[] = [];
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

/** The host reference's CRC-32 of every layer output, per window. */
function referenceCrcs(c: Case): number[][] {
  const p = prepareReference(c.model);
  return c.inputs.map((x) =>
    runPrepared(p, x, { keepLayerOutputs: true }).layerOutputs!.map((o) =>
      crc32(new Uint8Array(o.buffer, o.byteOffset, o.byteLength)),
    ),
  );
}

/** Layers (by case, window and layer) whose target CRC differs from the reference's. */
function differing(all: Case[], want: number[][][], run: KernelRun): string[] {
  const bad: string[] = [];
  all.forEach((c, m) =>
    want[m].forEach((layers, w) =>
      layers.forEach((crc, l) => {
        if (run.layerCrcs[m]?.[w]?.[l] !== crc)
          bad.push(
            `${c.name} window ${w} layer ${l} '${c.model.layers[l].name}' (${c.model.layers[l].kind})`,
          );
      }),
    ),
  );
  return bad;
}

describe('int8 models: generated C equals the host reference at every layer', () => {
  let all: Case[];
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

  it('host gcc -O2 (portable C)', async () => {
    const run = await runKernelsOnHost(
      tempDir('tf-int8-gcc-'),
      all.map((c) => c.model),
      all.map((c) => c.inputs),
    );
    expect(differing(all, want, run).slice(0, 10)).toEqual([]);
  }, 300_000);

  it('host clang -O2 (portable C)', async () => {
    expect(await clangPresent()).toBe(true);
    const run = await runKernelsOnHost(
      tempDir('tf-int8-clang-'),
      all.map((c) => c.model),
      all.map((c) => c.inputs),
      {
        cc: 'clang',
      },
    );
    expect(differing(all, want, run).slice(0, 10)).toEqual([]);
  }, 300_000);

  for (const [label, cflags] of [
    ['Cortex-M4 DSP kernels', []],
    ['Cortex-M4 portable C (-DTF_PORTABLE)', ['-DTF_PORTABLE']],
  ] as const) {
    it(`QEMU netduinoplus2, ${label}`, async () => {
      const fw = await buildKernelFirmware(
        tempDir('tf-int8-qemu-'),
        all.map((c) => c.model),
        {
          layerCrcs: true,
          cflags: [...cflags],
          name: 'int8',
        },
      );
      const run = await runKernelFirmware(
        fw,
        all.map((c) => c.inputs),
      );
      expect(run.dsp.every((d) => d === (cflags.length ? 0 : 1))).toBe(true);
      expect(differing(all, want, run).slice(0, 10)).toEqual([]);
    }, 600_000);
  }
});
