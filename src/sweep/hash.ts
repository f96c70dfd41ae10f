// Cache keys: a point's result is reused when, and only when, everything that decides it is the
// same: its settings, the trained model's recipe, the data's content and the code version.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HarDataset } from '../data/dataset.js';
import type { ArchSpec } from '../graph/arch.js';
import type { CompressionSettings, SweepPoint, TrainingSettings } from './config.js';

/**
 * Bumped whenever a stage would compute a different result from the same inputs (a changed
 * training loop, quantizer, coder, ...), so stale cache entries are never mistaken for new ones.
 */
export const SWEEP_CACHE_VERSION = 1;

function packageVersion(): string {
  // this file is src/sweep/hash.ts or dist/sweep/hash.js: two levels up is the package root.
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '0';
  } catch {
    return '0';
  }
}

/** The code version string every key includes. */
export const CODE_VERSION = `tinyforge ${packageVersion()} sweep-cache/${SWEEP_CACHE_VERSION}`;

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
  for (const set of [ds.train, ds.test]) {
    h.update(`|${set.n},${set.steps},${set.channels}|`);
    for (const a of [set.x, set.y, set.subjects ?? new Int32Array(0)])
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return `${ds.kind}:${h.digest('hex').slice(0, 24)}`;
}

/** What decides a width's float model. */
export interface ModelRecipe {
  code: string;
  data: string;
  /** The architecture at this width, defaults applied. */
  arch: ArchSpec;
  training: TrainingSettings;
  seed: number;
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
