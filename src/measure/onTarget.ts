// measureOnTarget: runs a model firmware (buildModelFirmware) on QEMU over many windows in one run
// and compares it window by window with the host reference: accuracy, per-class accuracy,
// confusion, bit-exact agreement (and, on a mismatch, the first differing window and layer, from a
// trace run of that window), instructions per inference / per MAC / per layer, stack, flash and RAM.
// Writes run.json (with peakStackBytes, read by the size report) beside the map.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { counterResolution, resolveBoard, type Board } from '../boards/boards.js';
import type { CompressedModel } from '../qmodel/model.js';
import { argmax } from '../fixedpoint/semantics.js';
import { DEFAULT_IO } from '../crossbuild/compile.js';
import { requireTargetSuccess, TARGET_EXIT } from '../qemu/tfLines.js';
import { runOnQemu, type QemuRun } from '../qemu/runner.js';
import { prepareReference, runPrepared, runReference } from '../reference/index.js';
import { loadSize } from '../size/index.js';
import { TinyforgeError } from '../util/errors.js';
import { channelsOf } from '../graph/types.js';
import { BUILD_FILES, crcHex, DEFAULT_BOARD, modelCrc, readBuildInfo, type BuildInfo } from './firmware.js';
import { toJsonText, writeFileAtomic } from '../util/files.js';
import { crc32 } from '../qmodel/crc32.js';
import { layerMacs, modelMacs } from './macs.js';
import { startTicker, type ProgressMode } from './ticker.js';
import { corruptionReport, parseHarnessOutput, type HarnessOutput } from './records.js';
import { quantizeWindows, readWindowsFile, writeWindowsFile } from './windows.js';
import { yieldToEventLoop } from '../util/eventLoop.js';

export const TARGET_SCHEMA = 'tinyforge.target/1';
export const RUN_SCHEMA = 'tinyforge.run/1';

export interface MeasureOnTargetOptions {
  /** A folder written by buildModelFirmware / `tinyforge build` ... */
  buildDir?: string;
  /** ... or its firmware ELF (the map must sit beside it). */
  elf?: string;
  /** The model the firmware was built from (checked against the CRC the firmware prints). */
  model: CompressedModel;
  /** Raw windows (n * T * C floats, channels last), quantized here as the model expects ... */
  windows?: Float32Array;
  /** ... or the int8 model inputs. Embed builds default to the windows in their flash. */
  inputs?: Int8Array;
  /** Class index per window (embed builds default to the embedded labels). */
  labels?: ArrayLike<number>;
  /** Number of windows (default labels.length). */
  n?: number;
  /** Default: the board of build.json, else netduinoplus2. */
  board?: Board | string;
  /** QEMU time limit; default 60 s + 100 ms per window. */
  timeoutMs?: number;
  /** On a mismatch, re-run the first differing window with layer outputs to name the layer (default true). */
  trace?: boolean;
  /**
   * Compare every layer's output of every window with the host reference (the firmware prints a
   * CRC-32 per layer; needs a profiling build in file mode). A window whose layers differ counts as
   * mismatching even when its logits agree. Instruction counts then include the CRCs.
   */
  layers?: boolean;
  /** Elapsed-time line on stderr while QEMU runs (default 'auto': only on a terminal). */
  progress?: ProgressMode;
  /** Write run.json beside the map (default true). */
  writeRunJson?: boolean;
  /**
   * The host reference over these inputs, when the caller has it (the same model and windows run on
   * several boards): computed once instead of once per board.
   */
  host?: Promise<HostReferenceRun>;
}

export interface LayerDifference {
  index: number;
  name: string;
  kind: string;
  /** Output elements of the layer and how many differ. */
  size: number;
  differing: number;
  /** First differing element: flat offset, time step and channel (channels last). */
  first: { offset: number; t: number; c: number; target: number; host: number };
}

export interface Mismatch {
  window: number;
  target: number[];
  host: number[];
  targetClass: number;
  hostClass: number;
  /** The first layer whose output differs (from the trace run), or null with `note` saying why. */
  layer: LayerDifference | null;
  note?: string;
}

export interface LayerResult {
  index: number;
  name: string;
  kind: string;
  macs: number;
  /** Instructions of the layer per inference (profiling builds), over the windows run. */
  instructions: { mean: number; min: number; max: number } | null;
  /** Share of the inference's instructions. */
  share: number | null;
  perMac: number | null;
}

