// TensorFlow Lite import. Expected outputs come from the TFLite interpreter (reference kernels) run
// by test/fixtures/import/make_fixtures.py on every fixture (cases_keras.py: one per Keras layer,
// converted; cases_tflite.py: the importer's own: int8/float16 weights, int8 models, buffers after
// the flatbuffer, dilations, and the unsupported files). Parity: every output value within 1e-5 of
// the expected output's largest magnitude.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTflite } from '../../src/import/tflite/index.js';
import { kerasLayerName } from '../../src/import/tflite/names.js';
import { readModel } from '../../src/import/tflite/model.js';
import { importKerasH5 } from '../../src/import/keras/index.js';
import { graphDifference } from '../../src/import/sameGraph.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { inferShapes } from '../../src/graph/ir.js';
import type { FloatModel } from '../../src/graph/types.js';
import { haveMlperf, MLPERF_DIR, mlperfFile, runMlperf } from '../helpers/mlperf.js';
import { rejection } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';
import { worstRelativeError } from '../helpers/parity.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'import');
const tflite = (name: string) => join(FIX, 'tflite', `${name}.tflite`);

interface Expected {
  inputShape: number[];
  formats: string[];
  error: boolean;
  inputs?: number[][];
  tflite?: number[][];
}

const expected = (name: string): Expected =>
  JSON.parse(readFileSync(join(FIX, 'expected', `${name}.json`), 'utf8')) as Expected;

