// Models for the export tests: seeded har-default networks (no training) whose classes vary over
// the first test windows of a small synthetic data set, recorded in the .tfm as compress records it.
import { join } from 'node:path';
import { execa } from 'execa';
import { HAR_CLASSES } from '../../src/data/dataset.js';
import {
  calibrationWindows,
  compressVariant,
  harDefaultGraph,
  randomFloatModel,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { writeTfm } from '../../src/qmodel/index.js';

export const DATA = 'synthetic:seed=3,train=60,test=24,subjects=4';

/**
 * har-default with seeded weights: variant 5 (4-bit rle-huffman, 80% pruned) of seed 1 and variant 0
 * (8-bit packed) of seed 2 predict several classes on the first 8 test windows of DATA.
 */
export function seededModel(variant: 0 | 5): CompressedModel {
  const g = harDefaultGraph();
  const seed = variant === 5 ? 1 : 2;
  const m = compressVariant(randomFloatModel(g, seed), VARIANTS[variant], calibrationWindows(g, 16, 3));
  return { ...m, classNames: [...HAR_CLASSES], meta: { ...m.meta, source: { data: DATA } } };
}

export async function writeModel(dir: string, variant: 0 | 5): Promise<string> {
  const path = join(dir, `v${variant}.tfm`);
  await writeTfm(path, seededModel(variant));
  return path;
}

/** A tool the test needs; its absence is a failure (CI installs every one). */
export async function requireTool(name: string): Promise<void> {
  const r = await execa('which', [name], { reject: false });
  if (r.exitCode !== 0) throw new Error(`${name} is not installed: the export tests build with it`);
}

/** Runs a command; a non-zero exit fails the test with its output. */
export async function sh(file: string, args: string[], cwd: string): Promise<string> {
  const r = await execa(file, args, { cwd, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
  return r.all ?? '';
}
