// `tinyforge sweep` as a function: expand the configuration into points, answer what the cache
// knows, train each missing width's float model once, fan the remaining points out over worker
// processes, then write the results, the Pareto front and the plots.
//
// Layout of the output folder:
//   sweep.json                  the configuration as run (data spec resolved)
//   models/<model hash>/        float model of one width (tinyforge model directory)
//   points/<point hash>/        result.json, log.txt, model.tfm, target/ (build products)
//   results.{json,csv,md}, error-vs-memory.{svg,png}, accuracy-vs-instructions.{svg,png}
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../data/load.js';
import { archToGraph, parseArch } from '../graph/arch.js';
import { totalMacs } from '../graph/ir.js';
import { writeFileAtomic } from '../util/files.js';
import {
  expandPoints,
  isSyntheticSpec,
  pointLabel,
  widthLabel,
  type SweepConfig,
  type SweepPoint,
} from './config.js';
import { codeVersion, canonicalJson, contentHash, dataIdentity, modelKey, pointKey } from './hash.js';
import { loadModel } from '../import/loadModel.js';
import { TinyforgeError } from '../util/errors.js';
import { loadRunner } from './loadRunner.js';
import { writePlots } from './plot.js';
import {
  defaultWorkerSpec,
  inProcessExecutor,
  JobError,
  processPool,
  type Executor,
  type WorkerSpec,
} from './pool.js';
import { sweepProgress, type SweepProgressMode } from './progress.js';
import {
  POINT_RESULT_SCHEMA,
  type ModelTask,
  type PointError,
  type PointResult,
  type PointTask,
  type StageName,
} from './result.js';
import {
  buildRows,
  chooseMetric,
  startResults,
  writeResults,
  type MemoryMetric,
  type SweepRow,
} from './results.js';
import { describeError, type PointRunner } from './runner.js';
import { MODEL_MARKER } from './stages.js';
import { archForWidth, baseArch, convFilters } from './width.js';

export interface SweepOptions {
  config: SweepConfig;
  /** Data directory or synthetic[:...] spec (the CLI's --data, else the configuration's). */
  data: string;
  /** Architecture file whose Conv1D filters the widths scale (default: har-default). */
  archPath?: string;
  /** A float model (directory or importable file) every point compresses; nothing is trained. */
  modelPath?: string;
  out: string;
  /** Jobs side by side (default: available cores). 1 runs everything in this process. */
  jobs?: number;
  /** Run failed points again instead of keeping their recorded failure. */
  retryFailed?: boolean;
  progress?: SweepProgressMode;
  /** General lines for people (default: stderr). */
  log?: (line: string) => void;
  /** Worker processes (default: the compiled worker.js; none when running from sources). */
  worker?: WorkerSpec;
  /** A module exporting createRunner(): replaces the default stages, in this process and in workers. */
  runnerModule?: string;
  signal?: AbortSignal;
  /** Called as each point computed in this run is saved. */
  onPoint?: (result: PointResult) => void;
}

export interface SweepSummary {
  out: string;
  name?: string;
  data: string;
  code: string;
  points: number;
  ok: number;
  failed: number;
  /** Points answered from the cache, without running any stage. */
  cached: number;
  computed: { models: number; points: number; stages: Partial<Record<StageName, number>> };
  jobs: number;
  executor: 'processes' | 'in-process' | 'none';
  metric: MemoryMetric;
  files: string[];
  rows: SweepRow[];
  seconds: number;
}

/** Thrown when the sweep was interrupted: finished points are kept, nothing is half-written. */
export class SweepInterrupted extends Error {
  constructor(readonly finished: number) {
    super('sweep interrupted');
  }
}

interface PlannedPoint {
  point: SweepPoint;
  task: PointTask;
  model: ModelTask;
  /** Multiply-accumulates per window of the point's float model. */
  macs: number;
}

/**
 * A point's expected work, for the time-to-finish estimate only: its float model's
 * multiply-accumulates per window times its passes over the data (fine-tuning epochs, plus about
 * one for calibration, the host reference and the target run); a float point only evaluates.
 * Rough, but it tells a width-96 point (~20x the work) from a width-16 one.
 */
export function pointCost(point: SweepPoint, macs: number): number {
  return point.bits === 'float' ? 0.1 * macs : macs * (point.finetuneEpochs + 1);
}

const RESULT_FILE = 'result.json';
const LOG_FILE = 'log.txt';

