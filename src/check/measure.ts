// The measuring half of `tinyforge check`: the model as a .tfm (compressing a float model first),
// the windows to run, the float model's accuracy when a threshold needs it, then per board a build
// (reused from the cache when its inputs are unchanged) and one QEMU run over all the windows.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getBoard } from '../boards/boards.js';
import {
  compressOptionsFrom,
  compressModelDir,
  COMPRESS_OPTIONS,
  type CompressArgs,
} from '../cli/commands/compress.js';
import { takeWindows } from '../cli/commands/build.js';
import { dataForTfm, modelDirAndData, runSplit, type ModelData } from '../cli/data.js';
import { floatAccuracy } from '../compress/compress.js';
import type { WindowSet } from '../data/dataset.js';
import { applyNormalization } from '../data/normalize.js';
import { deployableGraph } from '../graph/fold.js';
import { loadModel } from '../import/loadModel.js';
import {
  agreementError,
  buildModelFirmware,
  hostReference,
  measureOnTarget,
  quantizeWindows,
  type HostReferenceRun,
} from '../measure/index.js';
import type { ProgressMode } from '../measure/ticker.js';
import type { CompressedModel } from '../qmodel/model.js';
import { readTfm, writeTfm } from '../qmodel/index.js';
import { contentHash, dataIdentity } from '../sweep/hash.js';
import type { LoadedModelDir } from '../train/modelDir.js';
import { TinyforgeError } from '../util/errors.js';
import {
  buildDirFor,
  buildIsCached,
  compressDirFor,
  fileHash,
  readCachedJson,
  writeCachedJson,
} from './cache.js';
import type { CheckConfig, CompressionConfig } from './config.js';
import { figuresOf, type BoardFigures } from './figures.js';

export interface BoardMeasurement {
  board: string;
  build: { dir: string; cached: boolean };
  figures: BoardFigures;
}

/** Everything a check measured: what its JSON keeps, and what --measured and --baseline read back. */
export interface CheckMeasurements {
  model: {
    input: string;
    tfm: string;
    /** 'given' (a .tfm), 'compressed' (in this run) or 'cached' (compressed by an earlier run). */
    compression: 'given' | 'compressed' | 'cached';
  };
  data: { spec: string; recorded: boolean; split: 'test' | 'train'; windows: number };
  /** The float model's accuracy on the same windows (measured when maxAccuracyDrop is set). */
  floatAccuracy?: number;
  boards: BoardMeasurement[];
}

export interface MeasureCheckOptions {
  config: CheckConfig;
  /** gcc level as a flag ('-O2'). */
  optLevel: string;
  cflags: string[];
  log(line: string): void;
  progress: ProgressMode;
  /** --json: no progress bars or backend notes while compressing. */
  quiet: boolean;
}

/** compress's flags with its defaults, the configuration's settings over them. */
function compressArgs(c: CompressionConfig = {}): CompressArgs {
  const d: Record<string, unknown> = Object.fromEntries(
    Object.entries(COMPRESS_OPTIONS).map(([k, o]) => [k, o.default]),
  );
  const given: Record<string, unknown> = {
    prune: c.prune,
    structured: c.structured,
    'prune-scope': c.pruneScope,
    bits: c.bits,
    'per-channel': c.perChannel,
    coding: c.coding,
    'finetune-epochs': c.finetuneEpochs,
    seed: c.seed,
    lr: c.lr,
    'batch-size': c.batchSize,
  };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) d[k] = v;
  return { ...(d as unknown as CompressArgs), 'eval-split': 'test' };
}

interface ResolvedModel {
  tfm: string;
  model: CompressedModel;
  data: ModelData;
  compression: CheckMeasurements['model']['compression'];
  /** The float model, in memory or as a path, for the accuracy drop. */
  float?: { loaded?: LoadedModelDir; path: string };
}

const isTfm = (path: string) => path.toLowerCase().endsWith('.tfm');

/** The float model a .tfm came from: the configuration's floatModel, else its record if still there. */
function recordedFloatModel(model: CompressedModel, given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const m = (model.meta.source as { model?: unknown } | undefined)?.model;
  return typeof m === 'string' && existsSync(m) ? m : undefined;
}

