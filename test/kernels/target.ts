// Test support: compile generated models into one firmware for netduinoplus2, run it on QEMU with
// many windows per model, and read back logits and instruction counts (harness/kmain.c).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateC, type GeneratedC, type RamOption } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { buildFirmware, type FirmwareBuild } from '../../src/crossbuild/compile.js';
import { parseTfRecords, requireTargetSuccess } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';

export const KHARNESS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'harness');

export interface KernelFirmware {
  build: FirmwareBuild;
  generated: GeneratedC[];
  dir: string;
  models: CompressedModel[];
}

export function wrapper(i: number): string {
  return [
    `#define tf_model_run tfk_run_${i}`,
    `#define tf_model_predict tfk_predict_${i}`,
    `#define tf_model_argmax tfk_argmax_${i}`,
    `#define tf_model_run_in tfk_run_in_${i}`,
    `#define tf_quantize_input tfk_quantize_${i}`,
    `#include "m${i}/model.c"`,
    `#include "kharness.h"`,
    `const tfk_model tfk_entry_${i} = { tfk_run_${i}, TF_INPUT_SIZE, TF_NUM_CLASSES, TF_NUM_LAYERS, TF_DSP };`,
    '',
  ].join('\n');
}

export function registry(n: number): string {
  const lines = ['#include "kharness.h"'];
  for (let i = 0; i < n; i++) lines.push(`extern const tfk_model tfk_entry_${i};`);
  lines.push('const tfk_model *const tfk_models[] = {');
  for (let i = 0; i < n; i++) lines.push(`    &tfk_entry_${i},`);
  lines.push('    0', '};', `const int tfk_model_count = ${n};`, '');
  return lines.join('\n');
}

export interface KernelBuildOptions {
  /** Per-layer instruction marks (TF_LAYER_BEGIN/END hooks). */
  hooks?: boolean;
  /** The CRC-32 of every layer's output of every window (klayers.h); not with `hooks`. */
  layerCrcs?: boolean;
  optLevel?: string;
  name?: string;
  /** Extra compiler flags (e.g. -DTF_PORTABLE to build the portable path for the target). */
  cflags?: string[];
  /** Kernel family (--ram), default fast. */
  ram?: RamOption;
}

/** Generates every model, writes a wrapper per model and links them all into one firmware. */
export async function buildKernelFirmware(
  dir: string,
  models: CompressedModel[],
  opts: KernelBuildOptions = {},
): Promise<KernelFirmware> {
  mkdirSync(dir, { recursive: true });
  const generated = models.map((m, i) => {
    const g = generateC(m, { sourceName: `kernel test model ${i}`, ...(opts.ram ? { ram: opts.ram } : {}) });
    mkdirSync(join(dir, `m${i}`), { recursive: true });
    for (const f of g.files) writeFileSync(join(dir, `m${i}`, f.name), f.content);
    writeFileSync(join(dir, `m${i}.c`), wrapper(i));
    return g;
  });
  writeFileSync(join(dir, 'registry.c'), registry(models.length));
  const sources = [
    ...models.map((_, i) => join(dir, `m${i}.c`)),
    join(dir, 'registry.c'),
    join(KHARNESS_DIR, 'kmain.c'),
  ];
  const build = await buildFirmware({
    board: 'netduinoplus2',
    sources,
    includeDirs: [dir, KHARNESS_DIR],
    defines: opts.layerCrcs
      ? { TF_HOOKS_HEADER: '"klayers.h"', TFK_LAYER_CRC: '1' }
      : opts.hooks
        ? { TF_HOOKS_HEADER: '"khooks.h"' }
        : {},
    optLevel: opts.optLevel ?? '-O2',
    extraCFlags: opts.cflags,
    outDir: join(dir, 'out'),
    name: opts.name ?? 'kernels',
  });
  return { build, generated, dir, models };
}

export interface KernelRun {
  /** logits[model][window] */
  logits: Int8Array[][];
  rc: number[][];
  /** Instructions of tf_model_run on the first window of each model. */
  instructions: number[];
  /** Per-layer instructions on the first window (meaningful with hooks). */
  layers: number[][];
  /** TF_DSP of each model's kernels as compiled (1: the Cortex-M4 code). */
  dsp: number[];
  /** layerCrcs[model][window][layer]: CRC-32 of the layer's output (builds with layerCrcs). */
  layerCrcs: number[][][];
  wallMs: number;
}

