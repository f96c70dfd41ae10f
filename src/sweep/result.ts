// What one sweep point records (result.json in its cache folder) and the tasks the runner gets.
import type { CompressionSettings, SweepPoint, TrainingSettings } from './config.js';
import type { ArchSpec } from '../graph/arch.js';
import type { TargetMeasurement } from './target.js';

export const POINT_RESULT_SCHEMA = 'tinyforge-sweep-point/1';

/** Stages a runner reports as they start (counted by the sweep: a cached point runs none). */
export type StageName = 'train' | 'float' | 'compress' | 'host-reference' | 'target';

/** Figures computed on the host. Byte counts are of the parameters only: NOT linked flash. */
export interface HostFigures {
  /** Fixed-point accuracy by the host reference interpreter (float points: float accuracy). */
  accuracy: number;
  evalWindows: number;
  /** The width's float model (deployable graph) on the same windows. */
  floatAccuracy: number;
  /** After pruning / fine-tuning, before integer quantization. */
  finetunedFloatAccuracy?: number;
  /** Weight bitstreams (float points: 4 bytes per weight). */
  codedWeightBytes: number;
  /** Huffman decode tables as the target stores them. */
  tableBytes: number;
  /** int32 biases (float points: 4 bytes per bias). */
  biasBytes: number;
  /** codedWeightBytes + tableBytes + biasBytes: the host estimate of parameter memory. */
  paramBytes: number;
  /** Weights at 8-bit packed, the comparison baseline. */
  packed8Bytes?: number;
  weights: number;
  sparsity: number;
  /** Coding chosen per Conv1D/Dense layer, in order. */
  codings?: string[];
  /** Conv1D filters after structured pruning. */
  filters?: number[];
}

export interface PointError {
  stage: StageName | 'worker';
  message: string;
  category?: string;
  hint?: string;
}

export interface PointResult {
  schema: typeof POINT_RESULT_SCHEMA;
  hash: string;
  label: string;
  point: SweepPoint;
  modelHash: string;
  /** Conv1D filters of the width (before pruning). */
  widthFilters: number[];
  status: 'ok' | 'failed';
  error?: PointError;
  host?: HostFigures;
  /** Absent when no target stage is connected. */
  target?: TargetMeasurement & { stageId: string };
  /** The compressed model, relative to the point's folder. */
  tfm?: string;
  seconds: Partial<Record<StageName, number>>;
  code: string;
  date: string;
}

/** Everything a worker needs to train (or find) the float model of one width. */
export interface ModelTask {
  hash: string;
  widthLabel: string;
  /** Final folder: <out>/models/<hash>. */
  dir: string;
  data: string;
  /** Absent for a model the configuration gives (`given`). */
  arch?: ArchSpec;
  training?: TrainingSettings;
  seed: number;
  /** The configuration's own model: nothing to train, `dir` is the model itself. */
  given?: boolean;
}

/** Everything a worker needs to run one point; the model is trained already. */
export interface PointTask {
  hash: string;
  label: string;
  point: SweepPoint;
  modelHash: string;
  modelDir: string;
  widthFilters: number[];
  /** <out>/points/<hash>: the .tfm and the target's build go here. */
  dir: string;
  data: string;
  compression: CompressionSettings;
  seed: number;
  /** An earlier result of this point, when only a missing stage (the target) has to run. */
  previous?: PointResult;
}

export interface ModelInfo {
  hash: string;
  dir: string;
  testAccuracy: number;
  params: number;
  seconds: number;
}
