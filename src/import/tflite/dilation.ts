// Dilated convolutions as TensorFlow lowers them: SPACE_TO_BATCH_ND (the input split into `block`
// phases, padded to a multiple), a stride-1 VALID CONV_2D or DEPTHWISE_CONV_2D on every phase,
// BATCH_TO_SPACE_ND (the phases interleaved back, the extra cropped), with layout ops on either
// side for 1D layers and often the bias as a separate ADD. The converter leaves Keras 3's dilated
// layers this way. This pass rewrites each such chain, in the model read from the file, into the
// one operator with dilation = block: on the phases, output t reads padded input t + j*d; after the
// crop (cs) it reads input t + cs - s + j*d (s = padding before), i.e. a dilated convolution of the
// input padded by P = s - cs before and R after, whatever R makes the output length. P, R = 0 is
// VALID; Keras 'same' amounts are SAME; others become an explicit PAD before a VALID operator.
import { ADD_OPTIONS, CONV_OPTIONS, DEPTHWISE_OPTIONS } from '../../ops/tfliteFields.js';
import type { TfliteOptions } from '../../ops/tfliteTypes.js';
import { floatValues, intValues } from './constants.js';
import type { TfModel, TfOperator, TfTensor } from './model.js';
import { LAYOUT_OPS } from './operators.js';

/** The options fields the rewrite reads and sets, per operator. */
const DILATABLE: Record<
  string,
  {
    padding: number;
    strideW: number;
    strideH: number;
    activation: number;
    dilationW: number;
    dilationH: number;
  }
> = {
  CONV_2D: CONV_OPTIONS,
  DEPTHWISE_CONV_2D: DEPTHWISE_OPTIONS,
};

/** A chain found in the model: its operators in order and what the rewrite needs. */
interface Chain {
  s2b: TfOperator;
  op: TfOperator;
  b2s: TfOperator;
  /** The ADD of a constant bias after it, when there is one. */
  bias?: { add: TfOperator; values: Float32Array };
  /** A RELU (RELU6, ...) after that, taken in as the fused activation. */
  act?: TfOperator;
  removed: Set<number>;
}

/** Activation operators a dilated operator can take in: their ActivationFunctionType codes. */
const FUSABLE: Record<string, number> = { RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4 };

/** Options with some fields replaced (the rewritten operator's padding, dilation, activation). */
function withFields(base: TfliteOptions | undefined, set: Record<number, number>): TfliteOptions {
  const pick = (f: number, d: number, read?: (f: number, d: number) => number) =>
    f in set ? set[f] : read ? read(f, d) : d;
  return {
    byte: (f, d = 0) => pick(f, d, base?.byte.bind(base)),
    int: (f, d = 0) => pick(f, d, base?.int.bind(base)),
    float: (f, d = 0) => base?.float(f, d) ?? d,
    bool: (f, d = false) => base?.bool(f, d) ?? d,
    ints: (f) => base?.ints(f),
  };
}

class Graph {
  readonly producer = new Map<number, TfOperator>();
  readonly readers = new Map<number, TfOperator[]>();
  constructor(readonly m: TfModel) {
    for (const op of m.operators) {
      for (const t of op.outputs) this.producer.set(t, op);
      for (const t of op.inputs) if (t >= 0) this.readers.set(t, [...(this.readers.get(t) ?? []), op]);
    }
  }
  /** The only reader of a tensor that is not a model output. */
  soleReader(t: number): TfOperator | undefined {
    const r = this.readers.get(t) ?? [];
    return r.length === 1 && !this.m.outputs.includes(t) ? r[0] : undefined;
  }
  constInts(t: number | undefined): number[] | undefined {
    const tensor = t === undefined || t < 0 ? undefined : this.m.tensors[t];
    return tensor?.data && (tensor.type === 'INT32' || tensor.type === 'INT64')
      ? intValues(tensor)
      : undefined;
  }
}

