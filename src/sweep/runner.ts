// A PointRunner turns one point task into a PointResult by composing the stage functions. The
// sweep runs it in worker processes (or in process with --jobs 1); tests give it other stages.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readTfm } from '../qmodel/index.js';
import { TinyforgeError } from '../util/errors.js';
import { codeVersion } from './hash.js';
import {
  compressStage,
  evalData,
  floatStage,
  hostReferenceStage,
  modelIsCached,
  readModelInfo,
  trainStage,
  type CompressOutput,
  type HostReference,
  type StageContext,
  type StageLog,
} from './stages.js';
import type { CompressedModel } from '../qmodel/model.js';
import type { WindowSet } from '../data/dataset.js';
import {
  POINT_RESULT_SCHEMA,
  type HostFigures,
  type ModelInfo,
  type ModelTask,
  type PointError,
  type PointResult,
  type PointTask,
  type StageName,
} from './result.js';
import { targetStage as boundTargetStage, type TargetStage } from './target.js';

export interface PointRunner {
  /** Set when points are measured on the target: cached points without this id are re-measured. */
  readonly targetId?: string;
  /** Trains the float model of a width into task.dir (or reuses it). */
  trainModel(task: ModelTask, ctx: StageContext): Promise<ModelInfo>;
  /** Never throws for a point that fails: the result says status 'failed' and why. */
  runPoint(task: PointTask, ctx: StageContext): Promise<PointResult>;
}

/** The stage functions a runner composes (each one job, no caching: the runner decides what runs). */
export interface PointStages {
  train: (task: ModelTask, ctx: StageLog) => Promise<ModelInfo>;
  float: (task: PointTask, ctx: StageLog) => Promise<HostFigures>;
  compress: (task: PointTask, ctx: StageLog) => Promise<CompressOutput>;
  hostReference: (model: CompressedModel, set: WindowSet) => HostReference | Promise<HostReference>;
  /** The on-target slot; undefined = host figures only. */
  target?: TargetStage;
}

export const DEFAULT_STAGES: PointStages = {
  train: trainStage,
  float: floatStage,
  compress: compressStage,
  hostReference: hostReferenceStage,
  target: boundTargetStage,
};

/** Error as result.json stores it: the message and hint a user can act on. */
export function describeError(e: unknown, stage: PointError['stage']): PointError {
  if (e instanceof TinyforgeError) return { stage, message: e.message, category: e.category, hint: e.hint };
  return { stage, message: e instanceof Error ? e.message : String(e), category: 'internal' };
}

export function createRunner(overrides: Partial<PointStages> = {}): PointRunner {
  const stages: PointStages = { ...DEFAULT_STAGES, ...overrides };
  const target = stages.target;
  return {
    targetId: target?.id,
    async trainModel(task, ctx) {
      if (modelIsCached(task.dir)) return readModelInfo(task);
      ctx.stage('train');
      return stages.train(task, ctx);
    },
    async runPoint(task, ctx) {
      const seconds: Partial<Record<StageName, number>> = {};
      let current: StageName = task.point.bits === 'float' ? 'float' : 'compress';
      const timed = async <T>(name: StageName, f: () => Promise<T> | T): Promise<T> => {
        current = name;
        ctx.stage(name);
        const t0 = performance.now();
        try {
          return await f();
        } finally {
          seconds[name] = (seconds[name] ?? 0) + (performance.now() - t0) / 1000;
        }
      };
      const base = {
        schema: POINT_RESULT_SCHEMA,
        hash: task.hash,
        label: task.label,
        point: task.point,
        modelHash: task.modelHash,
        widthFilters: task.widthFilters,
        code: codeVersion(),
      } as const;
      let host: HostFigures | undefined;
      let tfm: string | undefined;
      try {
        mkdirSync(task.dir, { recursive: true });
        if (task.point.bits === 'float') {
          host = await timed('float', () => stages.float(task, ctx));
          return { ...base, status: 'ok', host, seconds, date: new Date().toISOString() };
        }
        const prev = task.previous;
        let model: CompressedModel | undefined;
        let reference: HostReference | undefined;
        if (prev?.host && prev.tfm && existsSync(join(task.dir, prev.tfm))) {
          // Only a later stage is missing: keep the compressed model.
          host = prev.host;
          tfm = prev.tfm;
          Object.assign(seconds, prev.seconds);
        } else {
          const out = await timed('compress', () => stages.compress(task, ctx));
          host = out.host;
          model = out.model;
          reference = out.reference;
          tfm = relative(task.dir, out.tfmPath);
        }
        let measured: PointResult['target'];
        if (target) {
          const tfmPath = join(task.dir, tfm);
          const { ref, set } = await timed('host-reference', async () => {
            model ??= await readTfm(tfmPath);
            const set = evalData(task, model.normalization).eval;
            // Compression evaluated the reference on this same set already.
            return { ref: reference ?? (await stages.hostReference(model, set)), set };
          });
          const workDir = join(task.dir, 'target');
          rmSync(workDir, { recursive: true, force: true });
          mkdirSync(workDir, { recursive: true });
          const m = await timed('target', () =>
            target.measureOnTarget(tfmPath, {
              point: task.point,
              label: task.label,
              workDir,
              data: task.data,
              eval: set,
              inputs: ref.inputs,
              hostPredictions: ref.predictions,
              log: ctx.log,
            }),
          );
          measured = { ...m, stageId: target.id };
        }
        return {
          ...base,
          status: 'ok',
          host,
          tfm,
          target: measured,
          seconds,
          date: new Date().toISOString(),
        };
      } catch (e) {
        ctx.log(`${current} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return {
          ...base,
          status: 'failed',
          error: describeError(e, current),
          host,
          tfm,
          seconds,
          date: new Date().toISOString(),
        };
      }
    },
  };
}
