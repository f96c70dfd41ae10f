// The generated C cross-compiles for the Cortex-M4 with the strict flags at every optimization
// level that enables the DSP kernels, and the object file has the sections the size stage reads,
// with the sizes the memory plan reports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generateC, type GeneratedC } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import {
  calibrationWindows,
  compressVariant,
  randomFloatModel,
  referenceGraph,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import { randomModel } from '../helpers/randomModel.js';
import { writeGenerated } from './cbuild.js';
import { opSuite } from '../helpers/randomOps/index.js';
import { edgeModels } from './models.js';

const CC = 'arm-none-eabi-gcc';
const M4 = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];
const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic'];

interface Section {
  name: string;
  type: string;
  size: number;
}

async function sections(obj: string): Promise<Section[]> {
  const { stdout } = await execa('arm-none-eabi-readelf', ['-S', '-W', obj]);
  const out: Section[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(line);
    if (m) out.push({ name: m[1], type: m[2], size: parseInt(m[3], 16) });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'tf-codegen-arm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: { name: string; model: CompressedModel }[] = [
  { name: 'random 3', model: randomModel(3) },
  { name: 'random 11', model: randomModel(11) },
  // Seed 10 has a kernel GCC 12.2 used to drop (a direct 8-bit Conv1D writing only the arena).
  { name: 'random 10', model: randomModel(10) },
  { name: 'rle only', model: randomModel(205, { codings: ['rle-huffman'] }) },
  { name: 'huffman only', model: randomModel(206, { codings: ['huffman'] }) },
  ...edgeModels().filter((e) => ['direct-8-bit', 'long-zero-runs', 'only-a-view'].includes(e.name)),
  // Long rows: the Cortex-M4 inline-assembly loops (13 pinned registers) with every decoder.
  ...benchModels(),
  // Every operator in one model (rank-3 tensors, merges, lookup tables).
  ...opSuite(0, 2),
];

function benchModels(): { name: string; model: CompressedModel }[] {
  const graph = referenceGraph();
  const float = randomFloatModel(graph, 5);
  const cal = calibrationWindows(graph, 4, 5);
  return VARIANTS.filter((v) => v.coding !== 'packed' || v.bits === 8)
    .filter((v) => v.sparsity === 0 || v.coding !== 'packed')
    .map((v) => ({ name: `reference ${v.label}`, model: compressVariant(float, v, cal) }));
}

describe('arm-none-eabi-gcc, Cortex-M4', () => {
  for (const [i, c] of cases.entries()) {
    for (const opt of ['-O1', '-Og', '-Os', '-O2', '-O3']) {
      it(`${c.name} ${opt}: compiles cleanly, sections match the plan`, async () => {
        const g: GeneratedC = generateC(c.model);
        const d = join(dir, `m${i}${opt}`);
        writeGenerated(d, g);
        const r = await execa(CC, [...M4, ...STRICT, opt, '-c', 'model.c', '-o', 'model.o'], {
          cwd: d,
          reject: false,
          all: true,
        });
        expect(r.all).toBe('');
        expect(r.exitCode).toBe(0);

        const secs = await sections(join(d, 'model.o'));
        const size = (name: string): number | undefined => secs.find((s) => s.name === name)?.size;
        const arena = secs.find((s) => s.name === '.bss.tf_arena');
        if (g.plan.arenaBytes > 0) {
          expect(arena).toMatchObject({ type: 'NOBITS', size: g.plan.arenaBytes });
        } else {
          expect(arena).toBeUndefined();
        }
        expect(size('.text.tf_kernels.tf_run')).toBeGreaterThan(0);
        let weights = 0;
        let tables = 0;
        for (const l of g.report.layers) {
          const ident = l.section;
          expect(ident).toBe(l.name.replace(/[^A-Za-z0-9_]/g, '_'));
          if (l.hasCode) expect(size(`.text.tf_kernels.${ident}`), l.name).toBeGreaterThan(0);
          else expect(size(`.text.tf_kernels.${ident}`), l.name).toBeUndefined();
          expect(size(`.rodata.tf_weights.${ident}`) ?? 0, l.name).toBe(l.weightBytes);
          expect(size(`.rodata.tf_tables.${ident}`) ?? 0, l.name).toBe(l.tableBytes);
          weights += size(`.rodata.tf_weights.${ident}`) ?? 0;
          tables += size(`.rodata.tf_tables.${ident}`) ?? 0;
          // Padding is at most 3 bytes per array.
          expect(l.weightBytes - l.bitstreamBytes - l.biasBytes).toBeLessThanOrEqual(
            l.bitstreamBytes ? 3 : 4,
          );
          expect(l.tableBytes - l.decodeTableBytes - l.shiftBytes - l.lookupTableBytes).toBeLessThanOrEqual(
            6,
          );
        }
        expect(weights).toBe(g.report.weightBytes);
        expect(tables).toBe(g.report.tableBytes);
        // No initialized RAM and no stray data: everything is in a named tinyforge section.
        for (const s of secs) {
          if (/^\.(data|bss|rodata)$/.test(s.name)) expect(s.size, s.name).toBe(0);
        }

        // Every kernel is called from tf_model_run (GCC 12.2 deleted such calls before 'noipa', see
        // templates/model.c.hbs): the relocations of the run section name each layer function.
        const rel = await execa('arm-none-eabi-readelf', ['-r', '-W', 'model.o'], { cwd: d });
        const runRel = rel.stdout
          .split('Relocation section')
          .find((t) => t.includes("'.rel.text.tf_kernels.tf_run'"));
        const called = new Set(
          [...(runRel ?? '').matchAll(/R_ARM_THM_(?:CALL|JUMP24)\s+\S+\s+(\S+)/g)].map((m) =>
            m[1].replace(/\..*$/, ''),
          ),
        );
        g.report.layers.forEach((l, index) => {
          if (l.hasCode) expect(called, `layer ${index} ${l.name}`).toContain(`tf_layer_${index}`);
        });

        // The public API is the only thing with external linkage.
        const nm = await execa('arm-none-eabi-nm', ['-g', '--defined-only', 'model.o'], { cwd: d });
        const globals = nm.stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(/\s+/).pop())
          .sort();
        expect(globals).toEqual([
          'tf_model_argmax',
          'tf_model_predict',
          'tf_model_run',
          'tf_model_run_in',
          'tf_quantize_input',
        ]);
      });
    }
  }
});
