// Which TFLite operators the importer converts, and which it must: the operator modules that map a
// builtin name, the operators that only carry data (QUANTIZE/DEQUANTIZE wrappers, layout ops), the
// constants (with the outputs of DEQUANTIZE of a constant), and the operators the model's output
// depends on (shape computations such as SHAPE -> STRIDED_SLICE -> PACK feeding a RESHAPE are not).
import { registeredOps } from '../../ops/registry.js';
import type { OpModule } from '../../ops/types.js';
import type { TfliteConstant } from '../../ops/tfliteTypes.js';
import { constantProblem, floatValues } from './constants.js';
import type { TfModel, TfOperator } from './model.js';
import { INDEX_TYPES } from './schema.js';

/** Operators that pass their activation through in a float model (int8 models' I/O wrappers). */
export const PASS_THROUGH: ReadonlySet<string> = new Set(['QUANTIZE', 'DEQUANTIZE']);
/** Operators that only change the shape: named after the others, removed when they change nothing. */
export const LAYOUT_OPS: ReadonlySet<string> = new Set(['RESHAPE', 'SQUEEZE', 'EXPAND_DIMS']);

/** The operator modules that may map a builtin operator, in registry order. */
export function claimants(opName: string): OpModule[] {
  return registeredOps().filter((op) => op.tflite?.opNames.includes(opName));
}

/** Every builtin operator some module maps, plus the pass-through ones, for hints. */
export function supportedOperators(): string {
  const names = registeredOps().flatMap((op) => op.tflite?.opNames ?? []);
  return [...new Set([...names, ...PASS_THROUGH])].sort().join(', ');
}

/** Constants of the model: tensors with data, and the outputs of DEQUANTIZE of a constant. */
export class Constants {
  private readonly floats = new Map<number, TfliteConstant>();

  constructor(private readonly m: TfModel) {
    for (const op of m.operators) {
      const src = op.inputs[0];
      if (op.opName === 'DEQUANTIZE' && src >= 0 && this.has(src) && !constantProblem(m.tensors[src]))
        this.floats.set(op.outputs[0], {
          shape: [...m.tensors[src].shape],
          data: floatValues(m.tensors[src]),
        });
    }
  }

  has(t: number): boolean {
    return this.floats.has(t) || this.m.tensors[t].data !== undefined;
  }

  /** Float values (dequantized); a string says why they cannot be read. */
  float(t: number): TfliteConstant | string {
    const known = this.floats.get(t);
    if (known) return known;
    const tensor = this.m.tensors[t];
    const problem = constantProblem(tensor);
    if (problem) return problem;
    const c = { shape: [...tensor.shape], data: floatValues(tensor) };
    this.floats.set(t, c);
    return c;
  }
}

/** The activation inputs of an operator: present, not constant, not index or shape tensors. */
export function activationInputs(m: TfModel, c: Constants, op: TfOperator): number[] {
  return op.inputs.filter((t) => t >= 0 && !c.has(t) && !INDEX_TYPES.has(m.tensors[t].type));
}

/** The operators the output depends on through activations, in execution order. */
export function liveOperators(m: TfModel, c: Constants): TfOperator[] {
  const producer = new Map<number, TfOperator>();
  for (const op of m.operators) for (const t of op.outputs) producer.set(t, op);
  const live = new Set<number>();
  const stack = [...m.outputs];
  while (stack.length) {
    const op = producer.get(stack.pop()!);
    if (!op || live.has(op.index) || op.outputs.some((t) => c.has(t))) continue;
    live.add(op.index);
    stack.push(...activationInputs(m, c, op));
  }
  return m.operators.filter((op) => live.has(op.index));
}
