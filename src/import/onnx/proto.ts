// Reads an ONNX ModelProto with the maintained protobuf definition (onnx-proto) into plain
// structures: the default domain's opset, the nodes with attribute readers, the constants
// (initializers) and the graph's runtime inputs and outputs.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import type { OnnxAttributes, OnnxConstant, OnnxNode } from '../../ops/onnxTypes.js';
import { TinyforgeError } from '../../util/errors.js';
import { num, tensorValues } from './tensor.js';

const proto = onnxProto.onnx;

/** A node with what the importer checks before any operator sees it. */
export interface RawNode extends OnnxNode {
  domain: string;
  /** An attribute holds a graph (If, Loop, Scan: control flow). */
  hasSubgraph: boolean;
  /** A Constant node's value. */
  value(): OnnxConstant | undefined;
}

/** A graph input or output: name, element type and shape (undefined entries are dynamic). */
export interface GraphValue {
  name: string;
  elemType: number;
  /** Undefined when the file gives no shape. */
  dims: (number | undefined)[] | undefined;
}

export interface OnnxGraph {
  /** Opset of the default domain ('' or 'ai.onnx'). */
  opset: number;
  nodes: RawNode[];
  initializers: Map<string, OnnxConstant>;
  /** Graph inputs that are not initializers (older files list initializers as inputs too). */
  inputs: GraphValue[];
  outputs: GraphValue[];
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

/** True for the default ONNX domain. */
export function isDefaultDomain(domain: string): boolean {
  return DEFAULT_DOMAINS.has(domain);
}

type Attr = onnx.IAttributeProto;

function attributes(node: onnx.INodeProto, where: string): OnnxAttributes {
  const byName = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  const get = <T>(name: string, dflt: T | undefined, read: (a: Attr) => T | undefined): T => {
    const a = byName.get(name);
    const v = a ? read(a) : dflt;
    if (v === undefined)
      throw new TinyforgeError(
        `${where}: attribute '${name}' is ${a ? 'of another type' : 'missing'}`,
        'input',
        'the file is not a valid ONNX model',
      );
    return v;
  };
  const isType = (a: Attr, ...types: number[]) => types.includes(a.type ?? 0);
  return {
    has: (name) => byName.has(name),
    int: (name, dflt) => get(name, dflt, (a) => (isType(a, 2) ? num(a.i) : undefined)),
    ints: (name, dflt) =>
      get(name, dflt ? [...dflt] : undefined, (a) => (isType(a, 7) ? (a.ints ?? []).map(num) : undefined)),
    float: (name, dflt) =>
      get(name, dflt, (a) => (isType(a, 1) ? (a.f ?? 0) : isType(a, 2) ? num(a.i) : undefined)),
    string: (name, dflt) =>
      get(name, dflt, (a) =>
        isType(a, 3) ? Buffer.from(a.s ?? new Uint8Array()).toString('utf8') : undefined,
      ),
  };
}

/** A Constant node's value attribute (value, value_float(s), value_int(s)). */
function constantValue(node: onnx.INodeProto, where: string): OnnxConstant | undefined {
  for (const a of node.attribute ?? []) {
    if (a.name === 'value' && a.t) return tensorValues(a.t, `${where}: value`);
    if (a.name === 'value_float') return { dims: [], values: Float64Array.of(a.f ?? 0) };
    if (a.name === 'value_int') return { dims: [], values: Float64Array.of(num(a.i)) };
    if (a.name === 'value_floats')
      return { dims: [a.floats?.length ?? 0], values: Float64Array.from(a.floats ?? []) };
    if (a.name === 'value_ints')
      return { dims: [a.ints?.length ?? 0], values: Float64Array.from((a.ints ?? []).map(num)) };
  }
  return undefined;
}

function rawNode(file: string, node: onnx.INodeProto, index: number): RawNode {
  const opType = node.opType ?? '';
  const name = node.name || `${opType}_${index}`;
  const where = `${file}: node ${index} '${name}' (${opType})`;
  const attrs = attributes(node, where);
  return {
    opType,
    name,
    index,
    inputs: node.input ?? [],
    outputs: node.output ?? [],
    attrs,
    domain: node.domain ?? '',
    hasSubgraph: (node.attribute ?? []).some((a) => a.g || (a.graphs?.length ?? 0) > 0),
    value: () => constantValue(node, where),
  };
}

function graphValue(v: onnx.IValueInfoProto): GraphValue {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim?.map((d) => {
    const n = d.dimValue === null || d.dimValue === undefined ? 0 : num(d.dimValue);
    return n > 0 ? n : undefined;
  });
  return { name: v.name ?? '', elemType: t?.elemType ?? 0, dims: t?.shape ? (dims ?? []) : undefined };
}

function decode(file: string): onnx.ModelProto {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TinyforgeError(`cannot read ${file}: ${(e as Error).message}`, 'input');
  }
  try {
    return proto.ModelProto.decode(bytes);
  } catch (e) {
    throw new TinyforgeError(
      `${file} is not an ONNX model: ${(e as Error).message}`,
      'input',
      'the file may be truncated; export it again',
    );
  }
}

/** The model's graph, its opset and constants; TinyforgeError('input') for a file that is not ONNX. */
export function readOnnx(file: string): OnnxGraph {
  const model = decode(file);
  const g = model.graph;
  if (!g || (g.node?.length ?? 0) === 0 || (g.output?.length ?? 0) === 0)
    throw new TinyforgeError(
      `${file} is not an ONNX model: it has no graph`,
      'input',
      'export the model again',
    );
  const opsetEntry = (model.opsetImport ?? []).find((o) => isDefaultDomain(o.domain ?? ''));
  // IR version 3 files without an opset entry use opset 1.
  const opset = opsetEntry ? num(opsetEntry.version) : 1;
  const initializers = new Map<string, OnnxConstant>();
  for (const t of g.initializer ?? [])
    initializers.set(t.name ?? '', tensorValues(t, `${file}: initializer '${t.name}'`));
  return {
    opset,
    nodes: (g.node ?? []).map((n, i) => rawNode(file, n, i)),
    initializers,
    inputs: (g.input ?? []).map(graphValue).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(graphValue),
  };
}
