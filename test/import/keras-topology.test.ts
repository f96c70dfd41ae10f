// The Keras configuration conversion shared by .h5, .keras and tfjs model.json, on configurations
// in Keras 2 spelling (the MLPerf Tiny files' writer, which the fixture script cannot run) and on
// the structures the importer refuses: each refusal names the layer, its position and its type.
import { describe, expect, it } from 'vitest';
import { convertKerasTopology } from '../../src/import/keras/topology.js';
import { TinyforgeError } from '../../src/util/errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Keras JSON is loosely typed by nature. */
type Json = any;

const FILE = 'model.h5';

/** A Keras 2 functional layer entry reading the named layers. */
const k2 = (className: string, name: string, config: Json, reads: string[]): Json => ({
  class_name: className,
  config: { name, ...config },
  name,
  inbound_nodes: reads.length ? [reads.map((r) => [r, 0, 0, {}])] : [],
});

const functional = (layers: Json[], inputs = [[layers[0].name, 0, 0]]): Json => ({
  class_name: 'Functional',
  config: { name: 'm', layers, input_layers: inputs, output_layers: [[layers.at(-1).name, 0, 0]] },
});

const input = (shape: (number | null)[], name = 'input_1'): Json =>
  k2('InputLayer', name, { batch_input_shape: [null, ...shape], dtype: 'float32' }, []);

function refusal(model: Json): TinyforgeError {
  try {
    convertKerasTopology(model, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(TinyforgeError);
    return e as TinyforgeError;
  }
  throw new Error('the model was accepted');
}

describe('Keras 2 configurations', () => {
  it('a Sequential whose first layer declares the input shape (no InputLayer)', () => {
    const t = convertKerasTopology(
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            {
              class_name: 'Conv1D',
              config: {
                name: 'c',
                batch_input_shape: [null, 16, 3],
                filters: 4,
                kernel_size: [3],
                dtype: 'float32',
              },
            },
            { class_name: 'BatchNormalization', config: { name: 'bn', axis: [2] } },
            { class_name: 'GlobalAveragePooling1D', config: { name: 'g' } },
          ],
        },
      },
      FILE,
    );
    expect(t.graph.inputShape).toEqual([16, 3]);
    expect(t.graph.layers.map((l) => l.name)).toEqual(['c', 'bn', 'g']);
    expect(t.outputs).toBe(4);
  });

  it('BatchNormalization and Concatenate on the explicit last axis of vectors and images', () => {
    const vector = convertKerasTopology(
      functional([
        input([8]),
        k2('Dense', 'd', { units: 4 }, ['input_1']),
        k2('BatchNormalization', 'bn', { axis: [1] }, ['d']),
      ]),
      FILE,
    );
    expect(vector.graph.layers.map((l) => l.name)).toEqual(['d', 'bn']);
    const image = functional([
      input([6, 6, 2]),
      k2('Conv2D', 'a', { filters: 2, kernel_size: [1, 1] }, ['input_1']),
      k2('BatchNormalization', 'bn', { axis: [3] }, ['a']),
      k2('Concatenate', 'cat', { axis: 3 }, ['bn', 'input_1']),
    ]);
    expect(convertKerasTopology(image, FILE).graph.layers.at(-1)).toMatchObject({
      inputs: ['bn', 'input_reshape'],
    });
    image.config.layers[3].config.axis = 1;
    expect(refusal(image).message).toMatch(/layer 3 'cat' \(Concatenate\): axis 1/);
  });
});

describe('refused structures', () => {
  it('a nested model, naming it', () => {
    const inner = { class_name: 'Functional', config: { name: 'backbone', layers: [] }, name: 'backbone' };
    const m = functional([input([8]), { ...inner, inbound_nodes: [[['input_1', 0, 0, {}]]] }]);
    const err = refusal(m);
    expect(err.category).toBe('model');
    expect(err.message).toMatch(/layer 1 'backbone' \(Functional\): a nested model/);
  });

  it('two inputs, a shared layer, a subclassed model, no input shape', () => {
    const two = functional(
      [input([8], 'a'), input([8], 'b'), k2('Add', 'add', {}, ['a', 'b'])],
      [
        ['a', 0, 0],
        ['b', 0, 0],
      ],
    );
    expect(refusal(two).message).toMatch(/2 inputs; only one is supported/);
    const shared = functional([input([8]), k2('Dense', 'd', { units: 8 }, ['input_1'])]);
    shared.config.layers[1].inbound_nodes.push([['d', 0, 0, {}]]);
    expect(refusal(shared).message).toMatch(/layer 1 'd' \(Dense\): a layer applied more than once/);
    expect(refusal({ class_name: 'MyModel', config: { layers: [] } }).message).toMatch(
      /model class 'MyModel'/,
    );
    const noShape = {
      class_name: 'Sequential',
      config: { layers: [{ class_name: 'Dense', config: { name: 'd' } }] },
    };
    expect(refusal(noShape).message).toMatch(/does not declare its input shape/);
  });

  it('a layer whose input its operator cannot take is named as that Keras layer', () => {
    const m = functional([input([10, 4]), k2('Dense', 'per_step', { units: 3 }, ['input_1'])]);
    const err = refusal(m);
    expect(err.category).toBe('model');
    expect(err.message).toMatch(/layer 1 'per_step' \(Dense\): its input .*Dense on a sequence/);
  });

  it('an activation without an operator, and a quantized dtype policy', () => {
    const act = functional([input([8]), k2('Dense', 'd', { units: 3, activation: 'gelu' }, ['input_1'])]);
    expect(refusal(act).message).toMatch(/layer 1 'd' \(Dense\): activation 'gelu'/);
    const policy = { class_name: 'Policy', config: { name: 'int8' } };
    const q = functional([input([8]), k2('Dense', 'd', { units: 3, dtype: policy }, ['input_1'])]);
    expect(refusal(q).message).toMatch(/dtype policy 'int8'/);
  });
});
