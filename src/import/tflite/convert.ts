// TFLite operators to IR layers, one operator at a time in execution order: each operator's IR
// tensor inputs, shapes and constants go to the mapping of the operator module that claims it
// (src/ops, `tflite`), and every layer it returns is shape-checked at once so that a mismatch names
// the operator. Fused activations come back through the module of the builtin of the same name.
import { GRAPH_INPUT, type Layer, type LayerParams, type TensorInfo } from '../../graph/types.js';
import { opOf } from '../../ops/registry.js';
import type { TfliteConstant, TfliteOpContext, TfliteOptions, TfliteResult } from '../../ops/tfliteTypes.js';
import { unsupportedNode, type SourceNode } from '../common.js';
import { intValues } from './constants.js';
import type { TfModel, TfOperator } from './model.js';
import { Names } from './names.js';
import { activationInputs, claimants, Constants, supportedOperators } from './operators.js';
import { ACTIVATION_NAMES } from './schema.js';

/** Options of an operator without an options table: every field has its default. */
const NO_OPTIONS: TfliteOptions = {
  byte: (_f, d = 0) => d,
  int: (_f, d = 0) => d,
  float: (_f, d = 0) => d,
  bool: (_f, d = false) => d,
  ints: () => undefined,
};

/** The graph being built: layers, parameters, and the IR tensor of every TFLite tensor. */
export class GraphBuilder {
  readonly layers: Layer[] = [];
  readonly params: Record<string, LayerParams> = {};
  /** IR tensor (a layer name or GRAPH_INPUT) of each TFLite tensor index. */
  readonly irOf = new Map<number, string>();
  readonly info = new Map<string, TensorInfo>();
  /** Layers that only change the shape (the input reshape, RESHAPE, SQUEEZE, EXPAND_DIMS). */
  readonly layout = new Set<string>();
  /** The operator each layer came from (the int8 import reads its tensors' quantization). */
  readonly origin = new Map<string, TfOperator>();
  /** Each operator's IR name (its main layer's; layers before it are layout, after it activation). */
  readonly mainName = new Map<number, string>();
  /** The fused activation of each operator that has one, by the operator's IR name. */
  readonly fused = new Map<string, string>();

  constructor(
    readonly file: string,
    readonly m: TfModel,
    readonly constants: Constants,
    readonly names: Names,
    input: TensorInfo,
  ) {
    this.info.set(GRAPH_INPUT, input);
  }

  /** Appends a layer reading `inputs`; its shape is inferred now (`fail` names the culprit). */
  add(layer: Layer, inputs: readonly string[], fail: (why: string) => never): void {
    const placed = { ...layer, inputs: [...inputs] };
    const ins = inputs.map((n) => this.info.get(n)!);
    const r = opOf(layer.kind).infer(placed, ins, (why) =>
      fail(`input ${ins.map((t) => `[${t.shape.join(', ')}]`).join(' and ')} (${why})`),
    );
    this.layers.push(placed);
    this.info.set(layer.name, { shape: [...r.shape], flat: r.flat });
  }

  /** The node an operator's messages name: its index, output tensor and builtin name. */
  node(op: TfOperator): SourceNode {
    const out = this.m.tensors[op.outputs[0]];
    const type = op.opName === 'CUSTOM' && op.customCode ? `CUSTOM ${op.customCode}` : op.opName;
    return { what: 'operator', name: out?.name ?? `operator_${op.index}`, index: op.index, type };
  }

  unsupported(op: TfOperator, why: string): never {
    return unsupportedNode(this.file, this.node(op), why, supportedOperators());
  }