/** The SPACE_TO_BATCH_ND ... BATCH_TO_SPACE_ND chain that ends at `b2s`, if it is one. */
function findChain(g: Graph, b2s: TfOperator): Chain | undefined {
  const removed = new Set<number>([b2s.index]);
  const op = throughLayout(g, b2s.inputs[0], removed);
  if (!op || !(op.opName in DILATABLE)) return undefined;
  removed.add(op.index);
  const s2b = throughLayout(g, op.inputs[0], removed);
  if (!s2b || s2b.opName !== 'SPACE_TO_BATCH_ND') return undefined;
  removed.add(s2b.index);
  const bias = biasAfter(g, b2s, op);
  const fused = bias
    ? bias.add.options?.byte(ADD_OPTIONS.activation, 0)
    : op.options?.byte(DILATABLE[op.opName].activation, 0);
  const next = g.soleReader((bias?.add ?? b2s).outputs[0]);
  const act = !fused && next && next.opName in FUSABLE ? next : undefined;
  for (const o of [bias?.add, act]) if (o) removed.add(o.index);
  return { s2b, op, b2s, removed, bias, act };
}

/** The producer of `t` before any layout ops, each read only by the next (added to `passed`). */
function throughLayout(g: Graph, t: number, passed: Set<number>): TfOperator | undefined {
  for (let p = g.producer.get(t); p && g.soleReader(t); p = g.producer.get(t)) {
    if (!LAYOUT_OPS.has(p.opName)) return p;
    passed.add(p.index);
    t = p.inputs[0];
  }
  return undefined;
}

/** An ADD of a constant per-channel bias right after the chain (Keras 3 keeps it apart). */
function biasAfter(g: Graph, b2s: TfOperator, op: TfOperator): Chain['bias'] {
  const add = g.soleReader(b2s.outputs[0]);
  if (!add || add.opName !== 'ADD' || add.inputs.length !== 2) return undefined;
  const other = add.inputs.find((t) => t !== b2s.outputs[0]);
  const c = other === undefined ? undefined : g.m.tensors[other];
  const channels = g.m.tensors[b2s.outputs[0]].shape.at(-1);
  const fused = op.options?.byte(DILATABLE[op.opName].activation, 0) ?? 0;
  if (
    !c?.data ||
    fused !== 0 ||
    c.shape.reduce((a, b) => a * b, 1) !== channels ||
    c.shape.at(-1) !== channels
  )
    return undefined;
  return { add, values: floatValues(c) };
}

/** The padding of one spatial axis of the input that the chain computes. */
function axisPads(n: number, s: number, e: number, cs: number, ce: number, k: number, d: number) {
  const full = n + s + e - (k - 1) * d;
  const before = s - cs;
  const out = full - cs - ce;
  return { before, after: out - n - before + (k - 1) * d, out, divisible: (n + s + e) % d === 0 };
}

