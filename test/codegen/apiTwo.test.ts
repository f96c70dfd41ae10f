// The model API, end to end (harness/api_two.c): two models compiled with different prefixes (har_:
// a random pow2 model, kws_: an imported TFLite int8 model) in one program, with gcc and clang on the
// host and in one firmware on QEMU (netduinoplus2, Cortex-M4 hard-float), where one arena of each
// model is placed in a section of its own (.ccmram, put by a linker script fragment where QEMU has RAM
// beyond the board's 128 KB). Every run of either model, on its static arena, on a caller's arena,
// and nested after every layer of another run (two runs interleaved on two arenas), gives the host
// reference's logits; *_quantize_input equals the host's quantizeWindow on windows built around the
// rounding ties and the clamps. Checked by the C program against the host's values (apiData.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { importModelFile } from '../../src/import/index.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { parseTfRecords, requireTargetSuccess } from '../../src/qemu/tfLines.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { xorshiftInt8 } from '../../src/bench/mlperfModels.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { awkwardNormalization, hostQuantize, rawWindows, type ModelData } from './apiData.js';
import { writeApiData } from './apiData.js';
import { clangPresent, HARNESS_DIR, STRICT } from './cbuild.js';

const WINDOWS = 6;
const RAW_WINDOWS = 40;
const FIXTURE = join(HARNESS_DIR, '..', '..', 'fixtures', 'import', 'tflite', 'residual_add.int8.tflite');
/** Where QEMU's netduinoplus2 has RAM that the board's linker script (128 KB) leaves unused. */
const PLACED_AT = 0x20020000;

async function models(): Promise<ModelData[]> {
  const har = randomModel(38);
  har.normalization = awkwardNormalization(har.inputShape[1]);
  const imported = await importModelFile(FIXTURE);
  const kws = imported.keptQuantization!({ coding: 'rle-huffman' });
  kws.normalization = awkwardNormalization(kws.inputShape[1]);
  const size = (m: CompressedModel) => m.inputShape[0] * m.inputShape[1];
  const data = (tag: string, model: CompressedModel, inputs: Int8Array[], seed: number): ModelData => {
    const raw = rawWindows(model, RAW_WINDOWS, seed);
    return { tag, model, inputs, raw, quantized: hostQuantize(model, raw, RAW_WINDOWS) };
  };
  return [
    data(
      'har',
      har,
      Array.from({ length: WINDOWS }, (_, i) => randomInput(har, 500 + i)),
      11,
    ),
    data(
      'kws',
      kws,
      Array.from({ length: WINDOWS }, (_, i) => xorshiftInt8(size(kws), 7 + i)),
      12,
    ),
  ];
}

/** Writes both models (their prefixes), the data and returns the C sources. */
function writeSources(dir: string, ms: ModelData[]): string[] {
  mkdirSync(dir, { recursive: true });
  for (const m of ms) {
    for (const f of generateC(m.model, { prefix: `${m.tag}_` }).files)
      writeFileSync(join(dir, f.name), f.content);
  }
  writeApiData(dir, ms);
  return [
    join(dir, 'har_model.c'),
    join(dir, 'kws_model.c'),
    join(dir, 'api_data.c'),
    join(HARNESS_DIR, 'api_two.c'),
  ];
}

const HOOKS = { HAR_HOOKS_HEADER: '"api_hooks.h"', KWS_HOOKS_HEADER: '"api_hooks.h"' };

interface Check {
  runs: number;
  bad: number;
  first: string;
}

function checksOf(stdout: string): Map<string, Check> {
  const out = new Map<string, Check>();
  for (const r of parseTfRecords(stdout)) {
    if (r.key !== 'check') continue;
    const [name, runs, bad, ...first] = r.fields;
    out.set(name, { runs: Number(runs), bad: Number(bad), first: first.join(' ') });
  }
  return out;
}

