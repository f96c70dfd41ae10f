// The on-target stage of a sweep point: build the .tfm into firmware, run it under QEMU, read the
// linker map. It is a slot: `targetStage` below is where the build + run stage gets connected.
// While it is undefined, a point records host-reference accuracy and coded-weight bytes only.
//
// It runs in the sweep's worker processes (functions cannot cross a process boundary), so it is
// bound here, in a module every worker imports, not passed in by the caller.
import type { WindowSet } from '../data/dataset.js';
import type { SweepPoint } from './config.js';
import { readTfm } from '../qmodel/index.js';
import { buildModelFirmware, measureOnTarget } from '../measure/index.js';

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

const BOARD = 'netduinoplus2';
const OPT = '-O2';

/** Builds the point's .tfm for the board, runs the evaluation windows on QEMU, reads the map. */
const measureOnQemu: MeasureOnTarget = async (tfmPath, ctx) => {
  const model = await readTfm(tfmPath);
  const fw = await buildModelFirmware({ tfmPath, board: BOARD, outDir: ctx.workDir, optLevel: OPT });
  const r = await measureOnTarget({
    buildDir: fw.dir,
    model,
    inputs: ctx.inputs,
    labels: ctx.eval.y,
    n: ctx.eval.n,
    board: BOARD,
    progress: 'none',
  });
  let sameClass = 0;
  for (let i = 0; i < r.predictions.length; i++) if (r.predictions[i] === ctx.hostPredictions[i]) sameClass++;
  return {
    target: `${BOARD} (QEMU, gcc ${OPT})`,
    accuracy: r.accuracy,
    windows: r.predictions.length,
    agreement: sameClass / Math.max(1, r.predictions.length),
    modelFlash: r.flash.model,
    totalFlash: r.flash.total,
    ram: r.ram.staticWithStack,
    staticRam: r.ram.static,
    peakStack: r.stack.peak,
    instructionsPerInference: r.instructions.mean,
    extra: {
      logitsBitExact: r.agreement.equal,
      flash: r.flash,
      instructionsPerMac: r.instructions.perMac,
      build: fw.dir,
    },
  };
};

/** The build + QEMU stage of every sweep point (the id names board, compiler flags and harness). */
export const targetStage: TargetStage | undefined = {
  id: `${BOARD}/gcc12${OPT}/harness1`,
  measureOnTarget: measureOnQemu,
};