export interface TargetResult {
  schema: typeof TARGET_SCHEMA;
  board: string;
  elf: string;
  map: string;
  mode: 'file' | 'embed';
  profile: boolean;
  windows: number;
  classNames: string[];
  /** On-target accuracy (predictions of the firmware against the labels). */
  accuracy: number;
  /** Accuracy of the host reference on the same windows. */
  hostAccuracy: number;
  perClass: { class: string; windows: number; correct: number; accuracy: number | null }[];
  /** confusion[true][predicted], on-target. */
  confusion: number[][];
  agreement: {
    /** Every window's logits (with `layers`: every layer's output) equal the host reference's. */
    equal: boolean;
    /** Every layer of every window was compared (`layers`), not only the logits. */
    layers: boolean;
    matching: number;
    mismatching: number;
    /** Windows whose predicted class differs (a subset of the mismatching ones). */
    predictionsDiffer: number;
    firstMismatch: Mismatch | null;
  };
  macs: number;
  instructions: {
    mean: number;
    min: number;
    max: number;
    perMac: number;
    total: number;
    /**
     * Instructions one count of the board's counter stands for: 1 (exact, an STM32 timer), or a
     * SysTick's instructions per tick (each count is then within one tick of the exact count).
     */
    resolution: number;
  };
  layers: LayerResult[];
  stack: {
    /** Max over windows of the stack tf_model_run used. */
    inference: number;
    /** The whole firmware's peak (harness and stdio included): run.json's peakStackBytes. */
    peak: number;
    reserved: number;
  };
  flash: {
    total: number;
    capacity: number;
    /** weights + tables + kernels: what the model itself takes. */
    model: number;
    weights: number;
    tables: number;
    kernels: number;
  };
  ram: {
    /** Static RAM: .data + .bss + heap reserve (the stack reserve left out). */
    static: number;
    /** static + the measured peak stack. */
    staticWithStack: number;
    arena: number;
    /** arena + the stack of the inference: RAM the model itself needs. */
    model: number;
    /** The graph's liveness optimum (build.json codegen.livenessBytes; null without build.json). */
    livenessBytes: number | null;
    capacity: number;
  };
  wallMs: { total: number; qemu: number; reference: number; trace: number };
  qemuCommand: string[];
  runJson: string | null;
  /** Per window (not in the JSON form): firmware and host predictions, instructions, target logits. */
  predictions: Int32Array;
  hostPredictions: Int32Array;
  windowInstructions: Float64Array;
  /** windows * classes int8 logits the firmware computed. */
  targetLogits: Int8Array;
}

/** The result without its per-window arrays: what --json and run.json hold. */
export type TargetResultJson = Omit<
  TargetResult,
  'predictions' | 'hostPredictions' | 'windowInstructions' | 'targetLogits'
>;

export function targetResultJson(r: TargetResult): TargetResultJson {
  const { predictions: _p, hostPredictions: _h, windowInstructions: _w, targetLogits: _l, ...rest } = r;
  void [_p, _h, _w, _l];
  return rest;
}

/** A 'mismatch' error describing the first disagreement, or null when target and host agree. */
export function agreementError(r: TargetResult): TinyforgeError | null {
  if (r.agreement.equal) return null;
  const m = r.agreement.firstMismatch as Mismatch;
  const where = m.layer
    ? `; the first differing layer is layer ${m.layer.index} '${m.layer.name}' (${m.layer.kind}): ${m.layer.differing} of ${m.layer.size} outputs differ, first at t=${m.layer.first.t} c=${m.layer.first.c} (target ${m.layer.first.target}, host ${m.layer.first.host})`
    : m.note
      ? ` (${m.note})`
      : '';
  return new TinyforgeError(
    `target and host reference disagree on ${r.agreement.mismatching} of ${r.windows} windows; the first is window ${m.window}: target logits [${m.target.join(', ')}], host [${m.host.join(', ')}]${where}`,
    'mismatch',
    'The firmware does not compute what the model says: a generated kernel or the toolchain differs from ' +
      'src/fixedpoint/semantics.ts, or the firmware image was altered. Rebuild; if it persists, report it with the model.',
  );
}

interface Resolved {
  elf: string;
  dir: string;
  info: BuildInfo | null;
  board: Board;
}

