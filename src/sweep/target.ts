// The on-target stage of a sweep point: build the .tfm into firmware, run it under QEMU, read the
// linker map. It is a slot: `targetStage` below is where the build + run stage gets connected.
// While it is undefined, a point records host-reference accuracy and coded-weight bytes only.
//
// It runs in the sweep's worker processes (functions cannot cross a process boundary), so it is
// bound here, in a module every worker imports, not passed in by the caller.
import type { WindowSet } from '../data/dataset.js';
import type { SweepPoint } from './config.js';

export interface TargetContext {
  point: SweepPoint;
  /** The point's label, for logs and error messages. */
  label: string;
  /** An empty folder for this point's firmware build (sources, ELF, map), kept in the cache. */
  workDir: string;
  /** The data spec the sweep runs on. */
  data: string;
  /** Normalized evaluation windows (test split): the same the host reference was scored on. */
  eval: WindowSet;
  /** The int8 model inputs of those windows, back to back, exactly as the host reference got them. */
  inputs: Int8Array;
  /** Class the host reference predicts per window: agreement is measured against these. */
  hostPredictions: Int32Array;
  log(line: string): void;
}

/** What the target stage measures for one compressed model. Sizes in bytes. */
export interface TargetMeasurement {
  /** Board / emulator the figures are for, e.g. 'netduinoplus2 (qemu-system-arm 7.2)'. */
  target: string;
  /** On-target accuracy over `windows` evaluation windows. */
  accuracy: number;
  windows: number;
  /** Fraction of those windows where the target's class equals the host reference's. */
  agreement: number;
  /** Weights + decode tables + kernels, from the linker map: the memory the front is drawn on. */
  modelFlash: number;
  totalFlash: number;
  /** Static RAM (.data + .bss) + peak stack. */
  ram: number;
  staticRam?: number;
  peakStack?: number;
  instructionsPerInference: number;
  /** Anything else worth keeping in result.json (paths, per-category sizes). */
  extra?: Record<string, unknown>;
}

/** The function slot: a compressed model file in, its on-target figures out. */
export type MeasureOnTarget = (tfmPath: string, ctx: TargetContext) => Promise<TargetMeasurement>;

export interface TargetStage {
  /**
   * Names the target setup (board, compiler, flags). A point cached under another id (or none)
   * is measured again, reusing its compressed model.
   */
  id: string;
  measureOnTarget: MeasureOnTarget;
}

/** Connect the build + QEMU stage here, e.g. `{ id: 'netduinoplus2/gcc12-O2', measureOnTarget }`. */
export const targetStage: TargetStage | undefined = undefined;
