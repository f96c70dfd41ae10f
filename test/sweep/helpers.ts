// Shared by the sweep tests: repository paths, temporary folders, worker processes from sources.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { WorkerSpec } from '../../src/sweep/pool.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'test', 'sweep', 'fixtures');

/** Worker processes running src/sweep/worker.ts through a TypeScript loader. */
export const SOURCE_WORKER: WorkerSpec = {
  entry: join(REPO, 'src', 'sweep', 'worker.ts'),
  execArgv: ['--import', join(FIXTURES, 'ts-register.mjs')],
};

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = 'tf-sweep-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
