// Instructions on the emulated Cortex-M4 for the default network under each weight coding: per
// layer and in total, per inference and per MAC, with flash and RAM, as one table.
// The model: out/har-default (the trained default) when present, else har-default trained briefly on
// synthetic windows. Codings are applied without fine-tuning (instruction counts do not depend on
// accuracy); the 80%-sparse variant is magnitude-pruned to exactly that sparsity.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatTable } from '../util/table.js';
import { compressModel, type CompressOptions, DEFAULT_COMPRESS_OPTIONS } from '../compress/compress.js';
import { loadCompressData } from '../compress/data.js';
import { loadDataset } from '../data/load.js';
import type { Normalization } from '../data/normalize.js';
import type { FloatModel } from '../graph/ir.js';
import { buildModelFirmware, measureOnTarget, type TargetResult } from '../measure/index.js';
import { num } from '../measure/summary.js';
import { loadModelDir } from '../train/modelDir.js';
import { trainModel } from '../train/trainer.js';

const SYNTH = 'synthetic:seed=1,train=1200,test=256';
const WINDOWS = 32;

const CODINGS: { name: string; opts: Partial<CompressOptions> }[] = [
  { name: 'packed 8-bit', opts: { bits: 8, coding: 'packed' } },
  { name: 'huffman 4-bit', opts: { bits: 4, coding: 'huffman' } },
  { name: 'rle-huffman 4-bit, 80% sparse', opts: { bits: 4, coding: 'rle-huffman', prune: 0.8 } },
];

async function defaultModel(): Promise<{
  model: FloatModel;
  normalization: Normalization;
  data: string;
  what: string;
}> {
  const trained = resolve('out/har-default');
  if (existsSync(join(trained, 'graph.json'))) {
    const m = loadModelDir(trained);
    const har = process.env.UCI_HAR_DIR ?? resolve('../shared/data/uci-har');
    return {
      model: m.model,
      normalization: m.normalization,
      data: existsSync(har) ? har : SYNTH,
      what: `${trained} (trained default)`,
    };
  }
  const t = await trainModel({ data: SYNTH, epochs: 3, seed: 1, progress: 'none', quietBackend: true });
  return {
    model: t.model,
    normalization: t.prepared.normalization,
    data: SYNTH,
    what: 'har-default, 3 epochs on synthetic windows',
  };
}

export async function run(): Promise<void> {
  const { model: float, normalization, data, what } = await defaultModel();
  const cd = loadCompressData(data, normalization, 'test');
  const w = cd.eval.steps * cd.eval.channels;
  const evalSlice = {
    ...cd.eval,
    n: WINDOWS,
    x: cd.eval.x.subarray(0, WINDOWS * w),
    y: cd.eval.y.subarray(0, WINDOWS),
  };
  const test = loadDataset(data).test;
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-target-'));
  const results: TargetResult[] = [];
  try {
    for (const c of CODINGS) {
      const { model } = await compressModel(
        float,
        normalization,
        { ...cd, eval: evalSlice },
        {
          ...DEFAULT_COMPRESS_OPTIONS,
          ...c.opts,
        },
      );
      const out = join(dir, String(results.length));
      await buildModelFirmware({ model, outDir: out });
      results.push(
        await measureOnTarget({
          buildDir: out,
          model,
          windows: test.x,
          labels: test.y,
          n: WINDOWS,
          progress: 'none',
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const first = results[0];
  const header = ['layer', 'MACs', ...CODINGS.flatMap((c) => [`${c.name}: instr`, 'per MAC'])];
  const rows = first.layers.map((l, i) => [
    `${l.index} ${l.name}`,
    l.macs ? num(l.macs) : '-',
    ...results.flatMap((r) => {
      const x = r.layers[i];
      return [x.instructions ? num(x.instructions.mean) : '-', x.perMac === null ? '-' : num(x.perMac, 2)];
    }),
  ]);
  rows.push([
    'inference (total)',
    num(first.macs),
    ...results.flatMap((r) => [num(r.instructions.mean), num(r.instructions.perMac, 2)]),
  ]);
  const bytesRow = (label: string, f: (r: TargetResult) => number) => [
    label,
    '',
    ...results.flatMap((r) => [`${num(f(r))} B`, '']),
  ];
  rows.push(
    bytesRow('model flash (weights+tables+kernels)', (r) => r.flash.model),
    bytesRow('firmware flash', (r) => r.flash.total),
    bytesRow('RAM (static + peak stack)', (r) => r.ram.staticWithStack),
    bytesRow('model RAM (arena + inference stack)', (r) => r.ram.model),
  );
  process.stdout.write(
    `model: ${what}; ${WINDOWS} windows of ${data} on ${first.board} (QEMU, -O2, per-layer hooks); ` +
      `host agreement: ${results.every((r) => r.agreement.equal) ? 'bit-exact for every coding' : 'MISMATCH'}\n` +
      formatTable(header, rows) +
      '\n',
  );
}
