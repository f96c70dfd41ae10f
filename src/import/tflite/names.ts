// IR layer names for TFLite operators. The converter names an operator's output tensor after the
// TensorFlow ops fused into it, e.g. 'sequential/conv1d_1/Relu;sequential/conv1d_1/BiasAdd': the
// second path element of the last ';'-separated part is the Keras layer. Names follow the IR rule
// (letters, digits, - . _, starting with a letter or digit) and are unique; without a Keras name an
// operator is '<op>_<index>' ('softmax_12').
import { GRAPH_INPUT } from '../../graph/types.js';
import { INPUT_RESHAPE } from '../common.js';

const NAME_RULE = /^[A-Za-z0-9][-A-Za-z0-9._]*$/;

/** The Keras layer name inside a TFLite tensor name, when the converter kept one. */
export function kerasLayerName(tensorName: string): string | undefined {
  const parts = tensorName.split(';');
  const path = [...parts].reverse().find((p) => p.includes('/'));
  if (!path) return undefined;
  const steps = path.replace(/:\d+$/, '').split('/');
  const name = (steps.length >= 3 ? steps[1] : steps[0]).replace(/[^-A-Za-z0-9._]/g, '_');
  return NAME_RULE.test(name) ? name : undefined;
}

/** Hands out unique layer names. */
export class Names {
  private readonly taken = new Set<string>([GRAPH_INPUT, INPUT_RESHAPE]);

  /** `wanted` if free, else `wanted_<suffix>`, else numbered. */
  claim(wanted: string, suffix: string): string {
    const base = NAME_RULE.test(wanted) ? wanted : `layer_${wanted.replace(/[^-A-Za-z0-9._]/g, '_')}`;
    const tries = [base, `${base}_${suffix}`];
    let name = tries.find((n) => !this.taken.has(n));
    for (let k = 2; !name; k++)
      if (!this.taken.has(`${base}_${suffix}_${k}`)) name = `${base}_${suffix}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** The name of an operator: its Keras layer's, or '<op>_<index>'. */
  forOperator(tensorName: string, opName: string, index: number): string {
    const op = opName.toLowerCase();
    return this.claim(kerasLayerName(tensorName) ?? `${op}_${index}`, op);
  }
}