async function resolveModel(o: MeasureCheckOptions): Promise<ResolvedModel> {
  const { config: c } = o;
  const input = c.model;
  if (input === undefined)
    throw new TinyforgeError(
      'no model to check',
      'usage',
      'name it: tinyforge check <model>, or "model" in tinyforge.check.json (a .tfm, a model directory or a .h5/.keras/.tflite/.onnx file)',
    );
  if (isTfm(input)) {
    if (c.compression && Object.keys(c.compression).length > 0)
      throw new TinyforgeError(
        `${input} is compressed already: compression settings apply to a float model`,
        'usage',
        'leave out the compression settings, or give the float model (a model directory or an importable file)',
      );
    const model = await readTfm(input);
    const floatPath = recordedFloatModel(model, c.floatModel);
    return {
      tfm: input,
      model,
      data: dataForTfm(c.data, model, input),
      compression: 'given',
      ...(floatPath ? { float: { path: floatPath } } : {}),
    };
  }
  const { loaded, data } = await modelDirAndData(input, c.data);
  const args = compressArgs(c.compression);
  const dir = compressDirFor(c.cacheDir, {
    model: contentHash(input),
    data: dataIdentity(data.dataset),
    settings: { ...compressOptionsFrom(args) },
  });
  const tfm = join(dir, 'model.tfm');
  const cached = existsSync(tfm);
  if (cached) o.log(`check: compressed model reused from the cache (${tfm})`);
  else {
    const { model } = await compressModelDir(
      { ...args, model: input, data: c.data, json: o.quiet },
      o.log,
      'check',
    );
    mkdirSync(dir, { recursive: true });
    await writeTfm(tfm, model); // atomic: the cache never holds a part of a model
  }
  return {
    tfm,
    model: await readTfm(tfm),
    data,
    compression: cached ? 'cached' : 'compressed',
    float: { loaded, path: input },
  };
}

/** The float model's accuracy on the windows run, cached by model and data content. */
async function floatAccuracyOn(m: ResolvedModel, set: WindowSet, o: MeasureCheckOptions): Promise<number> {
  if (!m.float)
    throw new TinyforgeError(
      `maxAccuracyDrop needs the float model, and ${m.tfm} does not record one that exists`,
      'usage',
      'give "floatModel" in the configuration (or --float-model): the model directory or file it was compressed from',
    );
  const key = {
    model: contentHash(m.float.path),
    data: dataIdentity(m.data.dataset),
    split: o.config.split,
    windows: set.n,
  };
  const known = readCachedJson<{ accuracy: number }>(o.config.cacheDir, 'float', key);
  if (known) return known.accuracy;
  const loaded = m.float.loaded ?? (await loadModel(m.float.path));
  const accuracy = floatAccuracy(
    deployableGraph(loaded.model),
    applyNormalization(set, loaded.normalization),
  );
  writeCachedJson(o.config.cacheDir, 'float', key, { accuracy });
  return accuracy;
}

/** The windows every board runs, as the model's int8 inputs, and the host reference over them. */
interface Inputs {
  inputs: Int8Array;
  labels: Int32Array;
  n: number;
  host: Promise<HostReferenceRun>;
}

async function measureBoard(
  board: string,
  m: ResolvedModel,
  run: Inputs,
  o: MeasureCheckOptions,
): Promise<BoardMeasurement> {
  const dir = buildDirFor(o.config.cacheDir, {
    tfm: fileHash(m.tfm),
    board,
    optLevel: o.optLevel,
    cflags: o.cflags,
  });
  const cached = buildIsCached(dir);
  if (!cached)
    await buildModelFirmware({
      tfmPath: m.tfm,
      board,
      outDir: dir,
      optLevel: o.optLevel,
      extraCFlags: o.cflags,
    });
  o.log(
    `check: ${board}: ${cached ? 'build reused from the cache' : 'built'} (${dir}); running ${run.n} windows`,
  );
  const r = await measureOnTarget({
    buildDir: dir,
    model: m.model,
    inputs: run.inputs,
    labels: run.labels,
    n: run.n,
    host: run.host,
    timeoutMs: o.config.timeout !== undefined ? o.config.timeout * 1000 : undefined,
    progress: o.progress,
  });
  return { board, build: { dir, cached }, figures: figuresOf(r, agreementError(r)?.message) };
}

/** Compresses (if needed), builds (if not cached) and runs every board; see the header. */
export async function measureCheck(o: MeasureCheckOptions): Promise<CheckMeasurements> {
  const c = o.config;
  for (const b of c.boards) getBoard(b); // an unknown board fails before any work
  const m = await resolveModel(o);
  const set = takeWindows(runSplit(m.data.dataset, c.split), c.limit, 'limit');
  const floatAcc = c.thresholds.maxAccuracyDrop !== undefined ? await floatAccuracyOn(m, set, o) : undefined;
  // Boards side by side: each build and QEMU run is a process of its own. Two elapsed-time lines
  // would overwrite each other on a terminal: with several boards the log lines say what runs.
  const each = c.boards.length > 1 ? { ...o, progress: 'none' as const } : o;
  // One host reference for every board (same model, same inputs), computed while they build and run.
  const inputs = quantizeWindows(m.model, set.x, set.n);
  const host = hostReference(m.model, inputs, set.n);
  host.catch(() => undefined); // a failure is reported by the boards that await it
  const run = { inputs, labels: set.y, n: set.n, host };
  const boards = await Promise.all(c.boards.map((b) => measureBoard(b, m, run, each)));
  return {
    model: { input: c.model as string, tfm: m.tfm, compression: m.compression },
    data: { spec: m.data.spec, recorded: m.data.recorded, split: c.split, windows: set.n },
    ...(floatAcc !== undefined ? { floatAccuracy: floatAcc } : {}),
    boards,
  };
}
