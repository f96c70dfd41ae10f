// Shared by the CLI tests in this folder: a network small enough to train in a second.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchSpec } from '../../src/graph/arch.js';

export const TINY_ARCH: ArchSpec = {
  name: 'cli-tiny',
  layers: [
    { type: 'conv1d', filters: 4, kernelSize: 5, stride: 4, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
};

/** TINY_ARCH as an architecture file in `dir` (for `tinyforge train --arch`). */
export function writeTinyArch(dir: string): string {
  const p = join(dir, 'tiny.json');
  writeFileSync(p, JSON.stringify(TINY_ARCH));
  return p;
}
