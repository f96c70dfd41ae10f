// The files a description names: globs expanded relative to the description's folder (tinyglobby),
// each classified by its extension and given the subject/session its path carries.
import { existsSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { descriptionError, type ArraySource, type Description } from './description.js';

export type SourceFormat = 'csv' | 'tsv' | 'npz' | 'npy';

export interface SourceFile {
  /** Absolute path (for an NPY source: the X array). */
  path: string;
  /** Path relative to the description's folder, '/'-separated: how reports and errors name it. */
  rel: string;
  format: SourceFormat;
  /** NPY sources: absolute paths of the y and subject arrays. */
  npy?: { y: string; subject?: string };
  /** From the file-name pattern. */
  subject?: string;
  session?: string;
}

const FORMATS: Record<string, SourceFormat> = { '.csv': 'csv', '.tsv': 'tsv', '.tab': 'tsv', '.npz': 'npz' };

function relName(d: Description, path: string): string {
  const rel = relative(d.dir, path);
  return (rel.startsWith('..') || isAbsolute(rel) ? path : rel).split(sep).join('/');
}

function expandPattern(d: Description, pattern: string, index: number): string[] {
  if (!isDynamicPattern(pattern)) {
    const path = resolve(d.dir, pattern);
    if (!existsSync(path)) throw descriptionError(d.path, ['sources', index], `file ${path} does not exist`);
    return [path];
  }
  const found = globSync([pattern], {
    cwd: d.dir,
    absolute: true,
    onlyFiles: true,
    expandDirectories: false,
  });
  if (found.length === 0)
    throw descriptionError(d.path, ['sources', index], `'${pattern}' matches no file (looked in ${d.dir})`);
  return found.map((f) => resolve(f));
}

function formatOf(d: Description, path: string, index: number): SourceFormat {
  const f = FORMATS[extname(path).toLowerCase()];
  if (f) return f;
  const why =
    extname(path).toLowerCase() === '.npy'
      ? 'an .npy file holds one array: give {"x": "X.npy", "y": "y.npy"} for already-windowed arrays'
      : 'not a .csv, .tsv or .npz file';
  throw descriptionError(d.path, ['sources', index], `${path}: ${why}`);
}

/** subject and session from the path, by the description's fileName pattern. */
function fromFileName(d: Description, rel: string): { subject?: string; session?: string } {
  if (!d.fileName) return {};
  const m = d.fileName.exec(rel);
  if (!m)
    throw descriptionError(d.path, ['fileName'], `${rel} does not match the pattern ${String(d.fileName)}`);
  const g = m.groups ?? {};
  return { subject: g.subject, session: g.session };
}

function arraySource(d: Description, s: ArraySource, index: number): SourceFile {
  const abs = (p: string, key: string) => {
    const path = resolve(d.dir, p);
    if (!existsSync(path))
      throw descriptionError(d.path, ['sources', index, key], `file ${path} does not exist`);
    return path;
  };
  const path = abs(s.x, 'x');
  const rel = relName(d, path);
  const npy = { y: abs(s.y, 'y'), subject: s.subject === undefined ? undefined : abs(s.subject, 'subject') };
  return { path, rel, format: 'npy', npy, ...fromFileName(d, rel) };
}

/** Every file of the description once, sorted by path within each source entry. */
export function expandSources(d: Description): SourceFile[] {
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  d.sources.forEach((s, index) => {
    if (typeof s !== 'string') {
      out.push(arraySource(d, s, index));
      return;
    }
    for (const path of expandPattern(d, s, index).sort()) {
      if (seen.has(path)) continue;
      seen.add(path);
      const rel = relName(d, path);
      out.push({ path, rel, format: formatOf(d, path, index), ...fromFileName(d, rel) });
    }
  });
  return out;
}
