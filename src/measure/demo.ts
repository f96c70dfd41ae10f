// `make demo`: the whole pipeline on a fresh clone, in a few minutes on two cores, with no data to
// download: train the default network on synthetic HAR windows -> compress three ways -> build ->
// run every test window on the emulated Cortex-M4 -> one table.
//   node dist/measure/demo.js [--out out/demo] [--data synthetic:...] [--epochs N]
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTable, pct } from '../util/table.js';
import { reportError } from '../cli/output.js';
import { compressModel, type CompressOptions, DEFAULT_COMPRESS_OPTIONS } from '../compress/compress.js';
import { trainModel } from '../train/trainer.js';
import { buildModelFirmware } from './firmware.js';
import { bytes, num } from './summary.js';
import { measureOnTarget, type TargetResult } from './onTarget.js';

export interface DemoConfig {
  name: string;
  label: string;
  compress: Partial<CompressOptions>;
}

/** The three configurations of the demo (issue #7). */
export const DEMO_CONFIGS: DemoConfig[] = [
  { name: 'packed8', label: '8-bit packed', compress: { bits: 8, coding: 'packed' } },
  { name: 'huffman4', label: '4-bit Huffman', compress: { bits: 4, coding: 'huffman', finetuneEpochs: 1 } },
  {
    name: 'rle4-p80',
    label: '80% pruned, 4-bit zero-run Huffman',
    compress: { bits: 4, coding: 'rle-huffman', prune: 0.8, finetuneEpochs: 3 },
  },
];

export const DEMO_DEFAULTS = {
  out: 'out/demo',
  data: 'synthetic:seed=1,train=1500,test=600,subjects=30',
  epochs: 6,
};

export interface DemoRow {
  config: DemoConfig;
  hostAccuracy: number;
  result: TargetResult;
}

export function formatDemoTable(rows: DemoRow[]): string {
  return formatTable(
    [
      'configuration',
      'on-target accuracy',
      'model flash',
      'firmware flash',
      'RAM (static + peak stack)',
      'instructions / inference',
      'host agreement',
    ],
    rows.map(({ config, result: r }) => [
      config.label,
      pct(r.accuracy),
      bytes(r.flash.model),
      bytes(r.flash.total),
      bytes(r.ram.staticWithStack),
      num(r.instructions.mean),
      r.agreement.equal
        ? `bit-exact ${r.windows}/${r.windows}`
        : `MISMATCH ${r.agreement.mismatching}/${r.windows}`,
    ]),
  );
}

export async function runDemo(opts: { out: string; data: string; epochs: number }): Promise<DemoRow[]> {
  const t0 = performance.now();
  const log = (s: string) => process.stderr.write(`demo: ${s}\n`);
  log(`training the default network on ${opts.data} for ${opts.epochs} epochs`);
  const trained = await trainModel({
    data: opts.data,
    out: join(opts.out, 'model'),
    epochs: opts.epochs,
    seed: 1,
    progress: 'auto',
  });
  const p = trained.prepared;
  const test = p.dataset.test; // raw windows: the firmware gets them as a sensor would deliver them
  // The compressor's own host accuracy on a slice only: the table's accuracy is the target's, on all.
  const k = Math.min(128, p.test.n);
  const w = p.test.steps * p.test.channels;
  const evalSlice = { ...p.test, n: k, x: p.test.x.subarray(0, k * w), y: p.test.y.subarray(0, k) };
  const rows: DemoRow[] = [];
  for (const config of DEMO_CONFIGS) {
    log(`${config.label}: compressing`);
    const { model, report } = await compressModel(
      trained.model,
      p.normalization,
      { train: p.train, val: p.val, eval: evalSlice, evalName: `test (first ${k})` },
      {
        ...DEFAULT_COMPRESS_OPTIONS,
        progress: 'auto',
        ...config.compress,
      },
    );
    const dir = join(opts.out, config.name);
    log(`${config.label}: building ${dir}`);
    await buildModelFirmware({ model, outDir: dir, sourceName: `demo ${config.name}` });
    log(`${config.label}: running ${test.n} test windows on QEMU`);
    const result = await measureOnTarget({ buildDir: dir, model, windows: test.x, labels: test.y });
    rows.push({ config, hostAccuracy: report.fixedAccuracy, result });
  }
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s; build folders in ${opts.out}/`);
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEMO_DEFAULTS.out },
      data: { type: 'string', default: DEMO_DEFAULTS.data },
      epochs: { type: 'string', default: String(DEMO_DEFAULTS.epochs) },
    },
  });
  const rows = await runDemo({ out: values.out, data: values.data, epochs: Number(values.epochs) });
  process.stdout.write(
    `\ntinyforge demo: ${rows[0]?.result.windows ?? 0} synthetic test windows on ${rows[0]?.result.board ?? '-'} (QEMU)\n` +
      formatDemoTable(rows) +
      '\n',
  );
  if (rows.some((r) => !r.result.agreement.equal)) process.exitCode = 8;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.exitCode = reportError(err);
  });
}