const CASES = readdirSync(join(FIX, 'expected'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .filter((n) => expected(n).formats.includes('tflite'))
  .sort();

/**
 * Files whose interpreter outputs are no float reference: TFLite's hybrid kernels quantize every
 * activation to int8 on the fly, int8 models compute in int8. They are checked against their exact
 * float reference below, and here only within the interpreter's quantization.
 */
const QUANTIZED: Record<string, number> = { hybrid_int8: 2e-2, int8_full: 5e-2 };

describe('TFLite import: float outputs equal the interpreter on every fixture', () => {
  const supported = CASES.filter((n) => !expected(n).error);
  it('there are fixtures', () => expect(supported.length).toBeGreaterThan(40));
  for (const name of supported)
    it(name, async () => {
      const e = expected(name);
      const { model } = await importTflite(tflite(name));
      expect(worstRelativeError(model, e.inputs!, e.tflite!)).toBeLessThan(QUANTIZED[name] ?? 1e-5);
    });
});

describe('weights stored as int8 or float16, and int8 models', () => {
  it('hybrid int8 weights are dequantized per channel: the float model of those weights', async () => {
    // hybrid_int8_dequantized is the same Keras model with the int8 weights dequantized in numpy.
    const ref = expected('hybrid_int8_dequantized');
    const { model } = await importTflite(tflite('hybrid_int8'));
    expect(worstRelativeError(model, ref.inputs!, ref.tflite!)).toBeLessThan(1e-5);
    const conv = model.params[model.graph.layers[0].name].kernel!;
    expect(conv.length).toBe(5 * 8 * 32);
  });

  it('float16 weights (DEQUANTIZE of a constant) become float parameters, no layer', async () => {
    const { model } = await importTflite(tflite('float16_weights'));
    expect(model.graph.layers.map((l) => l.kind)).toEqual(['conv1d', 'flatten', 'dense']);
  });

  it('a fully int8 model imports dequantized, without its QUANTIZE/DEQUANTIZE wrappers', async () => {
    const { model } = await importTflite(tflite('int8_full'));
    expect(model.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'maxpool1d',
      'flatten',
      'dense',
      'softmax',
    ]);
    // Same class as the interpreter on every input.
    const e = expected('int8_full');
    e.inputs!.forEach((x, k) => {
      const got = Array.from(floatForward(model, Float32Array.from(x)).outputs.at(-1)!);
      const want = e.tflite![k];
      expect(got.indexOf(Math.max(...got))).toBe(want.indexOf(Math.max(...want)));
    });
  });

  it('buffers stored after the flatbuffer (Buffer.offset/size) are read', async () => {
    // The parity test above checks the values; here, that the file keeps them outside the tables.
    const m = readModel(readFileSync(tflite('buffer_offset')), 'buffer_offset.tflite');
    expect(m.externalBuffers).toBeGreaterThanOrEqual(4);
    const { model } = await importTflite(tflite('buffer_offset'));
    expect(Object.values(model.params).map((p) => [p.kernel!.length, p.bias!.length])).toEqual([
      [3 * 3 * 6, 6],
      [6 * 4, 4],
    ]);
  });
});

describe('Keras 1D layers come back as 1D layers', () => {
  it('har_conv1d from .tflite is the graph from .h5, with the same parameters', async () => {
    const h5 = await importKerasH5(join(FIX, 'keras', 'har_conv1d.h5'), {});
    const lite = await importTflite(tflite('har_conv1d'));
    expect(graphDifference(h5.model.graph, lite.model.graph)).toBeUndefined();
    expect(lite.model.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'maxpool1d',
      'conv1d',
      'maxpool1d',
      'conv1d',
      'gap1d',
      'dense',
      'softmax',
    ]);
    // Layer by layer (Dropout aside) the same kernels and biases.
    const withParams = (m: FloatModel) => m.graph.layers.filter((l) => m.params[l.name]?.kernel);
    const [a, b] = [withParams(h5.model), withParams(lite.model)];
    expect(a.length).toBe(b.length);
    a.forEach((l, i) => {
      const [p, q] = [h5.model.params[l.name], lite.model.params[b[i].name]];
      expect(Array.from(q.kernel!)).toEqual(Array.from(p.kernel!));
      expect(Array.from(q.bias!)).toEqual(Array.from(p.bias!));
    });
  });

  // Cases whose .tflite is the .h5's network (a causal Conv1D is PAD + VALID in the file, a
  // three-input Add two ADDs); the others differ as TFLite writes them: BatchNorm folded away, a ReLU
  // layer fused into the Conv1D, SeparableConv as its depthwise and pointwise halves.
  const SAME = [
    'activation_hard_swish', 'activation_relu6', 'activation_sigmoid', 'activation_softmax', 'activation_tanh',
    'add', 'avgpool1d', 'avgpool2d', 'concat', 'conv1d', 'conv1d_dilated_causal', 'conv2d', 'dense', 'depthwise1d', 'depthwise2d', 'flatten',
    'gap1d', 'gap2d', 'gmp1d', 'gmp2d', 'leakyrelu', 'maxpool1d', 'maxpool2d', 'rank3_cnn', 'relu6', 'reshape',
    'residual_add', 'softmax', 'zeropad1d', 'zeropad2d',
  ]; // prettier-ignore
  for (const name of SAME)
    it(`${name}: the same graph as from .h5`, async () => {
      const h5 = await importKerasH5(join(FIX, 'keras', `${name}.h5`), {});
      const lite = await importTflite(tflite(name));
      expect(graphDifference(h5.model.graph, lite.model.graph)).toBeUndefined();
    });

  it('BatchNorm, a ReLU layer, SeparableConv: the same deployable graph as from .h5', async () => {
    const names = [
      'batchnorm',
      'conv_bn_relu',
      'rank1_dense',
      'relu',
      'activation_relu',
      'separable1d',
      'separable2d',
    ];
    for (const name of names) {
      const h5 = await importKerasH5(join(FIX, 'keras', `${name}.h5`), {});
      const lite = await importTflite(tflite(name));
      expect(
        graphDifference(deployableGraph(h5.model).graph, deployableGraph(lite.model).graph),
        name,
      ).toBeUndefined();
    }
  });

  it('dilated 1D and 2D convolutions (SPACE_TO_BATCH_ND ... BATCH_TO_SPACE_ND) are one dilated layer', async () => {
    const { model } = await importTflite(tflite('depthwise_dilated'));
    const layers = model.graph.layers as unknown as { kind: string; dilation: number | number[] }[];
    expect(layers.map((l) => [l.kind, l.dilation])).toEqual([
      ['reshape', undefined],
      ['depthwise2d', [2, 2]],
      ['depthwise2d', [2, 1]],
      ['reshape', undefined],
      ['depthwise1d', 3],
    ]);
  });

  it('a dilation padded unlike VALID and SAME: zero padding, then the VALID dilated layer', async () => {
    // SPACE_TO_BATCH_ND pads [1, 3] around 20 steps: the convolution of the input padded by 1 and 3.
    const { model } = await importTflite(tflite('dilation_explicit_pad'));
    const [pad, conv] = model.graph.layers as unknown as Record<string, unknown>[];
    expect([pad.kind, pad.padding]).toEqual(['zeropad1d', [1, 3]]);
    expect([conv.kind, conv.padding, conv.dilation]).toEqual(['conv1d', 'valid', 2]);
  });
});