function resolveFirmware(o: MeasureOnTargetOptions): Resolved {
  if ((o.buildDir === undefined) === (o.elf === undefined)) {
    throw new TinyforgeError('measureOnTarget needs exactly one of buildDir and elf', 'usage');
  }
  if (o.buildDir !== undefined) {
    const dir = resolve(o.buildDir);
    const info = readBuildInfo(dir);
    const elf = join(dir, info.files.elf);
    if (!existsSync(elf)) {
      throw new TinyforgeError(
        `${elf} is missing from the build folder`,
        'input',
        'Rebuild it: tinyforge build.',
      );
    }
    return { elf, dir, info, board: resolveBoard(o.board ?? info.boardFile ?? info.board) };
  }
  const elf = resolve(o.elf as string);
  const dir = dirname(elf);
  const info = existsSync(join(dir, BUILD_FILES.info)) ? readBuildInfo(dir) : null;
  return { elf, dir, info, board: resolveBoard(o.board ?? info?.boardFile ?? info?.board ?? DEFAULT_BOARD) };
}

/** Inputs and labels to run: given, or (embed builds) the ones in the firmware's flash. */
function resolveData(
  o: MeasureOnTargetOptions,
  r: Resolved,
): { inputs: Int8Array; labels: Int32Array; n: number } {
  const [T, C] = o.model.inputShape;
  const size = T * C;
  const embed = r.info?.embed ?? null;
  let labels = o.labels;
  if (!labels && embed) labels = embed.labels;
  if (!labels) throw new TinyforgeError('measureOnTarget needs the labels of the windows', 'usage');
  const n = o.n ?? labels.length;
  if (!Number.isInteger(n) || n < 1 || n > labels.length) {
    throw new TinyforgeError(`cannot run ${n} windows with ${labels.length} labels`, 'usage');
  }
  let inputs: Int8Array;
  if (o.inputs) {
    if (o.inputs.length < n * size) {
      throw new TinyforgeError(`${o.inputs.length} input values for ${n} windows of ${T} x ${C}`, 'usage');
    }
    inputs = o.inputs.subarray(0, n * size);
  } else if (o.windows) {
    inputs = quantizeWindows(o.model, o.windows, n);
  } else if (embed) {
    inputs = readWindowsFile(join(r.dir, embed.file)).inputs.subarray(0, n * size);
  } else {
    throw new TinyforgeError('measureOnTarget needs the windows to run (windows or inputs)', 'usage');
  }
  const K = o.model.classNames.length;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= K) {
      throw new TinyforgeError(`label ${v} of window ${i} is not a class index 0..${K - 1}`, 'input');
    }
    y[i] = v;
  }
  if (embed) {
    const flash = readWindowsFile(join(r.dir, embed.file));
    if (n !== flash.n) {
      throw new TinyforgeError(
        `the firmware embeds ${flash.n} windows; an embed build runs all of them (asked for ${n})`,
        'usage',
      );
    }
    if (
      Buffer.compare(
        Buffer.from(flash.inputs.buffer, flash.inputs.byteOffset, flash.inputs.length),
        Buffer.from(inputs.buffer, inputs.byteOffset, inputs.length),
      ) !== 0
    ) {
      throw new TinyforgeError(
        'the windows given are not the ones embedded in the firmware',
        'usage',
        'Leave windows/inputs out to use the embedded ones.',
      );
    }
  }
  return { inputs, labels: y, n };
}

/** What the host reference computes over the windows: the logits and classes the target must match. */
export interface HostReferenceRun {
  logits: Int8Array;
  classes: Int32Array;
  corrupt: boolean;
}

/** Host reference over all windows, in slices that let the event loop drain QEMU's output pipe. */
export async function hostReference(
  model: CompressedModel,
  inputs: Int8Array,
  n: number,
): Promise<HostReferenceRun> {
  const p = prepareReference(model);
  const size = model.inputShape[0] * model.inputShape[1];
  const K = model.classNames.length;
  const logits = new Int8Array(n * K);
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = runPrepared(p, inputs.subarray(i * size, (i + 1) * size));
    logits.set(r.logits, i * K);
    classes[i] = r.classIndex;
    if (i % 16 === 15) await yieldToEventLoop();
  }
  return { logits, classes, corrupt: p.corrupt };
}

function layerName(model: CompressedModel, i: number): string {
  return i >= 0 && i < model.layers.length
    ? `${i} '${model.layers[i].name}' (${model.layers[i].kind})`
    : `${i}`;
}

