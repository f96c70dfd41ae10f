// The check's cache: a float model compressed with given settings on given data, and a .tfm built
// for a board, are each kept under a key of everything that decides them (the sweep's content
// hashes: src/sweep/hash.ts), so a CI run whose inputs did not change skips compressing and building.
//
//   <cacheDir>/compressed/<key>/model.tfm, report.json    a float model input, compressed
//   <cacheDir>/builds/<board>-<key>/                        a build folder (complete when build.json exists)
//   <cacheDir>/float/<key>.json                             a float model's accuracy on the windows run
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_FILES } from '../measure/index.js';
import { codeVersion, hashOf } from '../sweep/hash.js';
import { fileSha256, toJsonText, writeFileAtomic } from '../util/files.js';

/** SHA-256 (24 hex digits) of a file's bytes: a .tfm's identity, meta included. */
export function fileHash(path: string): string {
  return fileSha256(path).slice(0, 24);
}

/** What decides a build: the model's bytes, the board, the compiler settings and the code version. */
export interface BuildRecipe {
  tfm: string;
  board: string;
  optLevel: string;
  cflags: string[];
}

export function buildDirFor(cacheDir: string, r: BuildRecipe): string {
  return join(cacheDir, 'builds', `${r.board}-${hashOf({ kind: 'check-build', ...r, code: codeVersion() })}`);
}

/** A build folder is complete once build.json is written (buildModelFirmware writes it last). */
export function buildIsCached(dir: string): boolean {
  return existsSync(join(dir, BUILD_FILES.info));
}

/** What decides a compressed model: the float model's content, the data's, the settings, the code. */
export interface CompressRecipe {
  model: string;
  data: string;
  settings: Record<string, unknown>;
}

export function compressDirFor(cacheDir: string, r: CompressRecipe): string {
  return join(cacheDir, 'compressed', hashOf({ kind: 'check-compress', ...r, code: codeVersion() }));
}

/** A small JSON value kept under a key (float accuracies), or undefined when not yet computed. */
export function readCachedJson<T>(cacheDir: string, kind: string, key: unknown): T | undefined {
  const path = jsonPath(cacheDir, kind, key);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined; // a damaged entry is computed again
  }
}

export function writeCachedJson(cacheDir: string, kind: string, key: unknown, value: unknown): void {
  const path = jsonPath(cacheDir, kind, key);
  mkdirSync(join(cacheDir, kind), { recursive: true });
  writeFileAtomic(path, toJsonText(value));
}

function jsonPath(cacheDir: string, kind: string, key: unknown): string {
  return join(cacheDir, kind, `${hashOf({ kind, key, code: codeVersion() })}.json`);
}