describe('layer names', () => {
  it('come from the Keras layer inside the tensor name', () => {
    expect(kerasLayerName('sequential/conv1d_1/BiasAdd')).toBe('conv1d_1');
    expect(kerasLayerName('model/act/Relu;model/conv2d/BiasAdd;model/conv2d/Conv2D1')).toBe('conv2d');
    expect(kerasLayerName('dense/MatMul')).toBe('dense');
    expect(kerasLayerName('Identity')).toBeUndefined();
    expect(kerasLayerName('StatefulPartitionedCall:0')).toBeUndefined();
  });

  it('are unique and follow the name rule; an operator without one is <op>_<index>', async () => {
    for (const name of ['residual_add', 'conv1d_dilated_causal', 'depthwise_dilated', 'har_conv1d']) {
      const names = (await importTflite(tflite(name))).model.graph.layers.map((l) => l.name);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[A-Za-z0-9][-A-Za-z0-9._]*$/);
    }
    // The converter names the output tensor 'StatefulPartitionedCall_1:0': the SOFTMAX is operator 9.
    const har = (await importTflite(tflite('har_conv1d'))).model.graph.layers.map((l) => l.name);
    expect(har.at(-1)).toMatch(/^softmax_\d+$/);
    expect(har[0]).toMatch(/^conv1d/);
  });
});

describe('unsupported files stop naming the operator, its position and its builtin', () => {
  // [fixture, operator index (from the file, as tf.lite's Analyzer lists it), builtin, why]
  const OPS: [string, number, string, RegExp][] = [
    ['lstm', 1, 'WHILE', /operator WHILE/],
    ['if_cond', 2, 'IF', /operator IF/],
    ['gru', 1, 'CUSTOM FlexTensorListReserve', /Flex \(TensorFlow\) operator FlexTensorListReserve/],
    ['custom_op', 0, 'CUSTOM BesselI0e', /custom operator 'BesselI0e'/],
    ['recurrent_op', 0, 'UNIDIRECTIONAL_SEQUENCE_LSTM', /operator UNIDIRECTIONAL_SEQUENCE_LSTM/],
    ['relu_n1_to_1', 0, 'RELU_N1_TO_1', /operator RELU_N1_TO_1/],
    ['elu', 3, 'ELU', /operator ELU/],
    ['fused_relu_n1_to_1', 0, 'CONV_2D', /fused activation RELU_N1_TO_1/],
    ['softmax_beta', 1, 'SOFTMAX', /beta 2 \(only 1\)/],
    ['depthwise_strided_dilated', 0, 'DEPTHWISE_CONV_2D', /dilation \[2, 2\] with strides \[2, 2\]/],
    ['dilation_crop', 2, 'CONV_2D', /dilation \[2\] with paddings \[0, 0\] and crops \[1, 0\]/],
    ['padv2_value', 0, 'PADV2', /padding with a value other than 0/],
  ];
  for (const [name, index, type, why] of OPS)
    it(name, async () => {
      expect(expected(name).error).toBe(true);
      const err = await rejection(importTflite(tflite(name)));
      expect(err.category).toBe('model');
      expect(err.exitCode).toBe(4);
      const head = new RegExp(`: operator ${index} '[^']+' \\(${type}\\): `);
      expect(err.message).toMatch(head);
      expect(err.message).toMatch(why);
      expect(err.message).toMatch(/is not supported$/);
      expect(err.hint).toMatch(/supported: .*CONV_2D.*FULLY_CONNECTED/);
    });

  it('two_subgraphs: a model of several subgraphs', async () => {
    const err = await rejection(importTflite(tflite('two_subgraphs')));
    expect(err.category).toBe('model');
    expect(err.message).toMatch(/the model has 2 subgraphs/);
  });

  it('dynamic_time: a dynamic dimension other than the batch', async () => {
    const err = await rejection(importTflite(tflite('dynamic_time')));
    expect(err.category).toBe('model');
    expect(err.message).toMatch(/a dynamic shape \[-1, -1, 9\] \(only the batch may be dynamic\)/);
  });

  it('every error fixture is tested here', () => {
    const tested = new Set([...OPS.map((o) => o[0]), 'two_subgraphs', 'dynamic_time']);
    expect(CASES.filter((n) => expected(n).error && !tested.has(n))).toEqual([]);
  });
});

