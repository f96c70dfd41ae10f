// Kernel benchmark (issue #9): instructions per inference of the generated C on the emulated
// Cortex-M4, per layer and per MAC, with kernel code and weight/table bytes from the linker map,
// for the reference network of the QEMU notes and the default HAR architecture, each at 8-bit
// packed, 4-bit Huffman and 80%-pruned rle-huffman weights. Run: npm run bench -- kernels
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { formatTable } from '../util/table.js';
import type { CompressedModel } from '../qmodel/model.js';
import { deployableGraph } from '../graph/fold.js';
import type { FloatModel } from '../graph/ir.js';
import { buildModelFirmware, measureOnTarget, modelMacs, type TargetResult } from '../measure/index.js';
import {
  calibrationWindows,
  compressVariant,
  gaussian,
  harDefaultGraph,
  randomFloatModel,
  referenceGraph,
  VARIANTS,
  type Variant,
} from '../measure/seededModels.js';
import { mulberry32 } from '../data/prng.js';

/** Reference figures of shared/notes/qemu-measurement.md (same network, board and counting). */
export const REFERENCE_FIGURES = [
  { label: 'CMSIS-NN -O3 (notes)', instructions: 982_741, code: '9.9-13.1 KB' },
  { label: 'plain C loops -O3 (notes)', instructions: 1_544_060, code: '1.6 KB' },
  { label: 'plain C loops -O2 (notes)', instructions: 2_120_259, code: '1.1 KB' },
] as const;

/** Targets of issue #9. */
export const TARGETS = {
  /** Instructions per inference of the packed 8-bit reference network: fewer than CMSIS-NN. */
  cmsisNn: 982_741,
  /** Kernel code of the whole model (.text.tf_kernels.*), packed 8-bit reference network. */
  kernelBytes: 3 * 1024,
  /** Huffman 4-bit at most this many times the packed path. */
  huffmanRatio: 1.25,
} as const;

const WINDOWS = 8;

export interface Measured {
  network: string;
  variant: Variant;
  macs: number;
  /** Per inference, without hooks (exact). */
  instructions: number;
  /** Per layer, from the profiling build (each includes its hooks' few instructions). */
  layers: { name: string; instructions: number }[];
  kernels: number;
  weights: number;
  tables: number;
  arena: number;
  bitExact: boolean;
}

/** Deterministic int8 windows (the instruction counts do not depend on the data). */
function inputsFor(model: CompressedModel, n: number, seed: number): Int8Array {
  const rng = mulberry32(seed);
  const size = model.inputShape[0] * model.inputShape[1];
  return Int8Array.from({ length: n * size }, () =>
    Math.max(-128, Math.min(127, Math.round(24 * gaussian(rng)))),
  );
}

/** Builds the model twice (plain and with per-layer hooks) and runs both on QEMU. */
export async function measureModel(
  network: string,
  variant: Variant,
  model: CompressedModel,
  dir: string,
): Promise<Measured> {
  const inputs = inputsFor(model, WINDOWS, 3);
  const labels = new Array<number>(WINDOWS).fill(0);
  const results: TargetResult[] = [];
  for (const profile of [false, true]) {
    const outDir = join(dir, profile ? 'profile' : 'plain');
    await buildModelFirmware({ model, outDir, profile, sourceName: `${network}, ${variant.label}` });
    results.push(
      await measureOnTarget({ buildDir: outDir, model, inputs, labels, n: WINDOWS, progress: 'none' }),
    );
  }
  const [plain, profiled] = results;
  return {
    network,
    variant,
    macs: modelMacs(model),
    instructions: plain.instructions.mean,
    layers: profiled.layers.map((l) => ({ name: l.name, instructions: l.instructions?.mean ?? NaN })),
    kernels: plain.flash.kernels,
    weights: plain.flash.weights,
    tables: plain.flash.tables,
    arena: plain.ram.arena,
    bitExact: plain.agreement.equal && profiled.agreement.equal,
  };
}

/** The default network: out/har-default when trained, else har-default with random weights. */
async function harDefaultFloat(): Promise<{ model: FloatModel; what: string }> {
  const trained = resolve('out/har-default');
  if (existsSync(join(trained, 'graph.json'))) {
    const { loadModelDir } = await import('../train/modelDir.js');
    return { model: deployableGraph(loadModelDir(trained).model), what: `${trained} (trained)` };
  }
  return { model: randomFloatModel(harDefaultGraph(), 2), what: 'har-default, He-normal random weights' };
}