/** `layers` needs a firmware built with the per-layer CRCs that reads the windows file. */
function requireLayerChecks(embed: boolean, io: string, layers: boolean | undefined): void {
  if (embed || io === 'uart' || !layers)
    throw new TinyforgeError(
      'comparing every layer needs a firmware built with --layers that reads a windows file',
      'usage',
      'build it again with `tinyforge build --layers` (not with --embed or --io uart)',
    );
}

/** Per window: whether every layer's CRC-32 on the target equals the host reference's layer output. */
function layerAgreement(model: CompressedModel, inputs: Int8Array, crcs: Uint32Array[]): boolean[] {
  const p = prepareReference(model, { skipCheck: true });
  const size = model.inputShape[0] * model.inputShape[1];
  return crcs.map((target, w) => {
    const r = runPrepared(p, inputs.subarray(w * size, (w + 1) * size), { keepLayerOutputs: true });
    return r.layerOutputs!.every(
      (o, i) => crc32(new Uint8Array(o.buffer, o.byteOffset, o.byteLength)) === target[i],
    );
  });
}

/** Compares a trace run's layer outputs with the host reference's: the first layer that differs. */
function firstDifferingLayer(
  model: CompressedModel,
  input: Int8Array,
  trace: Map<number, Int8Array>,
): { layer: LayerDifference | null; note?: string } {
  const ref = runReference(model, input, { keepLayerOutputs: true });
  const outs = ref.layerOutputs ?? [];
  for (let i = 0; i < model.layers.length; i++) {
    const host = outs[i];
    const target = trace.get(i);
    const l = model.layers[i];
    if (!target) return { layer: null, note: `the trace has no output for layer ${layerName(model, i)}` };
    let differing = 0;
    let first = -1;
    const len = Math.max(host.length, target.length);
    for (let j = 0; j < len; j++) {
      if (host[j] !== target[j]) {
        differing++;
        if (first < 0) first = j;
      }
    }
    if (differing > 0) {
      const C = channelsOf(l.outShape);
      return {
        layer: {
          index: i,
          name: l.name,
          kind: l.kind,
          size: host.length,
          differing,
          first: {
            offset: first,
            t: Math.floor(first / C),
            c: first % C,
            target: target[first] ?? NaN,
            host: host[first] ?? NaN,
          },
        },
      };
    }
  }
  return {
    layer: null,
    note: 'every layer output of the trace run equals the host reference (a non-repeatable difference)',
  };
}

const stats = (xs: ArrayLike<number>) => {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { mean: xs.length ? sum / xs.length : 0, min, max, total: sum };
};

function checkIdentity(out: HarnessOutput, model: CompressedModel, elf: string): void {
  const want = crcHex(modelCrc(model));
  if (out.model.crc32 !== want) {
    throw new TinyforgeError(
      `${elf} was built from another model (firmware model CRC ${out.model.crc32}, this model ${want})`,
      'input',
      'Pass the model the firmware was built from (the model.tfm in its build folder), or rebuild.',
    );
  }
}

