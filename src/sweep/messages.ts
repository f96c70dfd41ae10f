// Messages between the sweep and its worker processes (child_process IPC, structured clone).
import type { ModelTask, PointResult, PointTask, StageName, ModelInfo, PointError } from './result.js';

export type WorkerJob = { kind: 'train'; task: ModelTask } | { kind: 'point'; task: PointTask };

export type ToWorker =
  /** First message: which runner to build (a module exporting createRunner(), or the default). */
  { type: 'init'; runnerModule?: string } | { type: 'job'; id: number; job: WorkerJob };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'log'; id: number; line: string }
  | { type: 'stage'; id: number; stage: StageName }
  | { type: 'done'; id: number; value: ModelInfo | PointResult }
  | { type: 'error'; id: number; error: PointError };