const n = (v: number, digits = 0): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: Measured[]): string {
  // Both networks have the same seven layers; the columns are named by their kinds.
  const layerNames = referenceGraph().layers.map((l) => l.kind);
  const header = [
    'network',
    'weights',
    'instructions',
    'per MAC',
    ...layerNames.map((l, i) => `${i} ${l}`),
    'kernel code B',
    'weights B',
    'tables B',
    'arena B',
    'bit-exact',
  ];
  const body: string[][] = rows.map((r) => [
    r.network,
    r.variant.label,
    n(r.instructions),
    n(r.instructions / r.macs, 3),
    ...layerNames.map((_, i) => (r.layers[i] ? n(r.layers[i].instructions) : '-')),
    n(r.kernels),
    n(r.weights),
    n(r.tables),
    n(r.arena),
    r.bitExact ? 'yes' : 'NO',
  ]);
  const macs = rows.find((r) => r.network === 'reference')?.macs ?? 365_952;
  for (const f of REFERENCE_FIGURES) {
    body.push([
      'reference',
      f.label,
      n(f.instructions),
      n(f.instructions / macs, 3),
      ...layerNames.map(() => '-'),
      f.code,
      '-',
      '-',
      '-',
      '-',
    ]);
  }
  return formatTable(header, body);
}

function verdicts(rows: Measured[]): string[] {
  const find = (net: string, label: string): Measured | undefined =>
    rows.find((r) => r.network === net && r.variant.label === label);
  const lines: string[] = [];
  const say = (ok: boolean, what: string): void => {
    lines.push(`${ok ? 'HOLDS ' : 'MISSED'}  ${what}`);
  };
  const p8 = find('reference', 'packed 8-bit');
  if (p8) {
    say(
      p8.instructions < TARGETS.cmsisNn,
      `reference, packed 8-bit: ${n(p8.instructions)} instructions < ${n(TARGETS.cmsisNn)} (CMSIS-NN -O3)`,
    );
    say(
      p8.kernels <= TARGETS.kernelBytes,
      `reference, packed 8-bit: kernel code ${n(p8.kernels)} B <= ${n(TARGETS.kernelBytes)} B`,
    );
  }
  for (const net of ['reference', 'har-default']) {
    const dense = find(net, 'packed 8-bit');
    const dense4 = find(net, 'packed 4-bit');
    const huff = find(net, 'huffman 4-bit');
    if (dense && huff) {
      const r = huff.instructions / dense.instructions;
      say(
        r <= TARGETS.huffmanRatio,
        `${net}: huffman 4-bit / packed 8-bit = ${n(r, 3)} <= ${TARGETS.huffmanRatio}`,
      );
    }
    if (dense4 && huff) {
      const r = huff.instructions / dense4.instructions;
      say(
        r <= TARGETS.huffmanRatio,
        `${net}: huffman 4-bit / packed 4-bit = ${n(r, 3)} <= ${TARGETS.huffmanRatio}`,
      );
    }
    const pruned = find(net, 'packed 8-bit, 80% pruned');
    for (const label of ['rle-huffman 8-bit, 80% pruned', 'rle-huffman 4-bit, 80% pruned']) {
      const rle = find(net, label);
      if (rle && pruned) {
        say(
          rle.instructions < pruned.instructions,
          `${net}: ${label} ${n(rle.instructions)} < dense packed 8-bit on the same pruned model ${n(pruned.instructions)}`,
        );
      }
    }
  }
  say(
    rows.every((r) => r.bitExact),
    `every variant bit-exact with the host reference (${rows.length} models, ${WINDOWS} windows each)`,
  );
  return lines;
}

/** A bar on a terminal, one line per step otherwise (logs, CI). */
function progress(total: number): { step(what: string): void; stop(): void } {
  if (!process.stderr.isTTY) {
    let done = 0;
    return {
      step: (what) => void process.stderr.write(`kernels bench ${++done}/${total}: ${what}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'kernels bench [{bar}] {value}/{total} {what}', clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { what: '' });
  let done = 0;
  return {
    step: (what) => bar.update(done++, { what }),
    stop: () => {
      bar.update(total, { what: '' });
      bar.stop();
    },
  };
}

export async function run(): Promise<void> {
  const har = await harDefaultFloat();
  const networks: { name: string; float: FloatModel }[] = [
    { name: 'reference', float: randomFloatModel(referenceGraph(), 1) },
    { name: 'har-default', float: har.model },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-kernels-'));
  const rows: Measured[] = [];
  const bar = progress(networks.length * VARIANTS.length);
  try {
    for (const net of networks) {
      const cal = calibrationWindows(net.float.graph, 32, 2);
      for (const v of VARIANTS) {
        bar.step(`${net.name}, ${v.label}`);
        const model = compressVariant(net.float, v, cal);
        rows.push(await measureModel(net.name, v, model, join(dir, `${rows.length}`)));
      }
    }
  } finally {
    bar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = [
    'Instructions per inference on netduinoplus2 (Cortex-M4) under QEMU -icount shift=0, gcc -O2, per MAC,',
    'per layer (profiling build: each layer includes its hooks, about 5 instructions), kernel code from the',
    'linker map (.text.tf_kernels.*), weights (.rodata.tf_weights.*) and decode tables / shifts',
    '(.rodata.tf_tables.*). Weights: He-normal random (seeded), magnitude-pruned per layer where',
    `shown, quantized per channel by tinyforge's quantizer. har-default: ${har.what}.`,
    '',
    table(rows),
    '',
    ...verdicts(rows),
    '',
  ];
  process.stdout.write(out.join('\n'));
}
