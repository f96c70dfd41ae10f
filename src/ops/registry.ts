// The operator registry: one module per layer kind (docs/architecture.md, "adding an operator").
// Every stage asks the registry for the module of a layer's kind; none tests a kind itself.
import { TinyforgeError } from '../util/errors.js';
import type { QLayer, Scheme } from '../qmodel/model.js';
import type { CodegenOps, OpModule, QuantizedOps } from './types.js';
import { avgpool1d } from './avgpool1d.js';
import { batchnorm } from './batchnorm.js';
import { conv1d } from './conv1d.js';
import { conv2d } from './conv2d.js';
import { dense } from './dense.js';
import { depthwise1d } from './depthwise1d.js';
import { depthwise2d } from './depthwise2d.js';
import { separable1d } from './separable1d.js';
import { separable2d } from './separable2d.js';
import { dropout } from './dropout.js';
import { flatten } from './flatten.js';
import { gap1d } from './gap1d.js';
import { gmp1d } from './gmp1d.js';
import { maxpool1d } from './maxpool1d.js';
import { maxpool2d } from './maxpool2d.js';
import { avgpool2d } from './avgpool2d.js';
import { gap2d } from './gap2d.js';
import { gmp2d } from './gmp2d.js';
import { zeropad1d } from './zeropad1d.js';
import { zeropad2d } from './zeropad2d.js';
import { reshape } from './reshape.js';
import { relu } from './relu.js';
import { add } from './add.js';
import { concat } from './concat.js';
import { clippedrelu } from './clippedrelu.js';
import { leakyrelu } from './leakyrelu.js';
import { sigmoid } from './sigmoid.js';
import { tanh } from './tanh.js';
import { hardswish } from './hardswish.js';
import { softmax } from './softmax.js';

// Modules are typed by their own layer types; the registry hands them out for any layer.
const OPS: readonly OpModule[] = [
  conv1d,
  conv2d,
  dense,
  depthwise1d,
  depthwise2d,
  separable1d,
  separable2d,
  maxpool1d,
  avgpool1d,
  gap1d,
  gmp1d,
  maxpool2d,
  avgpool2d,
  gap2d,
  gmp2d,
  zeropad1d,
  zeropad2d,
  reshape,
  flatten,
  relu,
  add,
  concat,
  clippedrelu,
  leakyrelu,
  sigmoid,
  tanh,
  hardswish,
  softmax,
  batchnorm,
  dropout,
] as unknown as OpModule[];

const byKind = new Map(OPS.map((op) => [op.kind, op]));

/** Every registered operator, in the order of docs/architecture.md's table. */
export function registeredOps(): readonly OpModule[] {
  return OPS;
}

export function isKnownKind(kind: string): boolean {
  return byKind.has(kind);
}

/** The module of a layer kind; TinyforgeError('model') for a kind no module implements. */
export function opOf(kind: string): OpModule {
  const op = byKind.get(kind);
  if (!op)
    throw new TinyforgeError(
      `layer kind '${kind}' is not supported`,
      'model',
      `supported kinds: ${OPS.map((o) => o.kind).join(', ')}`,
    );
  return op;
}

/** The quantized-layer operations of a kind under a scheme (a model that reached them was validated). */
export function quantizedOps(kind: string, scheme: Scheme = 'pow2'): QuantizedOps<QLayer> {
  const op = opOf(kind);
  const q = scheme === 'pow2' ? op.quantized : op.int8?.quantized;
  if (!q)
    throw new TinyforgeError(
      scheme === 'pow2'
        ? `layer kind '${kind}' has no quantized form`
        : `${op.title} has no TFLite int8 kernel in tinyforge`,
      'model',
      scheme === 'pow2'
        ? 'compress the model first'
        : `int8 kinds: ${int8Kinds().join(', ')}; or import with --requantize`,
    );
  return q;
}

/** Kinds with a TFLite int8 form. */
export function int8Kinds(): string[] {
  return OPS.filter((o) => o.int8).map((o) => o.kind);
}

/** The C generation of a kind under a scheme. */
export function codegenOps(kind: string, scheme: Scheme = 'pow2'): CodegenOps<QLayer> {
  const op = opOf(kind);
  const c = scheme === 'pow2' ? op.codegen : op.int8?.codegen;
  if (!c) throw new TinyforgeError(`layer kind '${kind}' cannot be compiled to C (${scheme})`, 'model');
  return c;
}
