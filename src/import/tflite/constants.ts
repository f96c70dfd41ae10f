// Constant tensors as float values: float32 as stored, float16 widened, integer tensors with
// quantization parameters dequantized (f = scale * (q - zero_point), per tensor or per axis, as the
// schema defines it; an int32 bias of an int8 model carries scale in_scale * w_scale the same way).
import type { Quantization, TfTensor } from './model.js';

const BYTES: Record<string, number> = {
  FLOAT32: 4,
  FLOAT16: 2,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
};

/** IEEE 754 half precision bits to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The raw values of a constant (little endian, as the schema stores every buffer). */
function rawValues(t: TfTensor, data: Uint8Array): number[] | Float32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.byteLength / BYTES[t.type];
  const read: Record<string, (i: number) => number> = {
    FLOAT32: (i) => view.getFloat32(4 * i, true),
    FLOAT16: (i) => halfToFloat(view.getUint16(2 * i, true)),
    INT8: (i) => view.getInt8(i),
    UINT8: (i) => view.getUint8(i),
    INT16: (i) => view.getInt16(2 * i, true),
    INT32: (i) => view.getInt32(4 * i, true),
    INT64: (i) => Number(view.getBigInt64(8 * i, true)),
  };
  return Array.from({ length: n }, (_, i) => read[t.type](i));
}

/** Elements of a shape (a scalar has one). */
export function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Why a constant cannot be read as numbers, or undefined when it can. */
export function constantProblem(t: TfTensor): string | undefined {
  if (!(t.type in BYTES)) return `a constant of type ${t.type}`;
  const n = elements(t.shape);
  if (!t.data || t.data.byteLength !== n * BYTES[t.type])
    return `constant '${t.name}' holds ${t.data?.byteLength ?? 0} bytes for shape [${t.shape.join(', ')}] of ${t.type}`;
  const q = t.quant;
  if (q && q.scale.length > 1 && q.scale.length !== t.shape[q.axis])
    return `constant '${t.name}' has ${q.scale.length} scales along axis ${q.axis} of [${t.shape.join(', ')}]`;
  return undefined;
}

function dequantize(values: ArrayLike<number>, shape: readonly number[], q: Quantization): Float32Array {
  const out = new Float32Array(values.length);
  const perAxis = q.scale.length > 1;
  const inner = perAxis ? elements(shape.slice(q.axis + 1)) : 1;
  const along = perAxis ? shape[q.axis] : 1;
  for (let i = 0; i < values.length; i++) {
    const c = perAxis ? Math.floor(i / inner) % along : 0;
    out[i] = q.scale[c] * (values[i] - (q.zeroPoint[c] ?? q.zeroPoint[0] ?? 0));
  }
  return out;
}

/** Float values of a constant: dequantized when it has quantization parameters. */
export function floatValues(t: TfTensor): Float32Array {
  const raw = rawValues(t, t.data!);
  if (t.quant && t.type !== 'FLOAT32' && t.type !== 'FLOAT16') return dequantize(raw, t.shape, t.quant);
  return Float32Array.from(raw);
}

/** Integer values of an index constant (axes, paddings, shapes). */
export function intValues(t: TfTensor): number[] {
  return Array.from(rawValues(t, t.data!));
}