/** Runs the firmware over the windows and compares with the host reference; see the header. */
export async function measureOnTarget(o: MeasureOnTargetOptions): Promise<TargetResult> {
  const t0 = performance.now();
  const fw = resolveFirmware(o);
  const { model } = o;
  const { inputs, labels, n } = resolveData(o, fw);
  const [T, C] = model.inputShape;
  const size = T * C;
  const K = model.classNames.length;
  const embed = fw.info?.embed != null;
  // A uart build (embed only) prints on the console USART and has no command line.
  const io = fw.info?.io ?? DEFAULT_IO;
  const timeoutMs = o.timeoutMs ?? 60_000 + 100 * n;

  const runDir = mkdtempSync(join(fw.dir, '.run-'));
  try {
    const args: string[] = [];
    if (!embed) {
      writeWindowsFile(join(runDir, 'windows.bin'), inputs, n, T, C);
      args.push('windows.bin');
    }
    if (o.layers) requireLayerChecks(embed, io, fw.info?.layers);
    const stop = startTicker(`running ${n} windows on QEMU (${fw.board.name})`, o.progress);
    const tq = performance.now();
    let qemuMs = 0;
    const runArgs = o.layers ? [...args, 'layers'] : args;
    const qemu = runOnQemu({
      board: fw.board,
      elf: fw.elf,
      cwd: runDir,
      args: runArgs,
      timeoutMs,
      io,
    }).finally(() => {
      qemuMs = performance.now() - tq;
    });
    // Keep an early QEMU failure from being an unhandled rejection while the reference runs.
    qemu.catch(() => undefined);
    const tr = performance.now();
    let host: HostReferenceRun;
    let run: QemuRun;
    try {
      host = await (o.host ?? hostReference(model, inputs, n));
      run = await qemu;
    } finally {
      stop();
    }
    const referenceMs = performance.now() - tr;

    if (run.exitCode !== TARGET_EXIT.OK) {
      const corrupt = corruptionReport(run.stdout);
      if (run.exitCode === TARGET_EXIT.CORRUPT && corrupt) {
        if (host.corrupt) {
          throw new TinyforgeError(
            `the model's weight data are damaged: the firmware stopped at window ${corrupt.window}, layer ${layerName(model, corrupt.layer)}, and the host reference finds the same`,
            'input',
            'Compress the model again; the .tfm file was altered.',
          );
        }
        throw new TinyforgeError(
          `the target found corrupt weights in layer ${layerName(model, corrupt.layer)} at window ${corrupt.window} (firmware exit ${run.exitCode}), while the host reference decodes the model cleanly: the firmware's weight data differ from the model`,
          'mismatch',
          'The flashed image was altered or built from another model: rebuild it (tinyforge build) and run again.',
        );
      }
      requireTargetSuccess(run, `the firmware ${basename(fw.elf)}`);
    }

    const out = parseHarnessOutput(run.stdout);
    checkIdentity(out, model, fw.elf);
    if (out.model.classes !== K || out.model.inputShape[0] !== T || out.model.inputShape[1] !== C) {
      throw new TinyforgeError(`${fw.elf} was built for another model shape`, 'input', 'Rebuild it.');
    }
    if (out.index.length !== n || out.done !== n || out.windows !== n) {
      throw new TinyforgeError(
        `the firmware reported ${out.index.length} of ${n} windows`,
        'run',
        'Output was lost or the firmware stopped early; run again, and report it if it repeats.',
      );
    }
    for (let i = 0; i < n; i++) {
      if (out.index[i] !== i)
        throw new TinyforgeError(`firmware result ${i} is for window ${out.index[i]}`, 'run');
    }

    // Agreement, window by window (with `layers`, every layer's output too).
    const layerSame = out.layerCrcs ? layerAgreement(model, inputs, out.layerCrcs) : null;
    let mismatching = 0;
    let predictionsDiffer = 0;
    let firstBad = -1;
    for (let i = 0; i < n; i++) {
      let same = layerSame ? layerSame[i] : true;
      for (let k = 0; k < K; k++) {
        if (out.logits[i * K + k] !== host.logits[i * K + k]) {
          same = false;
          break;
        }
      }
      if (out.predicted[i] !== argmax(out.logits.subarray(i * K, (i + 1) * K))) {
        throw new TinyforgeError(`firmware class of window ${i} is not the argmax of its logits`, 'run');
      }
      if (!same) {
        mismatching++;
        if (firstBad < 0) firstBad = i;
      }
      if (out.predicted[i] !== host.classes[i]) predictionsDiffer++;
    }

    let traceMs = 0;
    let firstMismatch: Mismatch | null = null;
    if (firstBad >= 0) {
      const w = firstBad;
      const input = inputs.subarray(w * size, (w + 1) * size);
      let layer: LayerDifference | null = null;
      let note: string | undefined;
      if (o.trace === false) note = 'no trace run (trace: false)';
      else if (io === 'uart')
        note =
          'the firmware was built with --io uart: no command line to ask for a trace (rebuild with semihosting)';
      else if (!out.model.profile)
        note = 'the firmware was built without per-layer hooks (profile: false): no trace';
      else {
        const tt = performance.now();
        const traced = await runOnQemu({
          board: fw.board,
          elf: fw.elf,
          cwd: runDir,
          args: [...args, `trace=${w}`],
          timeoutMs: 60_000,
        });
        traceMs = performance.now() - tt;
        requireTargetSuccess(traced, `the trace run of window ${w}`);
        ({ layer, note } = firstDifferingLayer(model, input, parseHarnessOutput(traced.stdout).trace));
      }
      firstMismatch = {
        window: w,
        target: Array.from(out.logits.subarray(w * K, (w + 1) * K)),
        host: Array.from(host.logits.subarray(w * K, (w + 1) * K)),
        targetClass: out.predicted[w],
        hostClass: host.classes[w],
        layer,
        ...(note ? { note } : {}),
      };
    }

    // Accuracy, per class, confusion.
    const confusion = model.classNames.map(() => new Array<number>(K).fill(0));
    let correct = 0;
    let hostCorrect = 0;
    for (let i = 0; i < n; i++) {
      confusion[labels[i]][out.predicted[i]]++;
      if (out.predicted[i] === labels[i]) correct++;
      if (host.classes[i] === labels[i]) hostCorrect++;
    }
    const perClass = model.classNames.map((name, c) => {
      const total = confusion[c].reduce((s, v) => s + v, 0);
      return {
        class: name,
        windows: total,
        correct: confusion[c][c],
        accuracy: total ? confusion[c][c] / total : null,
      };
    });
    if (out.accuracy && out.accuracy.correct !== correct) {
      throw new TinyforgeError(
        `the firmware counts ${out.accuracy.correct} correct windows, its predictions give ${correct}`,
        'run',
        'The embedded labels differ from the build description: rebuild.',
      );
    }

    // Instructions.
    const macs = modelMacs(model);
    const ins = stats(out.instructions);
    const macsOf = layerMacs(model);
    const layers: LayerResult[] = model.layers.map((l, i) => {
      const lm = macsOf[i];
      const p = out.layers?.[i];
      const mean = p ? p.sum / n : null;
      return {
        index: i,
        name: l.name,
        kind: l.kind,
        macs: lm,
        instructions: p && mean !== null ? { mean, min: p.min, max: p.max } : null,
        share: mean !== null && ins.mean > 0 ? mean / ins.mean : null,
        perMac: mean !== null && lm > 0 ? mean / lm : null,
      };
    });

    // run.json beside the map, then the size report that reads it.
    const summary = {
      schema: RUN_SCHEMA,
      peakStackBytes: out.stackPeak,
      inferenceStackBytes: out.stackInference,
      windows: n,
      accuracy: correct / n,
      hostAccuracy: hostCorrect / n,
      agreement: { equal: mismatching === 0, mismatching },
      instructions: { mean: ins.mean, min: ins.min, max: ins.max, perMac: macs ? ins.mean / macs : 0 },
    };
    let runJson: string | null = null;
    if (o.writeRunJson !== false) {
      runJson = join(fw.dir, BUILD_FILES.run);
      writeFileAtomic(runJson, toJsonText(summary));
    }
    const sized = await loadSize(fw.elf, { stack: out.stackPeak });
    const rep = sized.report;
    const cat = rep.flash.categories;
    const staticRam = rep.ram.total - rep.ram.reservedStack;
    const arena = rep.ram.categories.arena;

    const result: TargetResult = {
      schema: TARGET_SCHEMA,
      board: fw.board.name,
      elf: fw.elf,
      map: sized.mapPath,
      mode: out.model.mode,
      profile: out.model.profile,
      windows: n,
      classNames: [...model.classNames],
      accuracy: correct / n,
      hostAccuracy: hostCorrect / n,
      perClass,
      confusion,
      agreement: {
        equal: mismatching === 0,
        layers: layerSame !== null,
        matching: n - mismatching,
        mismatching,
        predictionsDiffer,
        firstMismatch,
      },
      macs,
      instructions: {
        ...ins,
        perMac: macs ? ins.mean / macs : 0,
        resolution: counterResolution(fw.board) ?? 1,
      },
      layers,
      stack: { inference: out.stackInference, peak: out.stackPeak, reserved: rep.ram.reservedStack },
      flash: {
        total: rep.flash.total,
        capacity: rep.flash.capacity,
        model: cat.weights + cat.tables + cat.kernels,
        weights: cat.weights,
        tables: cat.tables,
        kernels: cat.kernels,
      },
      ram: {
        static: staticRam,
        staticWithStack: staticRam + out.stackPeak,
        arena,
        model: arena + out.stackInference,
        livenessBytes: fw.info?.codegen.livenessBytes ?? null,
        capacity: rep.ram.capacity,
      },
      wallMs: { total: performance.now() - t0, qemu: qemuMs, reference: referenceMs, trace: traceMs },
      qemuCommand: run.command,
      runJson,
      predictions: out.predicted,
      hostPredictions: host.classes,
      windowInstructions: out.instructions,
      targetLogits: out.logits,
    };
    if (runJson) writeFileAtomic(runJson, toJsonText({ ...summary, ...targetResultJson(result) }));
    return result;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
