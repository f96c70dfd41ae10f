// ONNX import: every fixture (test/fixtures/import/make_onnx_fixtures.py) runs in onnxruntime-node
// on seeded random inputs, and the imported model's float forward on the channels-last transpose of
// the same inputs must give the same outputs (within 1e-5 of the output range, every value).
// Unsupported files must stop with a 'model' error naming the node's index, name and op type.
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { floatForward } from '../../src/compress/floatForward.js';
import { Rng } from '../../src/data/prng.js';
import { inferShapes } from '../../src/graph/ir.js';
import type { Layer } from '../../src/graph/types.js';
import type { ImportedModel } from '../../src/import/common.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import { rejection } from '../helpers/errors.js';
import { MLPERF_DIR } from '../helpers/mlperf.js';
import { tempDir } from '../helpers/temp.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import', 'onnx');

interface Manifest {
  supported: { file: string; input: number[]; note: string }[];
  unsupported: {
    file: string;
    node: { index: number; name: string; type: string };
    words: string[];
    note: string;
  }[];
  malformed: { file: string; node: { index: number; name: string; type: string }; note: string }[];
}
const manifest = JSON.parse(readFileSync(join(DIR, 'fixtures.json'), 'utf8')) as Manifest;

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** An ONNX tensor [C, S...] (no batch) as channels last [S..., C]. */
function channelsLast(x: Float32Array, dims: readonly number[]): Float32Array {
  const C = dims[0];
  const S = size(dims) / C;
  const out = new Float32Array(x.length);
  for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[s * C + c] = x[c * S + s];
  return out;
}

async function runOnnxruntime(file: string, x: Float32Array, shape: number[]) {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const t = out[session.outputNames[0]];
  return { data: Float32Array.from(t.data as Float32Array), dims: t.dims.slice(1).map(Number) };
}

/** onnxruntime and the imported model's float forward agree on `n` seeded random inputs. */
async function expectParity(file: string, inputShape: number[], imported: ImportedModel, n = 3) {
  const infos = inferShapes(imported.model.graph);
  const outShape = infos[infos.length - 1].outShape;
  const rng = Rng.derive(15, file);
  for (let k = 0; k < n; k++) {
    const x = Float32Array.from({ length: size(inputShape) }, () => rng.uniform(-2, 2));
    const ref = await runOnnxruntime(file, x, inputShape);
    const first = imported.source.inputLayout === 'channels-first';
    const y = floatForward(imported.model, first ? channelsLast(x, inputShape.slice(1)) : x, infos).outputs;
    const got = y[y.length - 1];
    // A channels-first output [C, S...] comes back channels last, [S..., C].
    const d = ref.dims;
    const expected = first && d.length >= 2 ? channelsLast(ref.data, d) : ref.data;
    // ([C, 1, 1] of a global pooling with keepdims stays the feature vector [1, C].)
    if (first && size(d.slice(1)) > 1) expect(outShape, file).toEqual([...d.slice(1), d[0]]);
    expect(got.length, file).toBe(expected.length);
    const range = Math.max(...expected.map(Math.abs), 1e-6);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - expected[i])));
    expect(
      worst / range,
      `${file}: input ${k}, worst difference ${worst} of range ${range}`,
    ).toBeLessThanOrEqual(1e-5);
  }
}

const kinds = (layers: readonly Layer[]) => layers.map((l) => l.kind);
const layer = (m: ImportedModel, kind: string) =>
  m.model.graph.layers.find((l) => l.kind === kind) as (Layer & Record<string, unknown>) | undefined;

describe('ONNX import: float parity with onnxruntime', () => {
  for (const f of manifest.supported)
    it(`${f.file}: ${f.note}`, async () => {
      const file = join(DIR, f.file);
      await expectParity(file, f.input, await importOnnx(file));
    });
});