describe('malformed files are input errors', () => {
  const dir = tempDir('tf-tflite-');
  const write = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const good = readFileSync(tflite('har_conv1d'));

  it('a truncated file', async () => {
    for (const n of [0, 7, 100, Math.floor(good.length / 2), good.length - 200]) {
      const err = await rejection(importTflite(write(`cut${n}.tflite`, good.subarray(0, n))));
      expect(err.category, `cut at ${n}`).toBe('input');
      expect(err.message).toMatch(/not a valid TensorFlow Lite file/);
    }
  });

  it('another format, or another file identifier', async () => {
    const h5 = readFileSync(join(FIX, 'keras', 'har_conv1d.h5'));
    expect((await rejection(importTflite(write('h5.tflite', h5)))).category).toBe('input');
    const other = Uint8Array.from(good);
    other.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    const err = await rejection(importTflite(write('tfl2.tflite', other)));
    expect(err.category).toBe('input');
    expect(err.message).toMatch(/file identifier 'TFL2', expected 'TFL3'/);
  });

  it('a missing file', async () => {
    expect((await rejection(importTflite(join(dir, 'none.tflite')))).category).toBe('input');
  });
});

describe.runIf(runMlperf)('the MLPerf Tiny float .tflite files import', () => {
  it('the models are there', () => {
    expect(haveMlperf, `MLPerf Tiny models not found at ${MLPERF_DIR} (set MLPERF_TINY_DIR)`).toBe(true);
  });

  const FILES: [string, number, boolean][] = [
    ['kws/kws_ref_model_float32.tflite', 12, true],
    ['ic/pretrainedResnet.tflite', 10, true],
    ['vww/vww_96_float.tflite', 2, true],
    ['ad/ad01_fp32.tflite', 640, false],
  ];
  for (const [file, outputs, classifier] of FILES)
    it(`${file}: outputs of the right size, finite, probabilities for a classifier`, async () => {
      const { model } = await importTflite(mlperfFile(file));
      const size = model.graph.inputShape[0] * model.graph.inputShape[1];
      const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37));
      const y = floatForward(model, x).outputs.at(-1)!;
      expect(y.length).toBe(outputs);
      expect(y.every(Number.isFinite)).toBe(true);
      if (classifier) expect(y.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(inferShapes(model.graph).at(-1)!.outShape).toEqual([1, outputs]);
    });

  it('kws (hybrid): its int8 convolution weights come back on the int8 grid of their scale', async () => {
    const { model } = await importTflite(mlperfFile('kws/kws_ref_model_float32.tflite'));
    const first = model.graph.layers.find((l) => l.kind === 'conv2d')!;
    const w = Array.from(model.params[first.name].kernel!); // [10, 4, 1, 64], one scale for the tensor
    // The largest magnitude is q_max * scale with q_max <= 127: some q_max puts every value on the grid.
    const top = Math.max(...w.map(Math.abs));
    const onGrid = (q: number) => w.every((v) => Math.abs((v * q) / top - Math.round((v * q) / top)) < 1e-3);
    expect(Array.from({ length: 28 }, (_, i) => 100 + i).some(onGrid)).toBe(true);
    expect(new Set(w).size).toBeGreaterThan(100);
  });
});
