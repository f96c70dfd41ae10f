// `tinyforge import` and imported models through the pipeline: the model directory keeps what the
// file does not say (class names, normalization, the data, the input's meaning); failures write
// nothing; every command that takes a model takes a Keras/TFLite/ONNX file directly; the Keras HAR
// fixture from .h5, .keras and .tflite is one graph, fine-tunes, and runs bit-exact on QEMU.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { evaluateCommand } from '../../src/cli/commands/evaluate.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { HAR_CLASSES } from '../../src/data/dataset.js';
import { graphDifference } from '../../src/import/sameGraph.js';
import { importModelFile } from '../../src/import/index.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { floatForward } from '../../src/compress/floatForward.js';
import { loadModelDir } from '../../src/train/modelDir.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { parseSweepConfig } from '../../src/sweep/config.js';
import type { PointResult } from '../../src/sweep/result.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

process.env.TINYFORGE_CACHE = tempDir('tf-import-cache-');

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');
const HAR = {
  h5: join(FIX, 'keras', 'har_conv1d.h5'),
  keras: join(FIX, 'keras', 'har_conv1d.keras'),
  tflite: join(FIX, 'tflite', 'har_conv1d.tflite'),
};
const DATA = 'synthetic:seed=3,train=96,test=48,subjects=6';

const imp = (...args: string[]) => runCommand(importCommand, ['import', ...args]);

describe('tinyforge import', () => {
  it('writes a model directory with the class names, normalization and source it was given', async () => {
    const out = join(tempDir('tf-import-'), 'har');
    const classes = HAR_CLASSES.map((c) => c.toLowerCase()).join(',');
    const r = await imp(
      HAR.h5,
      '--out',
      out,
      '--classes',
      classes,
      '--input-mean',
      '0.5',
      '--input-std',
      '2',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      ['graph.json', 'model.json', 'normalization.json', 'source.json', 'weights.bin'].sort(),
    );
    const loaded = loadModelDir(out);
    expect(loaded.model.graph.classNames.join(',')).toBe(classes);
    expect(loaded.normalization.mean).toEqual(new Array(9).fill(0.5));
    expect(loaded.normalization.std).toEqual(new Array(9).fill(2));
    expect(loaded.meta.source).toMatchObject({
      format: 'keras-h5',
      inputShape: [128, 9],
      inputMeaning: 'sequence',
    });
    // The directory holds the imported model: the same graph and weights as the file.
    const direct = await importModelFile(HAR.h5);
    expect(graphDifference(loaded.model.graph, direct.model.graph)).toBeUndefined();
    for (const [name, p] of Object.entries(direct.model.params))
      expect(loaded.model.params[name].kernel).toEqual(p.kernel);
  });

  it('takes class names from a labels file, or from --data with its training statistics', async () => {
    const dir = tempDir('tf-import-');
    writeFileSync(join(dir, 'labels.txt'), 'a\nb\n\nc\nd\ne\nf\n');
    const r = await imp(HAR.keras, '--out', join(dir, 'm1'), '--labels', join(dir, 'labels.txt'));
    expect(r.code, r.err).toBe(0);
    expect(loadModelDir(join(dir, 'm1')).model.graph.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const d = await imp(HAR.tflite, '--out', join(dir, 'm2'), '--data', DATA);
    expect(d.code, d.err).toBe(0);
    const loaded = loadModelDir(join(dir, 'm2'));
    expect(loaded.model.graph.classNames).toEqual([...HAR_CLASSES]);
    expect(loaded.normalization.source).toMatch(/training split/);
    expect(loaded.normalization.std.every((s) => s > 0 && s !== 1)).toBe(true);
    expect(loaded.meta.training?.data).toBe(DATA);
  });

  it('fails with nothing written: unsupported layer (4), wrong class count (2), missing file (3), not a model (2)', async () => {
    const dir = tempDir('tf-import-');
    const cases: [string[], number, RegExp][] = [
      [[join(FIX, 'keras', 'lstm.h5')], 4, /layer \d+ '.*' \(LSTM\)/],
      [[HAR.h5, '--classes', 'a,b'], 2, /6 outputs but 2 class names/],
      [[join(dir, 'nothing.onnx')], 3, /does not exist/],
      [[join(FIX, 'make_fixtures.py')], 2, /not a model file/],
    ];
    for (const [args, code, message] of cases) {
      const out = join(dir, `out${code}`);
      const r = await imp(...args, '--out', out);
      expect(r.code, r.err).toBe(code);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }
  });

  it('replaces a model directory whole, and refuses a folder that is not one', async () => {
    const dir = tempDir('tf-import-');
    const out = join(dir, 'm');
    expect((await imp(HAR.h5, '--out', out, '--input-mean', '1')).code).toBe(0);
    writeFileSync(join(out, 'training.json'), '{"data": "elsewhere"}');
    expect((await imp(HAR.h5, '--out', out)).code).toBe(0);
    expect(readdirSync(out)).not.toContain('training.json');
    expect(loadModelDir(out).normalization.mean[0]).toBe(0);
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'notes.txt'), 'keep me');
    const r = await imp(HAR.h5, '--out', join(dir, 'mine'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a model directory/);
    expect(readFileSync(join(dir, 'mine', 'notes.txt'), 'utf8')).toBe('keep me');
  });
});

