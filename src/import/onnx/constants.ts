// Nodes whose inputs are all constants (a weight reshaped or transposed by the exporter, the pads
// of F.pad assembled by the TorchScript exporter) become constants themselves. Only layout ops,
// casts and the few index ops those make are folded: arithmetic on constants was folded by the
// exporter already (torch.onnx.export folds constants by default).
import { sizeOf } from '../../graph/types.js';
import type { OnnxConstant } from '../../ops/onnxTypes.js';
import type { RawNode } from './proto.js';

/** The value of a constant-only node, or the reason it cannot be folded. */
export function foldConstant(node: RawNode, inputs: (OnnxConstant | undefined)[]): OnnxConstant | string {
  const [x] = inputs;
  if (!x) return 'a node without a data input';
  switch (node.opType) {
    case 'Identity':
    case 'Cast':
      return x;
    case 'Reshape':
      return inputs[1]
        ? reshaped(x, Array.from(inputs[1].values), node.attrs.int('allowzero', 0) === 1)
        : 'no shape';
    case 'Flatten': {
      const axis = node.attrs.int('axis', 1);
      const a = axis < 0 ? axis + x.dims.length : axis;
      return { dims: [sizeOf(x.dims.slice(0, a)), sizeOf(x.dims.slice(a))], values: x.values };
    }
    case 'Squeeze':
    case 'Unsqueeze':
      return squeezed(node, x, inputs[1]);
    case 'Transpose':
      return transposedConstant(
        x,
        node.attrs.ints(
          'perm',
          x.dims.map((_, i) => x.dims.length - 1 - i),
        ),
      );
    case 'ConstantOfShape': {
      const fill = node.value()?.values[0] ?? 0;
      return {
        dims: Array.from(x.values),
        values: new Float64Array(sizeOf(Array.from(x.values))).fill(fill),
      };
    }
    case 'Concat':
      return concatenated(inputs, node.attrs.int('axis'));
    case 'Slice':
      return sliced(node, x, inputs);
    case 'Gather':
      return inputs[1] ? gathered(x, inputs[1], node.attrs.int('axis', 0)) : 'no indices';
    default:
      return 'computing on constants (export with constant folding)';
  }
}

function reshaped(x: OnnxConstant, target: number[], allowZero: boolean): OnnxConstant | string {
  const t = target.map((v, i) => (v === 0 && !allowZero ? x.dims[i] : v));
  const known = sizeOf(t.filter((v) => v !== -1));
  const dims = t.map((v) => (v === -1 ? x.values.length / known : v));
  return sizeOf(dims) === x.values.length ? { dims, values: x.values } : `shape [${target.join(', ')}]`;
}

function squeezed(node: RawNode, x: OnnxConstant, axesInput: OnnxConstant | undefined): OnnxConstant {
  const given = node.attrs.has('axes')
    ? node.attrs.ints('axes')
    : axesInput
      ? Array.from(axesInput.values)
      : [];
  if (node.opType === 'Squeeze') {
    const rank = x.dims.length;
    const axes = given.map((a) => (a < 0 ? a + rank : a));
    const keep = (d: number, i: number) => (axes.length ? !axes.includes(i) : d !== 1);
    return { dims: x.dims.filter(keep), values: x.values };
  }
  const rank = x.dims.length + given.length;
  const axes = given.map((a) => (a < 0 ? a + rank : a));
  const dims: number[] = [];
  for (let a = 0, d = 0; a < rank; a++) dims.push(axes.includes(a) ? 1 : x.dims[d++]);
  return { dims, values: x.values };
}

function transposedConstant(x: OnnxConstant, perm: number[]): OnnxConstant {
  const dims = perm.map((a) => x.dims[a]);
  const inStride = x.dims.map((_, a) => sizeOf(x.dims.slice(a + 1)));
  const values = new Float64Array(x.values.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    let at = 0;
    for (let j = 0; j < dims.length; j++) at += idx[j] * inStride[perm[j]];
    values[i] = x.values[at];
    for (let j = dims.length - 1; j >= 0 && ++idx[j] === dims[j]; j--) idx[j] = 0;
  }
  return { dims, values };
}

/** Concat of constants along `axis`. */
function concatenated(inputs: (OnnxConstant | undefined)[], axis: number): OnnxConstant | string {
  const xs = inputs.filter((c): c is OnnxConstant => c !== undefined);
  const rank = xs[0].dims.length;
  const a = axis < 0 ? axis + rank : axis;
  const outer = sizeOf(xs[0].dims.slice(0, a));
  const parts = xs.map((c) => c.values.length / outer);
  const values = new Float64Array(xs.reduce((n, c) => n + c.values.length, 0));
  let at = 0;
  for (let o = 0; o < outer; o++)
    xs.forEach((c, k) => {
      values.set(c.values.subarray(o * parts[k], (o + 1) * parts[k]), at);
      at += parts[k];
    });
  const dims = [...xs[0].dims];
  dims[a] = xs.reduce((n, c) => n + c.dims[a], 0);
  return { dims, values };
}

/** Slice of a constant (starts, ends, axes, steps as inputs from opset 10, attributes before). */
function sliced(node: RawNode, x: OnnxConstant, inputs: (OnnxConstant | undefined)[]): OnnxConstant | string {
  const arg = (name: string, i: number) =>
    node.attrs.has(name) ? node.attrs.ints(name) : inputs[i] ? Array.from(inputs[i]!.values) : undefined;
  const starts = arg('starts', 1);
  const ends = arg('ends', 2);
  if (!starts || !ends) return 'a Slice without starts and ends';
  const axes = arg('axes', 3) ?? starts.map((_, i) => i);
  const steps = arg('steps', 4) ?? starts.map(() => 1);
  // Per axis: the indices taken, ONNX clamping (negative counts from the end).
  const take = x.dims.map((d) => [...Array(d).keys()]);
  axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + x.dims.length : ax;
    const d = x.dims[a];
    const step = steps[i];
    const at = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const s = step > 0 ? at(starts[i], 0, d) : at(starts[i], 0, d - 1);
    const e = step > 0 ? at(ends[i], 0, d) : at(ends[i], -1, d - 1);
    const idx: number[] = [];
    for (let v = s; step > 0 ? v < e : v > e; v += step) idx.push(v);
    take[a] = idx;
  });
  const dims = take.map((t) => t.length);
  const stride = x.dims.map((_, a) => sizeOf(x.dims.slice(a + 1)));
  const values = new Float64Array(sizeOf(dims));
  const pos = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    values[i] = x.values[pos.reduce((n, p, a) => n + take[a][p] * stride[a], 0)];
    for (let a = dims.length - 1; a >= 0 && ++pos[a] === dims[a]; a--) pos[a] = 0;
  }
  return { dims, values };
}

/** Gather of a constant along `axis` at constant indices (negative from the end). */
function gathered(x: OnnxConstant, indices: OnnxConstant, axis: number): OnnxConstant {
  const a = axis < 0 ? axis + x.dims.length : axis;
  const outer = sizeOf(x.dims.slice(0, a));
  const inner = sizeOf(x.dims.slice(a + 1));
  const n = x.dims[a];
  const values = new Float64Array(outer * indices.values.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++)
    for (const raw of indices.values) {
      const i = raw < 0 ? raw + n : raw;
      values.set(x.values.subarray((o * n + i) * inner, (o * n + i + 1) * inner), at);
      at += inner;
    }
  return { dims: [...x.dims.slice(0, a), ...indices.dims, ...x.dims.slice(a + 1)], values };
}
