// Reads the measurement harness's output (the lines firmware/harness/harness.c documents) into data,
// checking that it is complete and consistent; anything else is a 'run' error naming the line.
import { parseTfRecords, type TfRecord } from '../qemu/tfLines.js';
import { TinyforgeError } from '../util/errors.js';

export interface HarnessModelLine {
  crc32: string;
  layers: number;
  classes: number;
  inputShape: [number, number];
  profile: boolean;
  mode: 'file' | 'embed';
}

export interface HarnessOutput {
  model: HarnessModelLine;
  windows: number;
  /** Per result line, in order. */
  index: Int32Array;
  predicted: Int32Array;
  instructions: Float64Array;
  /** windows * classes int8 logits. */
  logits: Int8Array;
  /** Per layer (profiling builds): sum over the windows run, min and max per inference. */
  layers: { sum: number; min: number; max: number }[] | null;
  /** layer index -> its int8 output, trace runs only. */
  trace: Map<number, Int8Array>;
  /** Per result line, the CRC-32 of every layer's output (runs with `layers` only), else null. */
  layerCrcs: Uint32Array[] | null;
  stackInference: number;
  stackPeak: number;
  /** Embed mode: the firmware's own accuracy count and per-class counts. */
  accuracy: { correct: number; windows: number } | null;
  classCounts: { correct: number; total: number }[] | null;
  done: number;
}

/** 'TF lcrc <layer> <crc>' lines come before their window's 'TF w' line: one array per window. */
function layerCrcsOf(records: TfRecord[], layers: number): Uint32Array[] | null {
  if (!records.some((r) => r.key === 'lcrc')) return null;
  const out: Uint32Array[] = [];
  let pending = new Uint32Array(layers);
  let seen = 0;
  for (const r of records) {
    if (r.key === 'lcrc') {
      const i = int(r, 0, 'layer');
      if (i >= layers || !/^[0-9a-f]{8}$/.test(r.fields[1] ?? '')) fail(r, 'a malformed layer CRC');
      pending[i] = parseInt(r.fields[1], 16);
      seen++;
    } else if (r.key === 'w') {
      if (seen !== layers) fail(r, `${seen} layer CRCs before this window, the model has ${layers} layers`);
      out.push(pending);
      pending = new Uint32Array(layers);
      seen = 0;
    }
  }
  return out;
}

function fail(r: TfRecord | undefined, why: string): never {
  throw new TinyforgeError(
    `firmware output${r ? ` line ${r.line}` : ''}: ${why}`,
    'run',
    'The harness and this tinyforge disagree about the output format, or the output was cut off: rebuild the firmware.',
  );
}

function int(r: TfRecord, i: number, what: string): number {
  const s = r.fields[i];
  const v = Number(s);
  if (s === undefined || !/^\d+$/.test(s) || !Number.isSafeInteger(v)) fail(r, `'${what}' is not an integer`);
  return v;
}

function hexBytes(r: TfRecord, s: string | undefined, what: string): Int8Array {
  if (s === undefined || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) fail(r, `'${what}' is not hex bytes`);
  const out = new Int8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (parseInt(s.slice(2 * i, 2 * i + 2), 16) << 24) >> 24;
  return out;
}

/** Parses a complete harness run. `expectTrace` layer sizes come from the model (bytes per layer). */
export function parseHarnessOutput(stdout: string): HarnessOutput {
  const records = parseTfRecords(stdout);
  const first = (key: string) => records.find((r) => r.key === key);
  const m = first('model');
  if (!m || m.fields.length !== 7) fail(m, "no 'TF model' line: is this a tinyforge measurement firmware?");
  const model: HarnessModelLine = {
    crc32: m.fields[0],
    layers: int(m, 1, 'layers'),
    classes: int(m, 2, 'classes'),
    inputShape: [int(m, 3, 'T'), int(m, 4, 'C')],
    profile: m.fields[5] === '1',
    mode: m.fields[6] === 'embed' ? 'embed' : 'file',
  };
  const w = first('windows');
  if (!w) fail(undefined, "no 'TF windows' line");
  const windows = int(w, 0, 'windows');
  const K = model.classes;
  const lines = records.filter((r) => r.key === 'w');
  const count = lines.length;
  const index = new Int32Array(count);
  const predicted = new Int32Array(count);
  const instructions = new Float64Array(count);
  const logits = new Int8Array(count * K);
  lines.forEach((r, i) => {
    if (r.fields.length !== 4) fail(r, `'TF w' needs 4 fields, has ${r.fields.length}`);
    index[i] = int(r, 0, 'index');
    predicted[i] = int(r, 1, 'class');
    instructions[i] = int(r, 2, 'instructions');
    const l = hexBytes(r, r.fields[3], 'logits');
    if (l.length !== K) fail(r, `${l.length} logits, the model has ${K} classes`);
    logits.set(l, i * K);
  });

  const layerRecs = records.filter((r) => r.key === 'layer');
  let layers: HarnessOutput['layers'] = null;
  if (layerRecs.length > 0) {
    layers = Array.from({ length: model.layers }, () => ({ sum: 0, min: 0, max: 0 }));
    for (const r of layerRecs) {
      const i = int(r, 0, 'layer');
      if (i >= model.layers) fail(r, `layer ${i} does not exist`);
      layers[i] = { sum: int(r, 1, 'sum'), min: int(r, 2, 'min'), max: int(r, 3, 'max') };
    }
  }

  const chunks = new Map<number, { off: number; bytes: Int8Array }[]>();
  for (const r of records.filter((x) => x.key === 'trace')) {
    const layer = int(r, 0, 'layer');
    const list = chunks.get(layer) ?? [];
    list.push({ off: int(r, 1, 'offset'), bytes: hexBytes(r, r.fields[2], 'data') });
    chunks.set(layer, list);
  }
  const trace = new Map<number, Int8Array>();
  for (const [layer, list] of chunks) {
    const size = Math.max(...list.map((c) => c.off + c.bytes.length));
    const out = new Int8Array(size);
    for (const c of list) out.set(c.bytes, c.off);
    trace.set(layer, out);
  }

  const layerCrcs = layerCrcsOf(records, model.layers);

  const stack = new Map<string, number>();
  for (const r of records.filter((x) => x.key === 'stack')) stack.set(r.fields[0], int(r, 1, 'bytes'));
  const acc = first('accuracy');
  const classRecs = records.filter((r) => r.key === 'class');
  const done = first('done');
  if (!done) fail(undefined, "no 'TF done' line: the firmware stopped early");
  return {
    model,
    windows,
    index,
    predicted,
    instructions,
    logits,
    layerCrcs,
    layers,
    trace,
    stackInference: stack.get('inference') ?? 0,
    stackPeak: stack.get('peak') ?? 0,
    accuracy: acc ? { correct: int(acc, 0, 'correct'), windows: int(acc, 1, 'windows') } : null,
    classCounts: classRecs.length
      ? classRecs.map((r) => ({ correct: int(r, 1, 'correct'), total: int(r, 2, 'total') }))
      : null,
    done: int(done, 0, 'done'),
  };
}

/** The firmware's "TF error <code> corrupt-weights window=W layer=L" line, if any. */
export function corruptionReport(stdout: string): { window: number; layer: number } | null {
  const err = parseTfRecords(stdout)
    .reverse()
    .find((r) => r.key === 'error');
  if (!err) return null;
  const text = err.fields.slice(1).join(' ');
  const m = /corrupt-weights window=(\d+) layer=(-?\d+)/.exec(text);
  return m ? { window: Number(m[1]), layer: Number(m[2]) } : null;
}
