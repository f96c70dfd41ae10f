// The parts of a TFLite model the importer uses, read once from the flatbuffer into plain values:
// the operator codes, the first subgraph's tensors and operators, and the constant buffers (inside
// the flatbuffer, or after it at Buffer.offset/size as the converter writes models over 2 GB).
import {
  FbTable,
  FlatFile,
  BUFFER,
  MODEL,
  OPERATOR,
  OPERATOR_CODE,
  QUANTIZATION,
  SUBGRAPH,
  TENSOR,
} from './flatbuffer.js';
import { builtinName, tensorTypeName } from './schema.js';
import type { TfliteOptions } from '../../ops/tfliteTypes.js';

export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** The axis the scales and zero points run along (per-axis quantization). */
  axis: number;
}

export interface TfTensor {
  index: number;
  name: string;
  /** The stored shape (batch dimension first for activations). */
  shape: number[];
  /** The shape with -1 for unknown dimensions, when the converter wrote one. */
  signature?: number[];
  type: string;
  /** Constant data, or undefined for activations (buffer 0 or an empty buffer). */
  data?: Uint8Array;
  quant?: Quantization;
}

export interface TfOperator {
  index: number;
  /** Builtin name ('CONV_2D'); 'CUSTOM' for custom and Flex operators. */
  opName: string;
  customCode?: string;
  /** Tensor indices; -1 for an absent optional input. */
  inputs: number[];
  outputs: number[];
  options?: TfliteOptions;
}

export interface TfModel {
  subgraphs: number;
  /** Buffers stored after the flatbuffer (Buffer.offset/size) rather than inside it. */
  externalBuffers: number;
  tensors: TfTensor[];
  operators: TfOperator[];
  inputs: number[];
  outputs: number[];
}

/** The builtin code: the larger of the deprecated byte field and the int field (schema 3a). */
function opCode(t: FbTable): { opName: string; customCode?: string } {
  const code = Math.max(t.byte(OPERATOR_CODE.deprecatedBuiltinCode), t.int(OPERATOR_CODE.builtinCode));
  return { opName: builtinName(code), customCode: t.string(OPERATOR_CODE.customCode) };
}

/** A buffer's bytes: its data vector, or the range after the flatbuffer it points at. */
function bufferBytes(fb: FlatFile, b: FbTable | undefined): Uint8Array | undefined {
  if (!b) return undefined;
  const data = b.bytes(BUFFER.data);
  if (data && data.length) return data;
  const offset = b.ulong(BUFFER.offset);
  const size = b.ulong(BUFFER.size);
  // offset 1 marks "no data" in the schema; real offsets are > 1.
  if (offset <= 1 || size === 0) return undefined;
  fb.need(offset, size, 'a buffer');
  return fb.bytes.subarray(offset, offset + size);
}

function quantization(t: FbTable | undefined): Quantization | undefined {
  const scale = t?.floats(QUANTIZATION.scale);
  if (!t || !scale?.length) return undefined;
  const zeroPoint = t.longs(QUANTIZATION.zeroPoint) ?? [];
  return { scale, zeroPoint, axis: t.int(QUANTIZATION.quantizedDimension) };
}

function tensor(fb: FlatFile, t: FbTable, index: number, buffers: FbTable[]): TfTensor {
  const b = t.uint(TENSOR.buffer);
  if (b >= buffers.length && b !== 0) fb.malformed(`tensor ${index} names buffer ${b} of ${buffers.length}`);
  return {
    index,
    name: t.string(TENSOR.name) ?? `tensor_${index}`,
    shape: t.ints(TENSOR.shape) ?? [],
    signature: t.ints(TENSOR.shapeSignature),
    type: tensorTypeName(t.byte(TENSOR.type)),
    data: b === 0 ? undefined : bufferBytes(fb, buffers[b]),
    quant: quantization(t.table(TENSOR.quantization)),
  };
}

function operator(fb: FlatFile, t: FbTable, index: number, codes: ReturnType<typeof opCode>[]): TfOperator {
  const code = codes[t.uint(OPERATOR.opcodeIndex)];
  if (!code) fb.malformed(`operator ${index} names an operator code that does not exist`);
  return {
    index,
    ...code,
    inputs: t.ints(OPERATOR.inputs) ?? [],
    outputs: t.ints(OPERATOR.outputs) ?? [],
    options: t.table(OPERATOR.builtinOptions),
  };
}

/** Reads the model (the first subgraph in full; the others are only counted). */
export function readModel(bytes: Uint8Array, file: string): TfModel {
  const fb = new FlatFile(bytes, file);
  const root = fb.root();
  const codes = root.tables(MODEL.operatorCodes).map(opCode);
  const subgraphs = root.tables(MODEL.subgraphs);
  if (!subgraphs.length) fb.malformed('no subgraph');
  const buffers = root.tables(MODEL.buffers);
  const sg = subgraphs[0];
  const tensors = sg.tables(SUBGRAPH.tensors).map((t, i) => tensor(fb, t, i, buffers));
  const operators = sg.tables(SUBGRAPH.operators).map((t, i) => operator(fb, t, i, codes));
  const inRange = (i: number) => i === -1 || (i >= 0 && i < tensors.length);
  for (const op of operators)
    if (![...op.inputs, ...op.outputs].every(inRange))
      fb.malformed(`operator ${op.index} names a tensor that does not exist`);
  const inputs = sg.ints(SUBGRAPH.inputs) ?? [];
  const outputs = sg.ints(SUBGRAPH.outputs) ?? [];
  if (![...inputs, ...outputs].every((i) => i >= 0 && i < tensors.length))
    fb.malformed('a subgraph input or output names a tensor that does not exist');
  const external = buffers.filter((b) => !b.bytes(BUFFER.data)?.length && b.ulong(BUFFER.offset) > 1);
  return {
    subgraphs: subgraphs.length,
    externalBuffers: external.length,
    tensors,
    operators,
    inputs,
    outputs,
  };
}