  /** Converts one operator; `name` is its IR name. */
  convert(op: TfOperator, name: string): void {
    const acts = activationInputs(this.m, this.constants, op);
    if (!acts.length) this.unsupported(op, 'an operator on constants only');
    const missing = acts.find((t) => !this.irOf.has(t));
    if (missing !== undefined)
      this.unsupported(op, `reading tensor '${this.m.tensors[missing].name}', which no operator computes`);
    const inputs = acts.map((t) => this.irOf.get(t)!);
    const ctx = this.context(op, name, inputs);
    const result = this.map(op, ctx);
    const fail = (why: string): never => this.unsupported(op, why);
    result.layers.forEach((l, k) => this.add(l, k === 0 ? inputs : [result.layers[k - 1].name], fail));
    result.layers.forEach((l) => this.origin.set(l.name, op));
    this.mainName.set(op.index, name);
    Object.assign(this.params, result.params ?? {});
    const out = result.layers.length ? result.layers[result.layers.length - 1].name : inputs[0];
    this.checkOutput(op, this.info.get(out)!);
    this.irOf.set(op.outputs[0], out);
  }

  /** The first claiming module's layers. */
  private map(op: TfOperator, ctx: TfliteOpContext): TfliteResult {
    for (const mod of claimants(op.opName)) {
      const r = mod.tflite!.fromTflite(ctx);
      if (r) return r;
    }
    const shapes = ctx.inShapes.map((s) => `[${s.join(', ')}]`).join(' and ');
    return this.unsupported(op, `${op.opName} on input ${shapes}`);
  }

  /** The IR output must be the operator's (a vector [F] is the IR's [1, F]). */
  private checkOutput(op: TfOperator, got: TensorInfo): void {
    const want = this.m.tensors[op.outputs[0]].shape.slice(1);
    const same = got.shape.length === want.length && got.shape.every((d, i) => d === want[i]);
    const vector =
      want.length === 1 && got.shape.length === 2 && got.shape[0] === 1 && got.shape[1] === want[0];
    if (!same && !vector)
      this.unsupported(
        op,
        `output shape [${want.join(', ')}] while its attributes give [${got.shape.join(', ')}]`,
      );
  }

  private context(op: TfOperator, name: string, inputs: string[]): TfliteOpContext {
    const fail = (why: string): never => this.unsupported(op, why);
    const tensorAt = (slot: number) => {
      const t = op.inputs[slot];
      return t === undefined || t < 0 ? undefined : t;
    };
    const ctx: TfliteOpContext = {
      opName: op.opName,
      name,
      inShapes: inputs.map((n) => [...this.info.get(n)!.shape]),
      inFlat: inputs.map((n) => this.info.get(n)!.flat),
      outShape: this.m.tensors[op.outputs[0]].shape.slice(1),
      options: op.options ?? NO_OPTIONS,
      has: (slot) => tensorAt(slot) !== undefined,
      constant: (slot) => this.constant(tensorAt(slot), fail),
      ints: (slot) => {
        const t = tensorAt(slot);
        const tensor = t === undefined ? undefined : this.m.tensors[t];
        return tensor?.data && (tensor.type === 'INT32' || tensor.type === 'INT64')
          ? intValues(tensor)
          : undefined;
      },
      activation: (field, fusable) => this.activation(ctx, field, fusable),
      auxName: (suffix) => this.names.claim(`${name}_${suffix}`, 'x'),
      unsupported: fail,
    };
    return ctx;
  }

  private constant(t: number | undefined, fail: (why: string) => never): TfliteConstant | undefined {
    if (t === undefined || !this.constants.has(t)) return undefined;
    const c = this.constants.float(t);
    return typeof c === 'string' ? fail(c) : c;
  }

  /** A fused activation: kept fused (ReLU into a layer that fuses it) or the layers after. */
  private activation(ctx: TfliteOpContext, field: number, fusable: boolean) {
    const code = ctx.options.byte(field, 0);
    const act = ACTIVATION_NAMES[code] ?? `activation ${code}`;
    this.fused.set(ctx.name, act);
    if (act === 'NONE') return { activation: 'linear' as const, after: [] };
    const mod = claimants(act)[0];
    if (!mod) return ctx.unsupported(`fused activation ${act}`);
    if (fusable && mod.deploy?.rule === 'activation') return { activation: mod.deploy.activation, after: [] };
    const r = mod.tflite!.fromTflite({ ...ctx, opName: act, name: ctx.auxName(act.toLowerCase()) });
    if (!r) return ctx.unsupported(`fused activation ${act}`);
    return { activation: 'linear' as const, after: r.layers };
  }
}
