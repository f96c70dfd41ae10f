// What the ONNX importer supports, and why the nodes it recognises as out of scope are refused
// before any operator module is asked (recurrent layers, control flow, custom domains).
import { registeredOps } from '../../ops/registry.js';
import { isDefaultDomain, type RawNode } from './proto.js';

/** Op types the importer itself handles: constants, shapes, and Transposes that only change the layout. */
export const BUILTIN_OP_TYPES = ['Constant', 'Shape', 'Transpose'];

/** Every ONNX op type some operator module (or the importer) maps, for the "supported" hint. */
export function supportedOpTypes(): string {
  const types = registeredOps().flatMap((op) => op.onnx?.opTypes ?? []);
  return `ONNX ${[...new Set([...types, ...BUILTIN_OP_TYPES])].join(', ')} (default domain, float32)`;
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const CONTROL_FLOW = new Set(['Loop', 'If', 'Scan']);

/** Why a node is out of scope whatever its attributes, or undefined. */
export function refusal(node: RawNode): string | undefined {
  if (!isDefaultDomain(node.domain)) return `an op of the custom domain '${node.domain}'`;
  if (RECURRENT.has(node.opType)) return 'a recurrent layer';
  if (CONTROL_FLOW.has(node.opType) || node.hasSubgraph) return 'control flow (a node with subgraphs)';
  return undefined;
}