describe('ONNX import: the graphs it makes', () => {
  const load = (name: string) => importOnnx(join(DIR, `${name}.onnx`));

  it('reads an NCL HAR model channels last: input [128, 9], the ONNX input transposed', async () => {
    const m = await load('har1d_cnn');
    expect(m.source).toMatchObject({ format: 'onnx', inputShape: [9, 128], inputLayout: 'channels-first' });
    expect(m.model.graph.inputShape).toEqual([128, 9]);
    expect(kinds(m.model.graph.layers)).toEqual([
      'conv1d',
      'relu',
      'maxpool1d',
      'conv1d',
      'batchnorm',
      'relu',
      'gap1d',
      'dense',
      'softmax',
    ]);
    expect(m.model.graph.classNames).toEqual([
      'class_0',
      'class_1',
      'class_2',
      'class_3',
      'class_4',
      'class_5',
    ]);
  });

  it('keeps a channels-last input that the graph transposes itself', async () => {
    const m = await load('har1d_channels_last_input');
    expect(m.source.inputLayout).toBe('channels-last');
    expect(m.model.graph.inputShape).toEqual([32, 9]);
    expect(kinds(m.model.graph.layers)).not.toContain('reshape');
  });

  it('flattens an NCHW tensor channels last and permutes the dense rows', async () => {
    const m = await load('cnn2d_flatten_linear');
    expect(m.source).toMatchObject({
      inputShape: [3, 8, 8],
      inputLayout: 'channels-first',
      inputMeaning: 'image',
    });
    expect(kinds(m.model.graph.layers)).toEqual([
      'reshape',
      'conv2d',
      'relu',
      'maxpool2d',
      'flatten',
      'dense',
    ]);
    const dynamo = await load('cnn2d_reshape_dynamo');
    expect(kinds(dynamo.model.graph.layers)).toEqual(kinds(m.model.graph.layers));
  });

  it('makes one Dense of MatMul + Add, Gemm with alpha/beta, and drops Dropout and Identity', async () => {
    for (const name of ['matmul_add', 'gemm_alpha_beta']) {
      const m = await load(name);
      expect(kinds(m.model.graph.layers), name).toEqual(['dense']);
      expect(layer(m, 'dense')?.useBias, name).toBe(true);
    }
    expect(kinds((await load('dropout_identity')).model.graph.layers)).toEqual(['dense']);
  });

  it('maps Clip(0, 6) to a clipped ReLU with either opset form', async () => {
    for (const name of ['clip06', 'clip06_opset10'])
      expect(layer(await load(name), 'clippedrelu')?.maxValue, name).toBe(6);
  });

  it('names pads the way Keras does, or puts a ZeroPadding layer first', async () => {
    const padding = async (name: string, kind: string) => layer(await load(name), kind)?.padding;
    expect(await padding('conv1d_same', 'conv1d')).toBe('same');
    expect(await padding('conv1d_causal', 'conv1d')).toBe('causal');
    expect(await padding('conv2d_same_upper', 'conv2d')).toBe('same');
    expect(await padding('avgpool1d_same', 'avgpool1d')).toBe('same');
    for (const [name, pad, kind] of [
      ['conv1d_odd_pads', 'zeropad1d', 'conv1d'],
      ['conv1d_stride_pad', 'zeropad1d', 'conv1d'],
      ['conv2d_same_lower', 'zeropad2d', 'conv2d'],
      ['maxpool1d_pad_after_relu', 'zeropad1d', 'maxpool1d'],
      ['avgpool1d_count_pad', 'zeropad1d', 'avgpool1d'],
    ]) {
      const m = await load(name);
      expect(kinds(m.model.graph.layers), name).toContain(pad);
      expect(layer(m, kind)?.padding, name).toBe('valid');
    }
  });

  it('maps a Conv whose group is its input channels to a depthwise conv with its multiplier', async () => {
    expect(layer(await load('depthwise1d'), 'depthwise1d')?.depthMultiplier).toBe(2);
    expect(layer(await load('depthwise2d'), 'depthwise2d')?.depthMultiplier).toBe(1);
  });

  it('gives class names and checks their number', async () => {
    const m = await importOnnx(join(DIR, 'gemm.onnx'), { classNames: ['a', 'b', 'c', 'd', 'e'] });
    expect(m.model.graph.classNames).toEqual(['a', 'b', 'c', 'd', 'e']);
    const err = await rejection(importOnnx(join(DIR, 'gemm.onnx'), { classNames: ['a', 'b'] }));
    expect(err.category).toBe('usage');
  });
});

describe('ONNX import: unsupported models', () => {
  for (const u of manifest.unsupported)
    it(`${u.file}: ${u.note}`, async () => {
      const err = await rejection(importOnnx(join(DIR, u.file)));
      expect(err.category).toBe('model');
      expect(err.exitCode).toBe(4);
      expect(err.message).toContain(`node ${u.node.index} '${u.node.name}' (${u.node.type})`);
      for (const w of u.words) expect(err.message.toLowerCase()).toContain(w.toLowerCase());
      expect(err.hint).toMatch(/supported: /);
    });

  for (const m of manifest.malformed)
    it(`${m.file}: ${m.note} (an input error)`, async () => {
      const err = await rejection(importOnnx(join(DIR, m.file)));
      expect(err.category).toBe('input');
      expect(err.message).toContain(`node ${m.node.index} '${m.node.name}' (${m.node.type})`);
    });

  it('rejects a truncated file and a file that is not ONNX as input errors', async () => {
    const dir = tempDir();
    const bytes = readFileSync(join(DIR, 'har1d_cnn.onnx'));
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, bytes.length >> 1));
    writeFileSync(join(dir, 'text.onnx'), 'not a model\n'.repeat(20));
    for (const f of ['cut.onnx', 'text.onnx']) {
      const err = await rejection(importOnnx(join(dir, f)));
      expect(err.category, f).toBe('input');
      expect(err.message, f).toContain(f);
    }
  });

  it('writes nothing', async () => {
    const dir = tempDir();
    copyFileSync(join(DIR, 'lstm.onnx'), join(dir, 'lstm.onnx'));
    await rejection(importOnnx(join(dir, 'lstm.onnx')));
    expect(readdirSync(dir)).toEqual(['lstm.onnx']);
  });
});

// The MLPerf Tiny folder has no .onnx file today; any that appears is imported and checked.
const mlperfOnnx = existsSync(MLPERF_DIR)
  ? readdirSync(MLPERF_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) =>
        readdirSync(join(MLPERF_DIR, d.name))
          .filter((f) => f.endsWith('.onnx'))
          .map((f) => join(MLPERF_DIR, d.name, f)),
      )
  : [];

describe.runIf(mlperfOnnx.length > 0)('ONNX import: MLPerf Tiny .onnx files', () => {
  for (const file of mlperfOnnx)
    it(file, async () => {
      const session = await ort.InferenceSession.create(file);
      const meta = session.inputMetadata[0];
      const shape = 'shape' in meta ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : [];
      await expectParity(file, shape, await importOnnx(file), 1);
    });
});