/** A stored result of this exact point, or undefined (missing, unreadable, other schema or hash). */
export function readPointResult(dir: string, hash: string): PointResult | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, RESULT_FILE), 'utf8')) as PointResult;
    return r.schema === POINT_RESULT_SCHEMA && r.hash === hash ? r : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files and folders left by an interrupted run (never those of a live process). */
function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    // .tmp-<hash>-<pid> (model folders), .<name>.<pid>[.<hex>].tmp (atomic file writes)
    const m = /^\.tmp-.+-(\d+)$/.exec(e) ?? /^\..+\.(\d+)(?:\.[0-9a-f]{8})?\.tmp$/.exec(e);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, e), { recursive: true, force: true });
  }
}

/** A model the configuration gives (`model`): compressed at every point, never trained. */
export interface GivenModel {
  task: ModelTask;
  macs: number;
}

/** Loads the configuration's model once, checks it takes the data, and keys it by its content. */
async function givenModel(
  path: string,
  data: { id: string; spec: string; inputShape: [number, number]; classNames: string[] },
  config: SweepConfig,
): Promise<GivenModel> {
  const loaded = await loadModel(path);
  const { graph } = loaded.model;
  if (graph.inputShape.join() !== data.inputShape.join())
    throw new TinyforgeError(
      `the sweep's model ${path} takes [${graph.inputShape.join(', ')}] windows; the data gives [${data.inputShape.join(', ')}]`,
      'input',
    );
  const hash = modelKey({
    code: codeVersion(),
    data: data.id,
    model: contentHash(path),
    seed: config.seed,
  });
  return {
    task: { hash, widthLabel: '1', dir: resolve(path), data: data.spec, given: true, seed: config.seed },
    macs: totalMacs(graph),
  };
}

/** Points, tasks and hashes of a sweep: everything decided before anything runs. */
export function planSweep(
  config: SweepConfig,
  data: { spec: string; id: string; inputShape: [number, number]; classNames: string[] },
  out: string,
  archPath?: string,
  given?: GivenModel,
): PlannedPoint[] {
  const base = baseArch(archPath);
  const models = new Map<string, ModelTask>();
  const macs = new Map<string, number>();
  if (given) macs.set(given.task.hash, given.macs);
  const modelFor = (p: SweepPoint): ModelTask => {
    if (given) return given.task;
    const key = canonicalJson(p.width);
    let m = models.get(key);
    if (!m) {
      const arch = parseArch(archForWidth(base, p.width), `width ${widthLabel(p.width)}`);
      // Shape errors of a width show up now, before hours of training.
      const graph = archToGraph(
        arch,
        { inputShape: data.inputShape, classNames: data.classNames },
        `width ${widthLabel(p.width)}`,
      );
      // Names are labels: the same layers under another name are the same model.
      const layers = { ...arch, name: undefined, description: undefined };
      const hash = modelKey({
        code: codeVersion(),
        data: data.id,
        arch: layers,
        training: config.training,
        seed: config.seed,
      });
      m = {
        hash,
        widthLabel: widthLabel(p.width),
        dir: join(out, 'models', hash),
        data: data.spec,
        arch,
        training: config.training,
        seed: config.seed,
      };
      models.set(key, m);
      macs.set(hash, totalMacs(graph));
    }
    return m;
  };
  const seen = new Set<string>();
  const planned: PlannedPoint[] = [];
  for (const point of expandPoints(config)) {
    const model = modelFor(point);
    const compression = point.bits === 'float' ? undefined : config.compression;
    const hash = pointKey({
      code: codeVersion(),
      data: data.id,
      model: model.hash,
      point,
      compression,
      seed: config.seed,
    });
    if (seen.has(hash)) continue;
    seen.add(hash);
    planned.push({
      point,
      model,
      macs: macs.get(model.hash) ?? 1,
      task: {
        hash,
        label: pointLabel(point),
        point,
        modelHash: model.hash,
        modelDir: model.dir,
        widthFilters: convFilters(base, point.width),
        dir: join(out, 'points', hash),
        data: data.spec,
        compression: config.compression,
        seed: config.seed,
      },
    });
  }
  return planned;
}

/** True when an earlier run of this point left its compressed model: only later stages must run. */
function hasCompressedModel(task: PointTask): boolean {
  const prev = task.previous;
  return !!(prev?.host && prev.tfm && existsSync(join(task.dir, prev.tfm)));
}

function failedResult(task: PointTask, error: PointError): PointResult {
  return {
    schema: POINT_RESULT_SCHEMA,
    hash: task.hash,
    label: task.label,
    point: task.point,
    modelHash: task.modelHash,
    widthFilters: task.widthFilters,
    status: 'failed',
    error,
    seconds: {},
    code: codeVersion(),
    date: new Date().toISOString(),
  };
}

