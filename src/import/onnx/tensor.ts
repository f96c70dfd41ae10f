// ONNX TensorProto values (initializers, Constant nodes) as plain numbers: raw_data little endian,
// or the typed fields (float_data, int32_data, int64_data, double_data, uint64_data).
import type { onnx } from 'onnx-proto';
import type { OnnxConstant } from '../../ops/onnxTypes.js';
import { TinyforgeError } from '../../util/errors.js';

/** An int64 as protobufjs decodes it (a number or a Long) as a number. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Bytes per element of raw_data and how to read one, by TensorProto.DataType. */
const RAW: Record<number, { name: string; bytes: number; read(v: DataView, at: number): number }> = {
  1: { name: 'float32', bytes: 4, read: (v, at) => v.getFloat32(at, true) },
  2: { name: 'uint8', bytes: 1, read: (v, at) => v.getUint8(at) },
  3: { name: 'int8', bytes: 1, read: (v, at) => v.getInt8(at) },
  4: { name: 'uint16', bytes: 2, read: (v, at) => v.getUint16(at, true) },
  5: { name: 'int16', bytes: 2, read: (v, at) => v.getInt16(at, true) },
  6: { name: 'int32', bytes: 4, read: (v, at) => v.getInt32(at, true) },
  7: { name: 'int64', bytes: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  9: { name: 'bool', bytes: 1, read: (v, at) => v.getUint8(at) },
  11: { name: 'float64', bytes: 8, read: (v, at) => v.getFloat64(at, true) },
  12: { name: 'uint32', bytes: 4, read: (v, at) => v.getUint32(at, true) },
  13: { name: 'uint64', bytes: 8, read: (v, at) => Number(v.getBigUint64(at, true)) },
};

/** The typed field holding a data type's values when raw_data is empty. */
function typedField(t: onnx.ITensorProto, type: number): ArrayLike<number | { toNumber(): number }> {
  if (type === 1) return t.floatData ?? [];
  if (type === 11) return t.doubleData ?? [];
  if (type === 7) return t.int64Data ?? [];
  if (type === 12 || type === 13) return t.uint64Data ?? [];
  return t.int32Data ?? [];
}

/** A tensor's values; `where` names it in messages (file and tensor). */
export function tensorValues(t: onnx.ITensorProto, where: string): OnnxConstant {
  const dims = (t.dims ?? []).map(num);
  const type = t.dataType ?? 0;
  if (t.dataLocation === 1)
    throw new TinyforgeError(
      `${where}: its values are in an external data file`,
      'model',
      'save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))',
    );
  const raw = RAW[type];
  if (!raw)
    throw new TinyforgeError(
      `${where}: data type ${type} is not supported`,
      'model',
      'float32, float64 and integer tensors are supported',
    );
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  const bytes = t.rawData;
  if (bytes && bytes.length > 0) {
    if (bytes.length !== n * raw.bytes)
      throw new TinyforgeError(
        `${where}: raw_data holds ${bytes.length} bytes, [${dims}] ${raw.name} needs ${n * raw.bytes}`,
        'input',
      );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) values[i] = raw.read(view, i * raw.bytes);
    return { dims, values };
  }
  const field = typedField(t, type);
  if (field.length !== n)
    throw new TinyforgeError(`${where}: holds ${field.length} values, shape [${dims}] needs ${n}`, 'input');
  for (let i = 0; i < n; i++) values[i] = num(field[i]);
  return { dims, values };
}
