// Test support: compile generated models for the host with gcc and run them on many inputs.
// Many models link into one executable: each model.c is compiled in its own translation unit with
// its three public names renamed by macros, and a small registry lists them for harness.c.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { generateC, type GeneratedC, type RamOption } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';

export const HARNESS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'harness');

/** The flags of the acceptance criteria, on every host build. */
export const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic'];

/** Compiles with `cc`; a failure, and any output at all (a warning, a note), fails the test. */
export async function compileClean(cc: string, args: string[], cwd: string): Promise<void> {
  const r = await execa(cc, args, { cwd, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${cc} ${args.join(' ')} failed:\n${r.all}`);
  if (r.all) throw new Error(`${cc} ${args.join(' ')} printed output (unclean build):\n${r.all}`);
}

export async function hasTool(name: string): Promise<boolean> {
  return (await execa('which', [name], { reject: false })).exitCode === 0;
}

/** Whether clang is there to test with; under CI=true (which installs it) its absence is a failure. */
export async function clangPresent(): Promise<boolean> {
  const present = await hasTool('clang');
  if (!present && process.env.CI === 'true')
    throw new Error('clang is not installed: CI installs it (toolchain/install.sh clang)');
  return present;
}

export interface RunnerOptions {
  /** Extra compiler flags (optimization, sanitizers). */
  cflags?: string[];
  cc?: string;
  /** Kernel family (--ram), default fast. */
  ram?: RamOption;
}

export interface Built {
  exe: string;
  generated: GeneratedC[];
}

function wrapper(i: number): string {
  return [
    `#define tf_model_run tfm_run_${i}`,
    `#define tf_model_predict tfm_predict_${i}`,
    `#define tf_model_argmax tfm_argmax_${i}`,
    `#define tf_model_run_in tfm_run_in_${i}`,
    `#define tf_quantize_input tfm_quantize_${i}`,
    `#include "m${i}/model.c"`,
    `#include "harness.h"`,
    `const tf_test_model tfm_entry_${i} = { tfm_run_${i}, tfm_predict_${i}, tfm_argmax_${i},`,
    `    TF_INPUT_SIZE, TF_NUM_CLASSES, TF_ERR_ARG };`,
    '',
  ].join('\n');
}

function registry(n: number): string {
  const lines = ['#include "harness.h"'];
  for (let i = 0; i < n; i++) lines.push(`extern const tf_test_model tfm_entry_${i};`);
  lines.push('const tf_test_model *const tf_test_models[] = {');
  for (let i = 0; i < n; i++) lines.push(`    &tfm_entry_${i},`);
  lines.push('    0', '};', `const int tf_test_model_count = ${n};`, '');
  return lines.join('\n');
}

/** Writes a generated model's files into dir. */
export function writeGenerated(dir: string, g: GeneratedC): void {
  mkdirSync(dir, { recursive: true });
  for (const f of g.files) writeFileSync(join(dir, f.name), f.content);
}

async function gcc(cc: string, args: string[], cwd: string): Promise<void> {
  const r = await execa(cc, args, { cwd, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${cc} ${args.join(' ')} failed:\n${r.all}`);
  if (r.all) throw new Error(`${cc} printed diagnostics:\n${r.all}`);
}

/** Generates, compiles (two compilers in parallel) and links one executable for all models. */
export async function buildRunner(
  dir: string,
  models: CompressedModel[],
  opts: RunnerOptions = {},
): Promise<Built> {
  const cc = opts.cc ?? 'gcc';
  const cflags = [...STRICT, ...(opts.cflags ?? ['-O1'])];
  mkdirSync(dir, { recursive: true });
  const generated = models.map((m, i) => {
    const g = generateC(m, { sourceName: `test model ${i}`, ...(opts.ram ? { ram: opts.ram } : {}) });
    writeGenerated(join(dir, `m${i}`), g);
    writeFileSync(join(dir, `m${i}.c`), wrapper(i));
    return g;
  });
  writeFileSync(join(dir, 'registry.c'), registry(models.length));
  const sources = [...models.map((_, i) => `m${i}.c`), 'registry.c', join(HARNESS_DIR, 'harness.c')];
  const jobs = Math.max(1, Math.min(2, cpus().length));
  const chunks: string[][] = Array.from({ length: jobs }, () => []);
  sources.forEach((s, i) => chunks[i % jobs].push(s));
  await Promise.all(
    chunks.filter((c) => c.length).map((c) => gcc(cc, [...cflags, '-I', HARNESS_DIR, '-c', ...c], dir)),
  );
  const objects = sources.map((s) => s.replace(/^.*\//, '').replace(/\.c$/, '.o'));
  await gcc(cc, [...cflags, '-o', 'runner', ...objects], dir);
  return { exe: join(dir, 'runner'), generated };
}

export interface WindowResult {
  rc: number;
  predict: number;
  logits: Int8Array;
}

export interface ModelResult {
  /** run(NULL, logits), run(input, NULL), argmax(NULL) == -TF_ERR_ARG. */
  argChecks: [number, number, number];
  windows: WindowResult[];
}

export interface RunOutput {
  results: ModelResult[];
  stderr: string;
  exitCode: number;
}

/** Runs the executable on inputs[m] (windows of model m) and parses what it wrote. */
export async function runRunner(
  built: Built,
  dir: string,
  models: CompressedModel[],
  inputs: Int8Array[][],
): Promise<RunOutput> {
  inputs.forEach((ws, m) => {
    const size = models[m].inputShape[0] * models[m].inputShape[1];
    const all = new Int8Array(ws.length * size);
    ws.forEach((w, i) => all.set(w, i * size));
    writeFileSync(join(dir, `in${m}.bin`), all);
  });
  const r = await execa(built.exe, [dir], { reject: false });
  const results: ModelResult[] = [];
  if (r.exitCode === 0) {
    models.forEach((model, m) => {
      const buf = readFileSync(join(dir, `out${m}.bin`));
      const bytes = new Int8Array(buf.buffer, buf.byteOffset, buf.length);
      const k = model.classNames.length;
      const windows: WindowResult[] = [];
      for (let at = 3; at < bytes.length; at += 2 + k) {
        windows.push({ rc: bytes[at], predict: bytes[at + 1], logits: bytes.slice(at + 2, at + 2 + k) });
      }
      results.push({ argChecks: [bytes[0], bytes[1], bytes[2]], windows });
    });
  }
  return { results, stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}
