// File helpers every stage uses: atomic writes (temporary file + rename) and JSON.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes a file so that readers see the old or the new content, never a part. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** JSON with typed arrays as plain arrays, indented, newline-terminated. */
export function toJsonText(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_k, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as never) : v),
      2,
    ) + '\n'
  );
}

/**
 * Writes a directory whole or not at all: `fill` writes it at a hidden sibling, which then takes
 * `dir`'s place (the previous one is moved aside first and removed only afterwards). Killed at any
 * moment, `dir` holds the previous directory or the new one, complete, or (between the two renames)
 * nothing, with the previous one at `<dir>.old-<pid>`; never a mix of the two.
 */
export async function replaceDirectory(
  dir: string,
  fill: (tmp: string) => Promise<void> | void,
): Promise<void> {
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  const old = `${dir}.old-${tag}`;
  try {
    await fill(tmp);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
