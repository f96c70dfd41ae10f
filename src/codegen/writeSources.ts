// Writes generated sources into a directory all-or-nothing: every file goes to a temporary name
// first, and only when all are written are they renamed into place.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import type { GeneratedFile } from './generate.js';

export async function writeSources(dir: string, files: GeneratedFile[]): Promise<string[]> {
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const temps: { tmp: string; path: string }[] = [];
  try {
    await mkdir(dir, { recursive: true });
    for (const f of files) {
      const path = join(dir, f.name);
      const tmp = join(dir, `.${f.name}.${tag}.tmp`);
      temps.push({ tmp, path });
      await writeFile(tmp, f.content);
    }
    for (const t of temps) await rename(t.tmp, t.path);
  } catch (e) {
    await Promise.all(temps.map((t) => unlink(t.tmp).catch(() => undefined)));
    throw new TinyforgeError(
      `cannot write the C sources to '${dir}': ${(e as Error).message}`,
      'input',
      'check that the output directory can be created and written',
    );
  }
  return temps.map((t) => t.path);
}
