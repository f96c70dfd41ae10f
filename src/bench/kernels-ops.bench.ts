// Per-operator kernel benchmark (issue 14): one network per operator, measured on the emulated
// Cortex-M4 at 8-bit packed weights; the row is the operator's layer alone (profiling build), in
// instructions per MAC (convolutions) or per output element (element-wise and data movement).
// Run with the network benchmark: npm run bench -- kernels
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archToGraph, type ArchSpec } from '../graph/arch.js';
import { sizeOf } from '../graph/types.js';
import { layerMacs } from '../measure/macs.js';
import { calibrationWindows, compressVariant, randomFloatModel, VARIANTS } from '../measure/seededModels.js';
import { formatTable } from '../util/table.js';
import { measureModel } from './kernels.bench.js';
import opCases from './kernels-ops.json' with { type: 'json' };

export interface OpCase {
  label: string;
  /** [T, C] of the network's input; a rank-3 network starts with a reshape. */
  input: [number, number];
  layers: ArchSpec['layers'];
  /** Name of the layer measured. */
  layer: string;
  per: 'MAC' | 'element';
  /** Issue 14's bound on instructions per unit, where it sets one. */
  target?: number;
}

/** The networks (kernels-ops.json): sizes typical of the MLPerf Tiny models and of HAR nets. */
export const OP_CASES = opCases as unknown as OpCase[];

interface OpRow {
  c: OpCase;
  units: number;
  instructions: number;
  bitExact: boolean;
}

async function measureCase(c: OpCase, dir: string): Promise<OpRow> {
  const graph = archToGraph(
    { layers: c.layers },
    { inputShape: c.input, classNames: ['a', 'b', 'c', 'd'] },
    c.label,
  );
  const float = randomFloatModel(graph, 11);
  const packed8 = VARIANTS.find((v) => v.label === 'packed 8-bit')!;
  const model = compressVariant(float, packed8, calibrationWindows(graph, 16, 3));
  const index = model.layers.findIndex((l) => l.name === c.layer);
  if (index < 0) throw new Error(`${c.label}: no layer '${c.layer}' after compression`);
  const m = await measureModel(c.label, packed8, model, dir);
  const units = c.per === 'MAC' ? layerMacs(model)[index] : sizeOf(model.layers[index].outShape);
  return { c, units, instructions: m.layers[index].instructions, bitExact: m.bitExact };
}

const fmt = (v: number, digits = 0): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-ops-'));
  const rows: OpRow[] = [];
  try {
    for (const [i, c] of OP_CASES.entries()) {
      process.stderr.write(`operator bench ${i + 1}/${OP_CASES.length}: ${c.label}\n`);
      rows.push(await measureCase(c, join(dir, `${i}`)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const table = formatTable(
    ['operator (8-bit packed, Cortex-M4)', 'units', 'instructions', 'per unit', 'target', 'bit-exact'],
    rows.map((r) => [
      r.c.label,
      `${fmt(r.units)} ${r.c.per}s`,
      fmt(r.instructions),
      fmt(r.instructions / r.units, 3),
      r.c.target === undefined ? '-' : `<= ${r.c.target}`,
      r.bitExact ? 'yes' : 'NO',
    ]),
  );
  const verdicts = rows
    .filter((r) => r.c.target !== undefined)
    .map((r) => {
      const per = r.instructions / r.units;
      return `${per <= r.c.target! && r.bitExact ? 'HOLDS ' : 'MISSED'}  ${r.c.label}: ${fmt(per, 3)} instructions per ${r.c.per} <= ${r.c.target}${r.bitExact ? '' : ' (NOT bit-exact)'}`;
    });
  process.stdout.write(
    [
      'Per operator: the layer alone in its network (profiling build, hooks included), random He-normal',
      'weights quantized per channel at 8-bit packed, 8 windows, QEMU netduinoplus2 -icount shift=0.',
      '',
      table,
      '',
      ...verdicts,
      '',
    ].join('\n'),
  );
}
