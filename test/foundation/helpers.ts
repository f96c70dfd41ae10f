// Shared by the foundation tests: fixture paths and temporary folders removed after the file.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir as sharedTempDir } from '../helpers/temp.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const C_FIXTURES = join(REPO, 'test', 'fixtures', 'c');

export function fixture(name: string): string {
  return join(C_FIXTURES, name);
}

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = 'tf-foundation-'): string {
  return sharedTempDir(prefix);
}

/** Runs fn with PATH set to `path`, restoring it afterwards. */
export async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}