/** Keras 'same' amounts of a stride-1 dilated window: floor(total / 2) before, the rest after. */
function samePads(k: number, d: number): [number, number] {
  const total = (k - 1) * d;
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export interface DilationProblem {
  op: TfOperator;
  why: string;
}

/**
 * The model with every dilated-convolution chain as one operator; `fail` reports a chain whose
 * padding no dilated convolution gives (it crops real outputs) or whose inner operator is not a
 * stride-1 VALID one.
 */
export function fuseDilations(m: TfModel, fail: (p: DilationProblem) => never): TfModel {
  let model = m;
  for (;;) {
    const g = new Graph(model);
    const chain = model.operators
      .filter((op) => op.opName === 'BATCH_TO_SPACE_ND')
      .map((op) => findChain(g, op))
      .find((c) => c !== undefined);
    if (!chain) return model;
    model = rewrite(g, chain, fail);
  }
}

/** What a chain computes: its input, the dilation and the padding of each spatial axis. */
interface Geometry {
  x: TfTensor;
  block: number[];
  /** Spatial axes of the input: 1 for a sequence [1, T, C] (the 2D operator's W axis), 2 for [1, H, W, C]. */
  spatial: number;
  pads: { before: number; after: number }[];
  /** 'same' and 'valid' need no PAD before the operator. */
  padding: 'same' | 'valid' | 'explicit';
}

function geometry(g: Graph, c: Chain, fail: (p: DilationProblem) => never): Geometry {
  const m = g.m;
  const x = m.tensors[c.s2b.inputs[0]];
  const [block, pads, crops] = [
    g.constInts(c.s2b.inputs[1]),
    g.constInts(c.s2b.inputs[2]),
    g.constInts(c.b2s.inputs[2]),
  ];
  const f = DILATABLE[c.op.opName];
  const o = c.op.options;
  const spatial = x.shape.length - 2;
  const filter = m.tensors[c.op.inputs[1]];
  const problem = (why: string) => fail({ op: c.op, why });
  if (!block || !pads || !crops || !filter || filter.shape.length !== 4 || block.length !== spatial)
    return problem('a dilation (SPACE_TO_BATCH_ND) with block or paddings that are not constants');
  if (!sameList(block, g.constInts(c.b2s.inputs[1]) ?? []))
    return problem('SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND with different blocks');
  const opt = (field: number, d: number, read: 'int' | 'byte') => o?.[read](field, d) ?? d;
  if (opt(f.strideW, 1, 'int') !== 1 || opt(f.strideH, 1, 'int') !== 1 || opt(f.padding, 0, 'byte') !== 1)
    return problem('a dilated operator that is not a stride-1 VALID one inside SPACE_TO_BATCH_ND');
  // Kernel sizes along x's spatial axes: a 1D input is the W axis of the 2D operator.
  const kernel = spatial === 1 ? [filter.shape[2]] : [filter.shape[1], filter.shape[2]];
  const axes = kernel.map((k, a) =>
    axisPads(x.shape[1 + a], pads[2 * a], pads[2 * a + 1], crops[2 * a], crops[2 * a + 1], k, block[a]),
  );
  const z = m.tensors[c.b2s.outputs[0]];
  if (axes.some((a, i) => !a.divisible || a.before < 0 || a.after < 0 || a.out !== z.shape[1 + i]))
    return problem(
      `dilation [${block.join(', ')}] with paddings [${pads.join(', ')}] and crops [${crops.join(', ')}]`,
    );
  const valid = axes.every((a) => a.before === 0 && a.after === 0);
  const same = axes.every((a, i) => sameList([a.before, a.after], samePads(kernel[i], block[i])));
  return { x, block, spatial, pads: axes, padding: valid ? 'valid' : same ? 'same' : 'explicit' };
}

/** Tensors and operators added to a model in place of some of its operators. */
class Edit {
  readonly tensors: TfTensor[];
  readonly ops: TfOperator[] = [];
  private nextOp: number;
  constructor(private readonly m: TfModel) {
    this.tensors = [...m.tensors];
    this.nextOp = m.operators.reduce((a, o) => Math.max(a, o.index), 0) + 1;
  }
  tensor(t: Omit<TfTensor, 'index'>): number {
    return this.tensors.push({ ...t, index: this.tensors.length }) - 1;
  }
  /** A new operator (numbered after the file's). */
  op(opName: string, inputs: number[], outputs: number[]): void {
    this.ops.push({ index: this.nextOp++, opName, inputs, outputs });
  }
  /** The activation `like` (a tensor) of another shape. */
  like(like: TfTensor, name: string, shape: number[]): number {
    return this.tensor({ name, shape, type: like.type, quant: like.quant });
  }
  /** The model with the new operators where the last removed one was. */
  model(removed: ReadonlySet<number>): TfModel {
    const at = this.m.operators.reduce((last, op, i) => (removed.has(op.index) ? i : last), -1);
    const operators = this.m.operators.flatMap((op, i) =>
      i === at ? this.ops : removed.has(op.index) ? [] : [op],
    );
    return { ...this.m, tensors: this.tensors, operators };
  }
}

/** The chain as (PAD,) (RESHAPE to a unit row,) the dilated operator (, RESHAPE back). */
function rewrite(g: Graph, c: Chain, fail: (p: DilationProblem) => never): TfModel {
  const { x, block, spatial, pads, padding } = geometry(g, c, fail);
  const e = new Edit(g.m);
  // New tensors are named after the operator's output (layer names come from tensor names).
  const base = g.m.tensors[c.op.outputs[0]].name;
  let input = x.index;
  if (padding === 'explicit') {
    const p = [0, 0, ...pads.flatMap((a) => [a.before, a.after]), 0, 0];
    const data = littleEndian(p, 'INT32');
    const pt = e.tensor({ name: `${base}/dilation_pad`, shape: [spatial + 2, 2], type: 'INT32', data });
    const shape = [1, ...pads.map((a, i) => x.shape[1 + i] + a.before + a.after), x.shape.at(-1)!];
    const out = e.like(x, `${base}/dilation_padded`, shape);
    e.op('PAD', [input, pt], [out]);
    input = out;
  }
  if (spatial === 1) {
    const out = e.like(x, `${base}/dilation_rows`, [1, 1, ...e.tensors[input].shape.slice(1)]);
    e.op('RESHAPE', [input], [out]);
    input = out;
  }
  const result = g.m.tensors[(c.act ?? c.bias?.add ?? c.b2s).outputs[0]];
  const opOut =
    spatial === 1
      ? e.like(result, g.m.tensors[c.op.outputs[0]].name, [1, 1, ...result.shape.slice(1)])
      : result.index;
  const f = DILATABLE[c.op.opName];
  const dilation = spatial === 1 ? [1, block[0]] : block;
  e.ops.push({
    ...c.op,
    inputs: [input, c.op.inputs[1], biasTensor(g.m, c, e)],
    outputs: [opOut],
    options: withFields(c.op.options, {
      [f.padding]: padding === 'same' ? 0 : 1,
      [f.dilationH]: dilation[0],
      [f.dilationW]: dilation[1],
      [f.activation]: fusedActivation(c),
    }),
  });
  if (spatial === 1) e.op('RESHAPE', [opOut], [result.index]);
  return e.model(c.removed);
}

/** The chain's activation: a RELU after it, the bias ADD's fused one, or the operator's own. */
function fusedActivation(c: Chain): number {
  if (c.act) return FUSABLE[c.act.opName];
  if (c.bias) return c.bias.add.options?.byte(ADD_OPTIONS.activation, 0) ?? 0;
  return c.op.options?.byte(DILATABLE[c.op.opName].activation, 0) ?? 0;
}

/** The operator's bias plus the separate ADD's, as one float32 constant (or the bias as it was). */
function biasTensor(m: TfModel, c: Chain, e: Edit): number {
  const slot = c.op.inputs[2] ?? -1;
  if (!c.bias) return slot;
  const own = slot >= 0 && m.tensors[slot].data ? floatValues(m.tensors[slot]) : undefined;
  const sum = Array.from(c.bias.values, (v, i) => v + (own ? own[i] : 0));
  const data = littleEndian(sum, 'FLOAT32');
  return e.tensor({
    name: `${m.tensors[c.op.outputs[0]].name}/bias`,
    shape: [sum.length],
    type: 'FLOAT32',
    data,
  });
}

/** Values as the schema stores them (little endian). */
function littleEndian(values: number[], type: 'INT32' | 'FLOAT32'): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) =>
    type === 'INT32' ? view.setInt32(4 * i, v, true) : view.setFloat32(4 * i, v, true),
  );
  return new Uint8Array(view.buffer);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