/** Every check passed, each as many times as the program must have made it. */
function expectAllPass(checks: Map<string, Check>, ms: ModelData[]): void {
  const [har, kws] = ms;
  const layers = (m: ModelData) => m.model.layers.length;
  // Nested runs: one after every layer of each outer arena run, of each model (plus the outer run).
  const nestedHar = WINDOWS + WINDOWS * layers(har) + WINDOWS * layers(kws);
  const nestedKws = WINDOWS + WINDOWS * layers(kws) + WINDOWS * layers(har);
  const want: Record<string, number> = {
    har_static: WINDOWS,
    har_arena: WINDOWS,
    har_nested: nestedHar,
    kws_static: WINDOWS,
    kws_arena: WINDOWS,
    kws_nested: nestedKws,
    har_quant: RAW_WINDOWS,
    kws_quant: RAW_WINDOWS,
    args: 6,
  };
  const got = Object.fromEntries(
    [...checks].map(([k, v]) => [k, `${v.runs} runs, ${v.bad} bad${v.first ? ` (${v.first})` : ''}`]),
  );
  expect(got).toEqual(Object.fromEntries(Object.entries(want).map(([k, n]) => [k, `${n} runs, 0 bad`])));
}

describe('two prefixed models in one program: arenas, nesting, quantize_input', () => {
  let dir: string;
  let ms: ModelData[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-api-two-'));
    ms = await models();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds raw windows that reach the ties, the clamps and the refused values', () => {
    for (const m of ms) {
      expect(m.quantized.rc.filter((rc) => rc !== 0).length, m.tag).toBe(3);
      expect(m.quantized.ties, `${m.tag} ties`).toBeGreaterThan(200);
      expect(m.quantized.clamped, `${m.tag} clamped`).toBeGreaterThan(200);
    }
    expect(ms[0].model.affine).toBeUndefined();
    expect(ms[1].model.scheme).toBe('tflite-int8');
  });

  for (const cc of ['gcc', 'clang'] as const) {
    it(`on the host with ${cc}`, async () => {
      if (cc === 'clang' && !(await clangPresent())) return;
      const d = join(dir, cc);
      const sources = writeSources(d, ms);
      const defines = Object.entries(HOOKS).map(([k, v]) => `-D${k}=${v}`);
      const args = [
        ...STRICT,
        '-O2',
        ...defines,
        '-DAPI_ARENA_SECTION=".ccmram"',
        '-I',
        d,
        '-I',
        HARNESS_DIR,
      ];
      const r = await execa(cc, [...args, ...sources, '-o', join(d, 'api')], { all: true });
      expect(r.all).toBe('');
      const { stdout } = await execa(join(d, 'api'));
      expectAllPass(checksOf(stdout), ms);
    });
  }

  it('on QEMU (Cortex-M4): one firmware, both models, an arena in .ccmram', async () => {
    const d = join(dir, 'qemu');
    const sources = writeSources(d, ms);
    const ld = join(d, 'ccm.ld');
    writeFileSync(
      ld,
      `SECTIONS { .ccmram 0x${PLACED_AT.toString(16)} (NOLOAD) : { *(.ccmram) } } INSERT AFTER .bss;\n`,
    );
    const fw = await buildFirmware({
      board: 'netduinoplus2',
      sources,
      includeDirs: [d, HARNESS_DIR],
      defines: { ...HOOKS, API_ARENA_SECTION: '".ccmram"' },
      extraLdFlags: [`-Wl,-T,${ld}`],
      outDir: join(d, 'out'),
      name: 'api',
    });
    const run = await runOnQemu({ board: 'netduinoplus2', elf: fw.elf, timeoutMs: 120_000 });
    requireTargetSuccess(run, 'the API test firmware');
    expectAllPass(checksOf(run.stdout), ms);
    // Both placed arenas are where the fragment put them.
    const arenas = parseTfRecords(run.stdout)
      .find((r) => r.key === 'arena')!
      .fields.map((a) => parseInt(a, 16));
    for (const a of arenas) expect(a).toBeGreaterThanOrEqual(PLACED_AT);
  }, 240_000);
});
