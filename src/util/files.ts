// File helpers every stage uses: atomic writes (temporary file + rename) and JSON.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
/** SHA-256 (hex) of a file's bytes. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

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

/**
 * A new temporary folder `<parent>/.<prefix>-<pid>-<random>` for output written before it moves into
 * place. Folders of the same prefix left by processes that no longer run (killed mid-write) are
 * removed first, so killed runs do not pile up.
 */
export function stagingDir(parent: string, prefix: string): string {
  mkdirSync(parent, { recursive: true });
  const pattern = new RegExp(`^\\.${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-[0-9a-f]+$`);
  for (const name of readdirSync(parent)) {
    const pid = pattern.exec(name)?.[1];
    if (pid !== undefined && !processRuns(Number(pid)))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, `.${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  return dir;
}

/** Whether a process of this id runs (signal 0 checks without sending anything). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
