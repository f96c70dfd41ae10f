// The IR layer list an ONNX graph becomes, built one layer at a time: unique layer names, shape
// inference as each layer is added (a failure is reported against the ONNX node), the parameter
// check, the Reshape and Flatten layers a reader needs (made once per tensor and shape), and the
// rollback when an operator module declines a node after asking for such a layer.
import {
  GRAPH_INPUT,
  sizeOf,
  type Layer,
  type LayerParams,
  type NodeInfo,
  type TensorInfo,
} from '../../graph/types.js';
import { opOf } from '../../ops/registry.js';
import { reshapeLayer } from '../../ops/reshape.js';
import { flattenLayer } from '../../ops/onnxFields.js';
import type { OpModule } from '../../ops/types.js';

/** How a layer's failure is reported: `why` is the operator's reason. */
export type Fail = (why: string) => never;

/** A point to roll back to. */
export interface Mark {
  layers: number;
  reserved: number;
}

/** A layer or tensor name as an IR layer name: letters, digits, - . _, starting with a letter or digit. */
function sanitize(name: string): string {
  return name.replace(/[^-A-Za-z0-9._]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'node';
}

/** The operator's declared parameters, of the declared sizes; the reason otherwise. */
function paramsProblem(op: OpModule, info: NodeInfo, params: LayerParams): string | undefined {
  const specs = op.params?.(info.layer, info) ?? [];
  const extra = Object.keys(params).find((key) => !specs.some((s) => s.key === key));
  if (extra) return `a ${op.title} has no parameter ${extra}`;
  for (const s of specs) {
    const got = params[s.key]?.length;
    if (got !== sizeOf(s.shape))
      return `its ${s.key} has ${got ?? 'no'} values, a ${op.title} on this input needs ${sizeOf(s.shape)}`;
  }
  return undefined;
}

export class IrBuilder {
  readonly layers: Layer[] = [];
  readonly params: Record<string, LayerParams> = {};
  private readonly infos = new Map<string, TensorInfo>();
  private readonly names = new Set<string>();
  /** Names in the order they were taken, so that a rollback gives them back. */
  private readonly reserved: string[] = [];
  /** Reshape and Flatten layers already made: "tensor->shape" to the layer's name. */
  private readonly cache = new Map<string, string>();

  /** Sets the graph input's shape (the IR's [T, C] window). */
  input(info: TensorInfo): void {
    this.infos.set(GRAPH_INPUT, info);
  }

  /** The shape of an IR tensor (a layer's output or the graph input). */
  info(tensor: string): TensorInfo {
    const info = this.infos.get(tensor);
    if (!info) throw new Error(`'${tensor}' is not an IR tensor yet`);
    return info;
  }

  /** The last layer's name (undefined before the first layer). */
  last(): string | undefined {
    return this.layers[this.layers.length - 1]?.name;
  }

  /** Takes `name` as it is (a layer the importer made, e.g. the input Reshape). */
  reserve(name: string): void {
    this.names.add(name);
    this.reserved.push(name);
  }

  /** A free layer name made from `base`. */
  uniqueName(base: string): string {
    const b = sanitize(base);
    let name = b;
    for (let k = 1; this.names.has(name); k++) name = `${b}_${k}`;
    this.reserve(name);
    return name;
  }

  /**
   * Adds a layer reading `layer.inputs` and infers its shape. `fail` reports the operator's reason
   * (shape inference); `malformed` a parameter that does not fit (the file's weights).
   */
  add(layer: Layer, params: LayerParams | undefined, fail: Fail, malformed: Fail = fail): void {
    const op = opOf(layer.kind);
    const ins = (layer.inputs ?? []).map((t) => this.info(t));
    const r = op.infer(layer, ins, fail);
    const info: NodeInfo = {
      layer,
      inputs: [],
      inShapes: ins.map((i) => i.shape),
      inShape: ins[0].shape,
      outShape: r.shape,
      flat: r.flat,
      params: r.params ?? 0,
      macs: r.macs ?? 0,
    };
    const problem = params && paramsProblem(op, info, params);
    if (problem) malformed(problem);
    this.infos.set(layer.name, { shape: r.shape, flat: r.flat });
    this.layers.push(layer);
    if (params) this.params[layer.name] = params;
  }

  /** `tensor` with shape `shape`: itself, or a Reshape layer of it. */
  shaped(tensor: string, shape: number[], fail: Fail): string {
    const info = this.info(tensor);
    if (!info.flat && info.shape.join() === shape.join()) return tensor;
    return this.cached(`${tensor}->${shape.join('x')}`, () => {
      const name = this.uniqueName(`${tensor === GRAPH_INPUT ? 'input' : tensor}_reshape`);
      this.add({ ...reshapeLayer(name, shape), inputs: [tensor] }, undefined, fail);
      return name;
    });
  }

  /** `tensor` as a feature vector: itself, or a Flatten layer of it. */
  flattened(tensor: string, fail: Fail): string {
    if (this.info(tensor).flat) return tensor;
    return this.cached(`${tensor}->flat`, () => {
      const name = this.uniqueName(`${tensor === GRAPH_INPUT ? 'input' : tensor}_flatten`);
      this.add(flattenLayer(name, tensor), undefined, fail);
      return name;
    });
  }

  private cached(key: string, make: () => string): string {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const name = make();
    this.cache.set(key, name);
    return name;
  }

  mark(): Mark {
    return { layers: this.layers.length, reserved: this.reserved.length };
  }

  /** Removes the layers and names taken since `mark`. */
  rollback(mark: Mark): void {
    for (const l of this.layers.splice(mark.layers)) {
      this.infos.delete(l.name);
      delete this.params[l.name];
    }
    for (const n of this.reserved.splice(mark.reserved)) this.names.delete(n);
    for (const [k, v] of this.cache) if (!this.infos.has(v)) this.cache.delete(k);
  }

  /** The layers, without input lists where a layer reads the one before it (or the graph input first). */
  graphLayers(): Layer[] {
    return this.layers.map((l, i) => {
      const prev = i === 0 ? GRAPH_INPUT : this.layers[i - 1].name;
      if (l.inputs?.length !== 1 || l.inputs[0] !== prev) return l;
      const { inputs: _read, ...rest } = l;
      return rest as Layer;
    });
  }
}