describe('the Keras HAR model (.h5, .keras, .tflite) through the pipeline', () => {
  it('the three files are one graph with the same outputs', async () => {
    const [h5, keras, lite] = await Promise.all(
      [HAR.h5, HAR.keras, HAR.tflite].map((f) => importModelFile(f)),
    );
    expect(graphDifference(h5.model.graph, keras.model.graph)).toBeUndefined();
    // The converter drops Dropout: the .tflite is the deployable graph of the Keras model.
    const deployed = deployableGraph(h5.model);
    expect(graphDifference(deployed.graph, lite.model.graph)).toBeUndefined();
    expect(lite.model.graph.layers.map((l) => l.kind).filter((k) => k === 'conv1d')).toHaveLength(3);
    const x = Float32Array.from({ length: 128 * 9 }, (_, i) => Math.sin(i * 0.37) * 2);
    const a = floatForward(deployed, x).outputs.at(-1)!;
    const b = floatForward(lite.model, x).outputs.at(-1)!;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
  });

  it('evaluate and compress take the files directly', async () => {
    const e = await runCommand(evaluateCommand, ['evaluate', HAR.keras, '--data', DATA, '--json']);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).n).toBe(48);
    const tfm = join(tempDir('tf-import-'), 'm.tfm');
    const c = await runCommand(compressCommand, [
      'compress',
      HAR.tflite,
      '--data',
      DATA,
      '--bits',
      '6',
      '--out',
      tfm,
    ]);
    expect(c.code, c.err).toBe(0);
    expect(existsSync(tfm)).toBe(true);
  });

  for (const format of ['h5', 'keras', 'tflite'] as const)
    it(`from .${format}: import -> compress --finetune-epochs 1 -> build -> run, bit-exact on QEMU`, async () => {
      const dir = tempDir('tf-import-e2e-');
      const model = join(dir, 'model');
      expect((await imp(HAR[format], '--out', model, '--data', DATA)).code).toBe(0);
      const tfm = join(dir, 'm.tfm');
      const c = await runCommand(compressCommand, [
        'compress',
        model,
        '--bits',
        '4',
        '--finetune-epochs',
        '1',
        '--out',
        tfm,
        '--json',
      ]);
      expect(c.code, c.err).toBe(0);
      expect(JSON.parse(c.out).data).toBe(DATA);
      const fw = join(dir, 'fw');
      expect((await runCommand(buildCommand, ['build', tfm, '--out', fw])).code).toBe(0);
      const r = await runCommand(runCmd, ['run', fw, '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ windows: 48, agreement: { equal: true } });
    }, 300_000);

  it('a sweep compresses the .tflite at each point instead of training', async () => {
    const results: PointResult[] = [];
    await runSweep({
      config: parseSweepConfig({ model: HAR.tflite, axes: { widths: [1], bits: [8, 4, 'float'] } }),
      data: DATA,
      modelPath: HAR.tflite,
      out: tempDir('tf-import-sweep-'),
      jobs: 1,
      progress: 'none',
      log: () => {},
      onPoint: (p) => results.push(p),
    });
    expect(results.map((p) => p.status)).toEqual(['ok', 'ok', 'ok']);
    const float = results.find((p) => p.point.bits === 'float')!;
    const direct = await runCommand(evaluateCommand, ['evaluate', HAR.tflite, '--data', DATA, '--json']);
    expect(float.host!.floatAccuracy).toBeCloseTo(JSON.parse(direct.out).accuracy, 6);
  }, 300_000);
});
