// The helpers every operator's Keras mapping borrows (KerasContext), bound to one file so that
// anything outside the supported set is reported naming the layer, its position and its type.
import { registeredOps } from '../../ops/registry.js';
import type { KerasContext, KerasLayer, OpModule } from '../../ops/types.js';
import type { Layer, Padding } from '../../graph/types.js';
import { unsupportedNode } from '../common.js';

/** Keras activation names some operator stands for. */
function activationNames(): string[] {
  return registeredOps().flatMap((op) => (op.keras?.activationName ? [op.keras.activationName] : []));
}

/** The Keras layer classes some operator module maps (plus InputLayer and Activation). */
export function supportedKerasLayers(): string {
  const names = registeredOps().flatMap((op) => op.keras?.classNames ?? []);
  return ['InputLayer', ...names, `Activation (${[...activationNames(), 'linear'].join('/')})`].join(', ');
}

/** The operator a Keras activation name stands for (relu, softmax, ...). */
function activationOp(name: string): OpModule | undefined {
  return registeredOps().find((op) => op.keras?.activationName === name);
}

/** A layer of the activation's operator. */
function activationLayer(name: string, layerName: string): Layer {
  return activationOp(name)!.arch.toLayer({}, { name: layerName, classes: 0 });
}

/** The name of an activation as Keras 2/3 and tfjs serialize it (a string, or an object for a function). */
export function activationName(a: unknown): string | undefined {
  if (a === null || a === undefined) return undefined;
  if (typeof a === 'string') return a;
  const o = a as { registered_name?: unknown; class_name?: unknown; config?: unknown };
  if (typeof o.config === 'string') return o.config;
  return String(o.registered_name ?? o.class_name ?? (o.config as { name?: unknown } | undefined)?.name);
}

/** Where a Keras layer sits in its file and what its inputs' Keras ranks are (batch included). */
export interface LayerSite {
  index(l: KerasLayer): number;
  inputRank(l: KerasLayer): number | undefined;
}

/** The KerasContext for one file. */
export function kerasContext(file: string, site: LayerSite): KerasContext {
  const unsupported = (l: KerasLayer, what: string): never =>
    unsupportedNode(
      file,
      { what: 'layer', name: l.name, index: site.index(l), type: l.className },
      what,
      `layers ${supportedKerasLayers()}`,
    );

  function padding(l: KerasLayer): Padding {
    const p = l.config.padding ?? 'valid';
    if (p !== 'same' && p !== 'valid') unsupported(l, `padding '${p}' (only same and valid)`);
    return p;
  }

  function checkChannelsLast(l: KerasLayer): void {
    const df = l.config.data_format;
    if (df !== undefined && df !== null && df !== 'channels_last') unsupported(l, `data_format '${df}'`);
  }

  /**
   * A layer's fused activation: linear and the operator's own fused ones stay fused; any other
   * activation with an operator (relu6, sigmoid, softmax, ...) follows as its own layer.
   */
  function activation(l: KerasLayer, allowed: readonly string[]): { activation: string; after: Layer[] } {
    const name = activationName(l.config.activation) ?? 'linear';
    if (name === 'linear') return { activation: 'linear', after: [] };
    if (!allowed.includes(name) && !activationOp(name))
      return unsupported(
        l,
        `activation '${name}' (${[...new Set([...allowed, ...activationNames()])].join(', ')})`,
      );
    if (allowed.includes(name) && activationOp(name)?.deploy?.rule === 'activation')
      return { activation: name, after: [] };
    return { activation: 'linear', after: [activationLayer(name, `${l.name}_${name}`)] };
  }

  const one = (v: unknown): number => (Array.isArray(v) ? Number(v[0]) : Number(v));
  return {
    unsupported,
    one,
    padding,
    checkChannelsLast,
    activation,
    inputRank: (l) => site.inputRank(l),
  };
}

/** The IR layers of a Keras `Activation` layer. */
export function activationLayers(l: KerasLayer, k: KerasContext): Layer[] {
  const a = activationName(l.config.activation) ?? 'linear';
  if (a === 'linear') return [];
  if (!activationOp(a))
    k.unsupported(l, `activation '${a}' (${[...activationNames(), 'linear'].join(', ')})`);
  return [activationLayer(a, l.name)];
}

/** The operator module that maps a Keras layer class. */
export function opForClass(className: string): OpModule | undefined {
  return registeredOps().find((o) => o.keras?.classNames.includes(className));
}
