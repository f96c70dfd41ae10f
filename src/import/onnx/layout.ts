// Where an ONNX tensor's elements lie in the IR. ONNX lays tensors out channels first, the IR
// channels last, and layout-only nodes (Transpose, Reshape, Flatten, Squeeze) move no data: each
// ONNX tensor is an IR tensor read in some element order. The order travels with the tensor, and an
// operator reads its input only when the order is the one it needs (channels first over [S..., C]).
import { sizeOf } from '../../graph/types.js';
import type { ChannelOrder } from '../../ops/onnxTypes.js';
import type { RawNode } from './proto.js';

/** A runtime ONNX tensor in the IR. */
export interface Value {
  /** The IR tensor: a layer's name or the graph input. */
  tensor: string;
  /** ONNX shape without the batch. */
  dims: number[];
  /** ONNX element i (row major over dims) is IR element order[i]; undefined: the same order. */
  order: ChannelOrder;
  /** No element is negative (after a ReLU): zero padding then equals a max pool's. */
  nonNegative: boolean;
}

/** The order, or undefined when it is the identity. */
function orNothing(order: Int32Array): ChannelOrder {
  return order.every((v, i) => v === i) ? undefined : order;
}

/** [C, S...] read from the IR tensor [S..., C]: element (c, s) is IR element s*C + c. */
export function channelsFirstOrder(dims: readonly number[]): ChannelOrder {
  const C = dims[0];
  const S = sizeOf(dims) / C;
  if (C === 1 || S === 1) return undefined;
  const order = new Int32Array(C * S);
  for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) order[c * S + s] = s * C + c;
  return order;
}

/** The IR shape [S..., C] of a channels-first ONNX shape [C, S...]. */
export function channelsLastShape(dims: readonly number[]): number[] {
  return dims.length < 2 ? [...dims] : [...dims.slice(1), dims[0]];
}

/** Two orders over n elements are the same. */
export function sameOrder(a: ChannelOrder, b: ChannelOrder): boolean {
  if (a === b) return true;
  if (!a || !b) return (a ?? b)!.every((v, i) => v === i);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Row-major strides of a shape. */
function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let a = dims.length - 2; a >= 0; a--) s[a] = s[a + 1] * dims[a + 1];
  return s;
}

/**
 * A Transpose of a value by `perm` over its axes without the batch (output axis j is input axis
 * perm[j]): new dims and the order of its elements in the same IR tensor.
 */
export function transposed(v: Value, perm: readonly number[]): Value {
  const dims = perm.map((a) => v.dims[a]);
  const inStride = strides(v.dims);
  const n = sizeOf(dims);
  const order = new Int32Array(n);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = 0;
    for (let j = 0; j < dims.length; j++) at += idx[j] * inStride[perm[j]];
    order[i] = v.order ? v.order[at] : at;
    for (let j = dims.length - 1; j >= 0 && ++idx[j] === dims[j]; j--) idx[j] = 0;
  }
  return { ...v, dims, order: orNothing(order) };
}

/** An operator needs its input in an element order the graph does not give it there. */
export class LayoutMismatch extends Error {
  constructor(
    readonly node: RawNode,
    readonly why: string,
  ) {
    super(why);
  }
}
