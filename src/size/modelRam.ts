// Model RAM in the size report: the arena (.bss.tf_arena, from the map) plus the stack one inference
// used (run.json's inferenceStackBytes, written by `tinyforge run`), next to the liveness optimum of
// the model's graph (build.json's codegen.livenessBytes, written by `tinyforge build`): what the
// model itself needs, and the least any arena plan of its operators could take.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export interface ModelRam {
  arena: number;
  inferenceStack: number;
  /** arena + inferenceStack. */
  total: number;
  /** The graph's liveness optimum (bytes of arena), when build.json is beside the map. */
  livenessBytes: number | null;
  source: string;
}

const RunStack = z.object({ inferenceStackBytes: z.number().int().nonnegative() });
const BuildLiveness = z.object({ codegen: z.object({ livenessBytes: z.number().int().nonnegative() }) });

async function jsonOf(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined; // absent or unreadable: the line is left out (run.json errors are readPeakStack's)
  }
}

/** Model RAM from the run.json / build.json in `dirs` (first found); null without a measured stack. */
export async function readModelRam(dirs: string[], arena: number): Promise<ModelRam | null> {
  for (const d of dirs) {
    const runJson = path.join(d, 'run.json');
    const run = RunStack.safeParse(await jsonOf(runJson));
    if (!run.success) continue;
    const build = BuildLiveness.safeParse(await jsonOf(path.join(d, 'build.json')));
    const inferenceStack = run.data.inferenceStackBytes;
    return {
      arena,
      inferenceStack,
      total: arena + inferenceStack,
      livenessBytes: build.success ? build.data.codegen.livenessBytes : null,
      source: runJson,
    };
  }
  return null;
}
