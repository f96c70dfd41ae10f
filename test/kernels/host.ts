// The on-target kernel harness (harness/kmain.c) compiled for the host: the same models, windows and
// records as on QEMU, with host compilers (gcc, clang) and strict flags, through a host stand-in for
// tf_target.h (harness/host/). Per-layer CRCs (klayers.h) compare every layer, not only the logits.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { generateC } from '../../src/codegen/generate.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { STRICT } from '../codegen/cbuild.js';
import { KHARNESS_DIR, parseKernelRun, registry, wrapper, type KernelRun } from './target.js';

export interface HostKernelOptions {
  cc?: string;
  cflags?: string[];
}

/** Builds every model with kmain.c for the host and runs it on inputs[m]; CRCs of every layer. */
export async function runKernelsOnHost(
  dir: string,
  models: CompressedModel[],
  inputs: Int8Array[][],
  opts: HostKernelOptions = {},
): Promise<KernelRun> {
  mkdirSync(dir, { recursive: true });
  models.forEach((m, i) => {
    const g = generateC(m, { sourceName: `host kernel test model ${i}` });
    mkdirSync(join(dir, `m${i}`), { recursive: true });
    for (const f of g.files) writeFileSync(join(dir, `m${i}`, f.name), f.content);
    writeFileSync(join(dir, `m${i}.c`), wrapper(i));
  });
  writeFileSync(join(dir, 'registry.c'), registry(models.length));
  inputs.forEach((ws, m) => {
    const all = new Int8Array(ws.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of ws) all.set(w, (at += w.length) - w.length);
    writeFileSync(join(dir, `in${m}.bin`), all);
  });
  const cc = opts.cc ?? 'gcc';
  const sources = [...models.map((_, i) => `m${i}.c`), 'registry.c', join(KHARNESS_DIR, 'kmain.c')];
  const args = [
    ...STRICT,
    ...(opts.cflags ?? ['-O2']),
    '-I',
    join(KHARNESS_DIR, 'host'),
    '-I',
    KHARNESS_DIR,
    '-I',
    dir,
    '-DTF_HOOKS_HEADER="klayers.h"',
    '-DTFK_LAYER_CRC=1',
    '-o',
    'kernels',
    ...sources,
  ];
  const t0 = performance.now();
  const built = await execa(cc, args, { cwd: dir, reject: false, all: true });
  if (built.exitCode !== 0 || built.all) throw new Error(`${cc} ${args.join(' ')}:\n${built.all ?? ''}`);
  const run = await execa(join(dir, 'kernels'), [], { cwd: dir, reject: false });
  if (run.exitCode !== 0) throw new Error(`the host kernel harness failed (${run.exitCode}): ${run.stderr}`);
  return { ...parseKernelRun(run.stdout, models.length), wallMs: performance.now() - t0 };
}
