// Shared by the sweep tests: repository paths, temporary folders, worker processes from sources.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerSpec } from '../../src/sweep/pool.js';
import { tempDir as sharedTempDir } from '../helpers/temp.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'test', 'sweep', 'fixtures');

/** Worker processes running src/sweep/worker.ts through a TypeScript loader. */
export const SOURCE_WORKER: WorkerSpec = {
  entry: join(REPO, 'src', 'sweep', 'worker.ts'),
  execArgv: ['--import', join(FIXTURES, 'ts-register.mjs')],
};

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = 'tf-sweep-'): string {
  return sharedTempDir(prefix);
}