/** A log line with the seconds since its job started, to see where a point's time goes. */
function stamp(t0: number, line: string): string {
  return `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`;
}

function savePoint(task: PointTask, result: PointResult, log: string[]): void {
  mkdirSync(task.dir, { recursive: true });
  writeFileAtomic(join(task.dir, LOG_FILE), log.join('\n') + (log.length ? '\n' : ''));
  // result.json last: its presence is what marks the point done.
  writeFileAtomic(join(task.dir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
}

export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`sweep: ${l}\n`));
  const out = resolve(opts.out);
  const { config } = opts;
  for (const d of [out, join(out, 'models'), join(out, 'points')]) mkdirSync(d, { recursive: true });
  removeStaleTemps(join(out, 'models'));

  // Workers may start elsewhere: a data directory is passed on as an absolute path.
  const dataSpec = isSyntheticSpec(opts.data) ? opts.data.trim() : resolve(opts.data);
  const ds = loadDataset(dataSpec);
  const dataInfo = {
    spec: dataSpec,
    id: dataIdentity(ds),
    inputShape: [ds.train.steps, ds.train.channels] as [number, number],
    classNames: ds.classNames,
  };
  const given = opts.modelPath ? await givenModel(opts.modelPath, dataInfo, config) : undefined;
  const plan = planSweep(config, dataInfo, out, opts.archPath, given);
  writeFileAtomic(
    join(out, 'sweep.json'),
    JSON.stringify(
      { ...config, data: dataSpec, ...(opts.archPath ? { arch: opts.archPath } : {}) },
      null,
      2,
    ) + '\n',
  );

  const runner: PointRunner = await loadRunner(opts.runnerModule);
  const results = new Map<string, PointResult>();
  const todo: PlannedPoint[] = [];
  for (const p of plan) {
    const prev = readPointResult(p.task.dir, p.task.hash);
    const stale =
      !prev ||
      (prev.status === 'failed' && opts.retryFailed) ||
      (prev.status === 'ok' &&
        runner.targetId !== undefined &&
        p.point.bits !== 'float' &&
        prev.target?.stageId !== runner.targetId);
    if (stale) todo.push({ ...p, task: { ...p.task, previous: prev } });
    else results.set(p.task.hash, prev);
  }
  const cached = plan.length - todo.length;

  // Float models needed by the points that compress or evaluate from scratch.
  const needModel = todo.filter((p) => !hasCompressedModel(p.task));
  const modelTasks = [...new Map(needModel.map((p) => [p.model.hash, p.model])).values()];
  const toTrain = modelTasks.filter((m) => !m.given && !existsSync(join(m.dir, MODEL_MARKER)));

  const jobs = Math.max(1, Math.floor(opts.jobs ?? availableParallelism()));
  const workerSpec = opts.worker ?? defaultWorkerSpec();
  const work = toTrain.length + todo.length;
  let executor: Executor | undefined;
  let executorKind: SweepSummary['executor'] = 'none';
  if (work > 0) {
    if (jobs > 1 && workerSpec) {
      executor = processPool(Math.min(jobs, work), workerSpec, opts.runnerModule);
      executorKind = 'processes';
    } else {
      if (jobs > 1)
        log('no compiled worker (running from sources): running points one at a time in this process');
      executor = inProcessExecutor(runner);
      executorKind = 'in-process';
    }
  }
  log(
    `${plan.length} points: ${cached} cached, ${todo.length} to run` +
      (toTrain.length ? `; ${toTrain.length} float model${toTrain.length > 1 ? 's' : ''} to train` : '') +
      (executor ? `; ${executor.slots} job${executor.slots > 1 ? 's' : ''} at a time` : '') +
      (runner.targetId
        ? `; target stage ${runner.targetId}`
        : '; no target stage: host-reference figures only'),
  );

  const stages: Partial<Record<StageName, number>> = {};
  const countStage = (s: StageName) => (stages[s] = (stages[s] ?? 0) + 1);
  const onAbort = () => executor?.kill();
  opts.signal?.addEventListener('abort', onAbort);
  let finished = 0;
  try {
    // Each missing float model once. Training jobs queue first; a point queues as soon as its own
    // model is ready, so a wide model's long training does not keep the other cores idle.
    const progress = sweepProgress(opts.progress ?? 'auto');
    // Every model trains for the same epochs: its cost is its MACs per window.
    const modelMacs = new Map(plan.map((p) => [p.model.hash, p.macs]));
    const modelCost = (m: ModelTask) => modelMacs.get(m.hash) ?? 1;
    const modelBar =
      toTrain.length > 0
        ? progress.phase(
            'models',
            modelTasks.length,
            modelTasks.length - toTrain.length,
            executor?.slots,
            toTrain.reduce((sum, m) => sum + modelCost(m), 0),
          )
        : undefined;
    const pointBar =
      todo.length > 0 && executor
        ? progress.phase(
            'points',
            plan.length,
            cached,
            executor.slots,
            todo.reduce((sum, p) => sum + pointCost(p.point, p.macs), 0),
          )
        : undefined;
    const trained = new Map<string, Promise<PointError | undefined>>();
    if (executor) {
      for (const m of toTrain) {
        trained.set(
          m.hash,
          (async () => {
            const lines: string[] = [];
            let s0 = performance.now();
            try {
              await executor.run(
                { kind: 'train', task: m },
                { log: (l) => lines.push(l), stage: countStage, started: () => (s0 = performance.now()) },
              );
              modelBar?.done(
                `width ${m.widthLabel}`,
                (performance.now() - s0) / 1000,
                'trained',
                modelCost(m),
              );
              return undefined;
            } catch (e) {
              const err = e instanceof JobError ? e.detail : describeError(e, 'train');
              if (opts.signal?.aborted) return { ...err, stage: 'train' as const };
              modelBar?.done(
                `width ${m.widthLabel}`,
                (performance.now() - s0) / 1000,
                `FAILED: ${err.message}`,
                modelCost(m),
              );
              for (const l of lines.slice(-20)) log(`  ${l}`);
              return { ...err, stage: 'train' as const };
            }
          })(),
        );
      }
    }

    try {
      if (todo.length > 0 && executor) {
        await Promise.all(
          todo.map(async (p) => {
            const lines: string[] = [];
            let result: PointResult;
            const needsModel = !hasCompressedModel(p.task);
            const modelError = needsModel ? await trained.get(p.model.hash) : undefined;
            if (opts.signal?.aborted) return;
            let s0 = performance.now();
            if (modelError) {
              result = failedResult(p.task, modelError);
              lines.push(`float model of width ${p.model.widthLabel} failed to train: ${modelError.message}`);
            } else {
              removeStaleTemps(p.task.dir);
              try {
                result = (await executor.run(
                  { kind: 'point', task: p.task },
                  {
                    log: (l) => lines.push(stamp(s0, l)),
                    stage: (s) => {
                      countStage(s);
                      lines.push(stamp(s0, `stage ${s}`));
                    },
                    started: () => (s0 = performance.now()),
                  },
                )) as PointResult;
              } catch (e) {
                if (opts.signal?.aborted) return;
                result = failedResult(p.task, e instanceof JobError ? e.detail : describeError(e, 'worker'));
              }
            }
            if (opts.signal?.aborted) return;
            savePoint(p.task, result, lines);
            results.set(p.task.hash, result);
            finished++;
            opts.onPoint?.(result);
            const note =
              result.status === 'ok'
                ? `ok, accuracy ${(100 * (result.target?.accuracy ?? result.host!.accuracy)).toFixed(2)}%`
                : `FAILED in ${result.error?.stage}: ${result.error?.message}`;
            pointBar?.done(p.task.label, (performance.now() - s0) / 1000, note, pointCost(p.point, p.macs));
          }),
        );
      }
      // Settled already (every trained model has a point waiting on it); no promise outlives the pool.
      await Promise.all(trained.values());
    } finally {
      progress.stop();
    }
    if (opts.signal?.aborted) throw new SweepInterrupted(finished);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    executor?.close();
  }

  const ordered = plan.map((p) => results.get(p.task.hash)!);
  const metric = chooseMetric(ordered);
  const rows = buildRows(ordered, metric);
  startResults(out);
  const plots = await writePlots(out, rows, {
    metric,
    name: config.name,
    reference: ds.kind === 'uci-har',
  });
  const files = writeResults(
    out,
    rows,
    {
      name: config.name,
      data: dataSpec,
      code: codeVersion(),
      metric,
      plots: plots.filter((f) => f.endsWith('.png')),
    },
    plots,
  );
  const ok = rows.filter((r) => r.status === 'ok').length;
  return {
    out,
    name: config.name,
    data: dataSpec,
    code: codeVersion(),
    points: rows.length,
    ok,
    failed: rows.length - ok,
    cached,
    computed: { models: stages.train ?? 0, points: finished, stages },
    jobs: executor?.slots ?? 0,
    executor: executorKind,
    metric,
    files: [...files, ...plots.map((f) => join(out, f))],
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
}
