// Keras import (.h5 and .keras): every fixture model of test/fixtures/import/make_fixtures.py
// (one per supported Keras layer class, plus the shapes that trip importers) computes, as the float
// IR, what Keras computed on the fixture inputs, within 1e-5 of the output range, every output
// value compared. Unsupported models stop naming the layer, its position and its type (exit code 4);
// malformed files are input errors.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { importKerasArchive, importKerasH5 } from '../../src/import/keras/index.js';
import { inferShapes } from '../../src/graph/ir.js';
import { rejection } from '../helpers/errors.js';
import { worstRelativeError } from '../helpers/parity.js';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'import');

interface Expected {
  inputShape: (number | null)[];
  formats: string[];
  error: boolean;
  inputs?: number[][];
  keras?: number[][];
}

const expected = (name: string): Expected =>
  JSON.parse(readFileSync(join(FIXTURES, 'expected', `${name}.json`), 'utf8')) as Expected;

/** The Keras fixture cases (those with an .h5 or .keras file). */
const cases = readdirSync(join(FIXTURES, 'expected'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .filter((name) => expected(name).formats.some((f) => f === 'h5' || f === 'keras'));

const FORMATS = {
  h5: (name: string) => importKerasH5(join(FIXTURES, 'keras', `${name}.h5`)),
  keras: (name: string) => importKerasArchive(join(FIXTURES, 'keras', `${name}.keras`)),
} as const;

describe('Keras import: float parity with Keras on every fixture', () => {
  for (const name of cases.filter((n) => !expected(n).error))
    for (const fmt of ['h5', 'keras'] as const)
      it(`${name}.${fmt}`, async () => {
        const e = expected(name);
        const imported = await FORMATS[fmt](name);
        expect(imported.source.inputShape).toEqual(e.inputShape);
        expect(worstRelativeError(imported.model, e.inputs!, e.keras!)).toBeLessThan(1e-5);
      });
});

describe('Keras import: graphs', () => {
  it('the HAR Conv1D model gives the same graph and parameters from .h5 and .keras', async () => {
    const h5 = await FORMATS.h5('har_conv1d');
    const ar = await FORMATS.keras('har_conv1d');
    expect(h5.model.graph).toEqual(ar.model.graph);
    expect(Object.keys(h5.model.params).sort()).toEqual(Object.keys(ar.model.params).sort());
    for (const [layer, p] of Object.entries(h5.model.params)) expect(ar.model.params[layer]).toEqual(p);
    expect(h5.model.graph.inputShape).toEqual([128, 9]);
    expect(h5.model.graph.layers.map((l) => l.kind)).toEqual([
      'conv1d',
      'maxpool1d',
      'conv1d',
      'maxpool1d',
      'conv1d',
      'gap1d',
      'dropout',
      'dense',
      'softmax',
    ]);
    expect(h5.model.graph.classNames).toHaveLength(6);
    expect(h5.source).toMatchObject({ format: 'keras-h5', inputLayout: 'channels-last' });
    expect(ar.source.format).toBe('keras');
  });

  it('a functional residual block reads its shortcut; Conv -> BatchNorm -> ReLU stays in order', async () => {
    const res = (await FORMATS.keras('residual_add')).model.graph;
    const add = res.layers.find((l) => l.name === 'residual')!;
    expect(add.inputs).toEqual(['stem', 'block_b']);
    const cbr = (await FORMATS.h5('conv_bn_relu')).model.graph.layers.map((l) => l.kind);
    expect(cbr.slice(0, 4)).toEqual(['reshape', 'conv2d', 'batchnorm', 'relu']);
  });

  it('a rank-3 input starts with a Reshape of the [T, C] window; rank 1 is one flat row', async () => {
    const img = await FORMATS.h5('rank3_cnn');
    expect(img.source).toMatchObject({ inputShape: [10, 10, 3], inputMeaning: 'image' });
    expect(img.model.graph.inputShape).toEqual([100, 3]);
    expect(img.model.graph.layers[0]).toMatchObject({ targetShape: [10, 10, 3] });
    const spec = await importKerasH5(join(FIXTURES, 'keras', 'rank3_cnn.h5'), {
      inputMeaning: 'spectrogram',
    });
    expect(spec.model.graph.inputShape).toEqual([10, 30]);
    const vec = await FORMATS.keras('rank1_dense');
    expect(vec.source.inputMeaning).toBe('vector');
    expect(vec.model.graph.inputShape).toEqual([1, 20]);
    expect(inferShapes(vec.model.graph).at(-1)!.outShape).toEqual([1, 20]);
  });

  it('class names: given ones are kept, a wrong count is a usage error', async () => {
    const file = join(FIXTURES, 'keras', 'har_conv1d.keras');
    const names = ['walk', 'up', 'down', 'sit', 'stand', 'lie'];
    expect((await importKerasArchive(file, { classNames: names })).model.graph.classNames).toEqual(names);
    const err = await rejection(importKerasArchive(file, { classNames: ['a', 'b'] }));
    expect(err.category).toBe('usage');
    expect(err.message).toMatch(/6 outputs but 2 class names/);
  });

  it('reads an archive whose entries are stored uncompressed, as Keras writes them', async () => {
    const entries = unzipSync(readFileSync(join(FIXTURES, 'keras', 'har_conv1d.keras')));
    const dir = mkdtempSync(join(tmpdir(), 'tf-keras-'));
    const stored = join(dir, 'stored.keras');
    writeFileSync(stored, zipSync(entries, { level: 0 }));
    const a = await importKerasArchive(stored);
    const b = await FORMATS.keras('har_conv1d');
    expect(a.model).toEqual(b.model);
  });
});

describe('Keras import: unsupported models stop naming the layer (exit code 4)', () => {
  const unsupported: Record<string, RegExp[]> = {
    lstm: [/layer 1 'lstm' \(LSTM\): a recurrent layer is not supported/],
    gru: [/layer 1 'gru' \(GRU\): a recurrent layer is not supported/],
    custom_layer: [/layer 2 'scale' \(Scale\): a custom layer \(registered as 'tinyforge_fixtures>Scale'\)/],
    quantized_dense: [/layer 1 'dense' \(Dense\): dtype policy 'int8 \(QuantizedDTypePolicy\)'/],
    dynamic_time: [/layer 0 'input_layer' \(InputLayer\): the dynamic input shape \[None, None, 9\]/],
  };
  for (const [name, patterns] of Object.entries(unsupported))
    for (const fmt of ['h5', 'keras'] as const)
      it(`${name}.${fmt}`, async () => {
        expect(expected(name).error).toBe(true);
        const err = await rejection(FORMATS[fmt](name));
        expect(err.category).toBe('model');
        expect(err.exitCode).toBe(4);
        expect(err.message).toContain(`${name}.${fmt}`);
        for (const p of patterns) expect(err.message).toMatch(p);
        expect(err.hint).toMatch(/supported: /);
        if (name !== 'dynamic_time') expect(err.hint).toMatch(/Conv1D.*Dense.*BatchNormalization/);
      });
});

describe('Keras import: malformed files are input errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-keras-bad-'));
  const write = (name: string, bytes: Uint8Array | string): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const h5 = readFileSync(join(FIXTURES, 'keras', 'conv1d.h5'));
  const archive = readFileSync(join(FIXTURES, 'keras', 'conv1d.keras'));

  it('a missing file, a text file, a truncated .h5', async () => {
    for (const file of [
      join(dir, 'missing.h5'),
      write('text.h5', 'not an HDF5 file'),
      write('cut.h5', h5.subarray(0, h5.length >> 1)),
    ]) {
      const err = await rejection(importKerasH5(file));
      expect(err.category, file).toBe('input');
      expect(err.message).toContain(file);
    }
  });

  it('a truncated archive, one without its weights, one whose config is not JSON', async () => {
    const entries = unzipSync(archive);
    const noWeights = { 'config.json': entries['config.json'] };
    const badConfig = { ...entries, 'config.json': new TextEncoder().encode('{"class_name": ') };
    const cases: [string, RegExp][] = [
      [write('cut.keras', archive.subarray(0, archive.length >> 1)), /not a readable .keras archive/],
      [write('noweights.keras', zipSync(noWeights)), /has no model.weights.h5/],
      [write('badconfig.keras', zipSync(badConfig)), /config.json\) is not valid JSON/],
    ];
    for (const [file, message] of cases) {
      const err = await rejection(importKerasArchive(file));
      expect(err.category, file).toBe('input');
      expect(err.message).toMatch(message);
    }
  });
});
