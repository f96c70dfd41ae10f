// UCI HAR ("Human Activity Recognition Using Smartphones") from its original directory layout:
//   UCI HAR Dataset/activity_labels.txt
//   UCI HAR Dataset/{train,test}/{y,subject}_{split}.txt
//   UCI HAR Dataset/{train,test}/Inertial Signals/{body_acc,body_gyro,total_acc}_{x,y,z}_{split}.txt
// Every file may also be gzipped (name + .gz). 128 steps (2.56 s at 50 Hz) x 9 channels per window.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { cacheDir, cacheKey, readDatasetCache, writeDatasetCache } from './cache.js';
import { HAR_CHANNELS, type HarDataset, type WindowSet } from './dataset.js';
import { findPlainOrGz, parseIntColumn, parseMatrixInto, readTextFile } from './textFile.js';

export const UCI_HAR_DIRNAME = 'UCI HAR Dataset';
export const UCI_HAR_STEPS = 128;
/** Subject ids in UCI HAR are 1..30. */
const MAX_SUBJECT = 1000;

/** The 'UCI HAR Dataset' directory: `dir` itself or `dir/UCI HAR Dataset`. */
export function resolveUciHarRoot(dir: string): string {
  const abs = resolve(dir);
  const inner = join(abs, UCI_HAR_DIRNAME);
  if (existsSync(inner) && statSync(inner).isDirectory()) return inner;
  if (existsSync(join(abs, 'train')) || existsSync(join(abs, 'activity_labels.txt'))) return abs;
  if (!existsSync(abs))
    throw new TinyforgeError(
      `data directory ${abs} does not exist`,
      'input',
      'give --data <dir> or --data synthetic',
    );
  throw new TinyforgeError(
    `${abs} is not a UCI HAR directory (no '${UCI_HAR_DIRNAME}/', no train/ or activity_labels.txt)`,
    'input',
    `point --data at the directory containing '${UCI_HAR_DIRNAME}/' or at that directory itself`,
  );
}

/** Every file the loader reads, in a fixed order (plain or .gz as found); throws on a missing one. */
export function uciHarFiles(root: string): string[] {
  const files = [findPlainOrGz(join(root, 'activity_labels.txt'))];
  for (const split of ['train', 'test']) {
    files.push(findPlainOrGz(join(root, split, `y_${split}.txt`)));
    files.push(findPlainOrGz(join(root, split, `subject_${split}.txt`)));
    for (const ch of HAR_CHANNELS)
      files.push(findPlainOrGz(join(root, split, 'Inertial Signals', `${ch}_${split}.txt`)));
  }
  return files;
}

function parseActivityLabels(path: string): string[] {
  const names: string[] = [];
  const lines = readTextFile(path).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '') return;
    const m = /^(\d+)\s+(\S+)$/.exec(line);
    if (!m) throw new TinyforgeError(`${path}:${i + 1}: expected '<id> <NAME>', found '${line}'`, 'input');
    const id = Number(m[1]);
    if (id !== names.length + 1)
      throw new TinyforgeError(
        `${path}:${i + 1}: activity ids must be 1, 2, 3, ... in order; found ${id}`,
        'input',
      );
    names.push(m[2]);
  });
  if (names.length < 2) throw new TinyforgeError(`${path}: fewer than two activities listed`, 'input');
  return names;
}

function loadSplit(root: string, split: 'train' | 'test', numClasses: number): WindowSet {
  const yPath = findPlainOrGz(join(root, split, `y_${split}.txt`));
  const y = parseIntColumn(yPath, readTextFile(yPath), 1, numClasses, 'label');
  for (let i = 0; i < y.length; i++) y[i] -= 1;
  const n = y.length;
  const sPath = findPlainOrGz(join(root, split, `subject_${split}.txt`));
  const subjects = parseIntColumn(sPath, readTextFile(sPath), 1, MAX_SUBJECT, 'subject id');
  if (subjects.length !== n)
    throw new TinyforgeError(
      `${sPath}: ${subjects.length} subject ids but ${yPath} has ${n} labels`,
      'input',
    );
  const T = UCI_HAR_STEPS;
  const C = HAR_CHANNELS.length;
  const x = new Float32Array(n * T * C);
  HAR_CHANNELS.forEach((ch, c) => {
    const path = findPlainOrGz(join(root, split, 'Inertial Signals', `${ch}_${split}.txt`));
    const rows = parseMatrixInto(
      path,
      readTextFile(path),
      T,
      (row, t, v) => (x[(row * T + t) * C + c] = v),
      n,
    );
    if (rows !== n)
      throw new TinyforgeError(`${path}: ${rows} windows but ${yPath} has ${n} labels`, 'input');
  });
  return { x, y, subjects, n, steps: T, channels: C };
}

/** Parses the original files (seconds); use loadUciHar for the cached path. */
export function parseUciHar(dir: string): HarDataset {
  const root = resolveUciHarRoot(dir);
  const classNames = parseActivityLabels(findPlainOrGz(join(root, 'activity_labels.txt')));
  return {
    kind: 'uci-har',
    spec: root,
    source: `UCI HAR at ${root}`,
    classNames,
    channelNames: [...HAR_CHANNELS],
    train: loadSplit(root, 'train', classNames.length),
    test: loadSplit(root, 'test', classNames.length),
  };
}

export interface LoadOptions {
  /** Use and fill the binary cache (default true). */
  cache?: boolean;
}

/** UCI HAR from `dir`, parsed once and then read from the binary cache. */
export function loadUciHar(dir: string, opts: LoadOptions = {}): HarDataset {
  const root = resolveUciHarRoot(dir);
  const files = uciHarFiles(root);
  if (opts.cache === false) return parseUciHar(root);
  const path = join(cacheDir(), `uci-har-${cacheKey('uci-har', files)}.bin`);
  const cached = readDatasetCache(path);
  if (cached) return cached;
  const ds = parseUciHar(root);
  try {
    writeDatasetCache(path, ds);
  } catch (e) {
    // A read-only checkout still works, only slower.
    process.stderr.write(`tinyforge: warning: cannot write data cache ${path}: ${(e as Error).message}\n`);
  }
  return ds;
}
