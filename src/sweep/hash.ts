// Cache keys: a point's result is reused when, and only when, everything that decides it is the
// same: its settings, the trained model's recipe, the data's content and the code version (the
// content of the source, templates and firmware, and the compiler and QEMU versions).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HarDataset } from '../data/dataset.js';
import type { ArchSpec } from '../graph/arch.js';
import type { CompressionSettings, SweepPoint, TrainingSettings } from './config.js';

/** The package root: this file is src/sweep/hash.ts or dist/sweep/hash.js, two levels down. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The folders whose content decides a result. src/ rather than dist/: the TypeScript source is what
 * a developer edits, and dist/ is built from it, so both ways of running give the same key.
 */
export const CODE_FOLDERS = ['src', 'templates', 'firmware'] as const;

/** First lines of `--version` of the tools that build and run the firmware. */
export interface ToolVersions {
  gcc: string;
  qemu: string;
}

/** `<tool> --version`'s first line, or 'missing': the target stage reports missing tools itself. */
function firstVersionLine(tool: string): string {
  try {
    const out = execFileSync(tool, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    });
    return out.split('\n')[0]!.trim() || 'missing';
  } catch {
    return 'missing';
  }
}

export function toolVersions(): ToolVersions {
  return { gcc: firstVersionLine('arm-none-eabi-gcc'), qemu: firstVersionLine('qemu-system-arm') };
}

/** Files under `rel` (root-relative, '/'-separated so the list is the same on every OS). */
function listFiles(root: string, rel: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, rel));
  } catch {
    return []; // an absent folder has no files; the paths in the digest show it
  }
  return names.flatMap((name) => {
    const path = `${rel}/${name}`;
    // stat follows symlinks (what counts is the content a build reads); a dangling one, such as an
    // editor's lock file, has no content and is left out.
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? listFiles(root, path) : [path];
  });
}

/**
 * SHA-256 over the paths and contents of every file under `root`'s CODE_FOLDERS, plus the tool
 * versions. Paths are root-relative and sorted, so neither mtimes, the order the file system
 * lists them in, nor where the repository is checked out change it.
 */
export function codeDigest(root: string, tools: ToolVersions = toolVersions()): string {
  const h = createHash('sha256');
  h.update(canonicalJson(tools));
  const files = CODE_FOLDERS.flatMap((f) => listFiles(root, f)).sort(); // code-unit order: locale-free
  for (const path of files) {
    const content = readFileSync(join(root, path));
    // path and length first, so no two different file sets hash the same byte stream.
    h.update(`\0${path}\0${content.length}\0`).update(content);
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

let memo: string | undefined;

/**
 * The code version every cache key includes: codeDigest of the package root. Computed on first use
 * and kept for the process (reading ~150 files and running two tools is not free, and --help or
 * commands without a sweep never need it).
 */
export function codeVersion(): string {
  return (memo ??= codeDigest(PACKAGE_ROOT));
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`cannot hash ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** 16 hex digits of the SHA-256 of the canonical JSON (64 bits: no collision in any real sweep). */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** Identity of a data set by content (windows, labels, subjects), not by where it was read from. */
export function dataIdentity(ds: HarDataset): string {
  const h = createHash('sha256');
  h.update(canonicalJson({ kind: ds.kind, classes: ds.classNames, channels: ds.channelNames }));
  // A description's own validation split is part of the data (absent for UCI HAR and synthetic).
  for (const set of [ds.train, ds.test, ...(ds.val ? [ds.val] : [])]) {
    h.update(`|${set.n},${set.steps},${set.channels}|`);
    for (const a of [set.x, set.y, set.subjects ?? new Int32Array(0)])
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return `${ds.kind}:${h.digest('hex').slice(0, 24)}`;
}

/** What decides a width's float model: a recipe to train, or a given model's content. */
export interface ModelRecipe {
  code: string;
  data: string;
  /** The architecture at this width, defaults applied. */
  arch?: ArchSpec;
  training?: TrainingSettings;
  /** Content hash of a model the configuration gives (contentHash). */
  model?: string;
  seed: number;
}

/** SHA-256 of a model file, or of every file of a model directory (names and bytes, sorted). */
export function contentHash(path: string): string {
  const h = createHash('sha256');
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => statSync(join(path, f)).isFile())
        .sort()
    : [''];
  for (const f of files) h.update(`|${f}|`).update(readFileSync(f ? join(path, f) : path));
  return h.digest('hex').slice(0, 24);
}

/** What decides a point's result, given its float model. */
export interface PointRecipe {
  code: string;
  data: string;
  model: string;
  point: SweepPoint;
  /** Absent for float points: no compression runs. */
  compression?: CompressionSettings;
  seed: number;
}

export function modelKey(r: ModelRecipe): string {
  return hashOf({ kind: 'model', ...r });
}

export function pointKey(r: PointRecipe): string {
  return hashOf({ kind: 'point', ...r });
}