/** The records of a kernel harness run (on QEMU or on the host), per model. */
export function parseKernelRun(stdout: string, models: number): Omit<KernelRun, 'wallMs'> {
  const logits: Int8Array[][] = Array.from({ length: models }, () => []);
  const rc: number[][] = Array.from({ length: models }, () => []);
  const instructions: number[] = new Array<number>(models).fill(-1);
  const layers: number[][] = Array.from({ length: models }, () => []);
  const dsp: number[] = new Array<number>(models).fill(-1);
  const layerCrcs: number[][][] = Array.from({ length: models }, () => []);
  for (const r of parseTfRecords(stdout)) {
    if (r.key === 'out') {
      const [m, w, code, hex] = r.fields;
      logits[Number(m)][Number(w)] = Int8Array.from(Buffer.from(hex ?? '', 'hex'));
      rc[Number(m)][Number(w)] = Number(code);
    } else if (r.key === 'instr') {
      instructions[Number(r.fields[0].slice(1))] = Number(r.fields[1]);
    } else if (r.key === 'dsp') {
      dsp[Number(r.fields[0])] = Number(r.fields[1]);
    } else if (r.key === 'layer') {
      layers[Number(r.fields[0])][Number(r.fields[1])] = Number(r.fields[2]);
    } else if (r.key === 'lcrc') {
      const [m, w, l, crc] = r.fields.map((f, i) => (i === 3 ? parseInt(f, 16) : Number(f)));
      (layerCrcs[m][w] ??= [])[l] = crc;
    }
  }
  return { logits, rc, instructions, layers, dsp, layerCrcs };
}

/** Runs the firmware on inputs[m] (the windows of model m). */
export async function runKernelFirmware(fw: KernelFirmware, inputs: Int8Array[][]): Promise<KernelRun> {
  const runDir = join(fw.dir, 'out');
  inputs.forEach((ws, m) => {
    const size = fw.models[m].inputShape[0] * fw.models[m].inputShape[1];
    const all = new Int8Array(ws.length * size);
    ws.forEach((w, i) => all.set(w, i * size));
    writeFileSync(join(runDir, `in${m}.bin`), all);
  });
  const run = await runOnQemu({ board: 'netduinoplus2', elf: fw.build.elf, cwd: runDir, timeoutMs: 300_000 });
  requireTargetSuccess(run, 'the kernel test firmware');
  return { ...parseKernelRun(run.stdout, fw.models.length), wallMs: run.wallMs };
}

/** RAM the models' arenas may take in one firmware (the board has 128 KB; stdio, stack and heap need the rest). */
const ARENA_BUDGET = 80 * 1024;

/**
 * Builds as many firmwares as the models' arenas need (two at a time) and runs each on its models'
 * windows; the results come back in model order.
 */
export async function runOnTarget(
  dir: string,
  models: CompressedModel[],
  inputs: Int8Array[][],
  opts: KernelBuildOptions = {},
): Promise<KernelRun> {
  const groups: number[][] = [];
  let used = Infinity;
  models.forEach((m, i) => {
    const arena = generateC(m, opts.ram ? { ram: opts.ram } : {}).plan.arenaBytes;
    if (used + arena > ARENA_BUDGET) {
      groups.push([]);
      used = 0;
    }
    groups[groups.length - 1].push(i);
    used += arena;
  });
  const runs: KernelRun[] = new Array<KernelRun>(groups.length);
  const one = async (g: number): Promise<void> => {
    const fw = await buildKernelFirmware(
      join(dir, `fw${g}`),
      groups[g].map((i) => models[i]),
      { ...opts, name: `kernels${g}` },
    );
    runs[g] = await runKernelFirmware(
      fw,
      groups[g].map((i) => inputs[i]),
    );
  };
  for (let g = 0; g < groups.length; g += 2) {
    await Promise.all([one(g), ...(g + 1 < groups.length ? [one(g + 1)] : [])]);
  }
  const out: KernelRun = {
    logits: [],
    rc: [],
    instructions: [],
    layers: [],
    dsp: [],
    layerCrcs: [],
    wallMs: 0,
  };
  groups.forEach((g, k) => {
    g.forEach((i, j) => {
      out.logits[i] = runs[k].logits[j];
      out.rc[i] = runs[k].rc[j];
      out.instructions[i] = runs[k].instructions[j];
      out.layers[i] = runs[k].layers[j];
      out.dsp[i] = runs[k].dsp[j];
      out.layerCrcs[i] = runs[k].layerCrcs[j];
    });
    out.wallMs += runs[k].wallMs;
  });
  return out;
}
