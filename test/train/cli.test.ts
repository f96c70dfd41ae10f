// `tinyforge train` and `tinyforge evaluate` end to end on small synthetic data, through yargs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { trainCommand } from '../../src/cli/commands/train.js';
import { evaluateCommand } from '../../src/cli/commands/evaluate.js';
import { TinyforgeError } from '../../src/util/errors.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tf-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI commands in-process; returns stdout. */
async function cli(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await yargs(args)
      .command(trainCommand)
      .command(evaluateCommand)
      .strict()
      .fail((msg, e) => {
        throw e ?? new Error(msg);
      })
      .parseAsync();
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out;
}

const DATA = 'synthetic:seed=3,train=300,test=120';

describe('train and evaluate commands', () => {
  const out = () => join(tmp, 'm');
  const arch = () => join(tmp, 'arch.json');

  it('train writes a model directory and reports JSON', async () => {
    writeFileSync(
      arch(),
      JSON.stringify({
        layers: [
          { type: 'conv1d', filters: 6, kernelSize: 5, stride: 2, padding: 'same', activation: 'relu' },
          { type: 'gap1d' },
          { type: 'dense', units: 'classes' },
          { type: 'softmax' },
        ],
      }),
    );
    const s = JSON.parse(
      await cli([
        'train',
        '--data',
        DATA,
        '--out',
        out(),
        '--arch',
        arch(),
        '--epochs',
        '2',
        '--batch-size',
        '16',
        '--lr',
        '0.01',
        '--seed',
        '4',
        '--json',
      ]),
    );
    expect(s).toMatchObject({
      out: out(),
      seed: 4,
      arch: arch(),
      trainWindows: expect.any(Number),
      testWindows: 120,
    });
    expect(s.params).toBe(5 * 9 * 6 + 6 + 6 * 6 + 6);
    expect(s.testAccuracy).toBeGreaterThan(1 / 6);
    expect(s.history.length).toBeGreaterThan(0);
    const training = JSON.parse(readFileSync(join(out(), 'training.json'), 'utf8'));
    expect(training).toMatchObject({
      seed: 4,
      data: 'synthetic:seed=3,train=300,test=120,subjects=30',
      backend: s.backend,
    });
    const norm = JSON.parse(readFileSync(join(out(), 'normalization.json'), 'utf8'));
    expect(norm.mean).toHaveLength(9);
    expect(norm.channels[6]).toBe('total_acc_x');
  });

  it('evaluate reproduces the test accuracy train reported, defaulting --data to the recorded data', async () => {
    const training = JSON.parse(readFileSync(join(out(), 'training.json'), 'utf8'));
    const r = JSON.parse(await cli(['evaluate', out(), '--json']));
    expect(r.split).toBe('test');
    expect(r.n).toBe(120);
    expect(r.accuracy).toBeCloseTo(training.testAccuracy, 10);
    expect(r.params).toBe(training.params);
    expect(r.macs).toBe(64 * 6 * 5 * 9 + 6 * 6);
    expect(r.confusion).toHaveLength(6);
    // The validation split is the one training held out.
    const v = JSON.parse(await cli(['evaluate', out(), '--data', DATA, '--split', 'val', '--json']));
    expect(v.n).toBe(training.valWindows);
    expect(v.accuracy).toBeCloseTo(training.valAccuracy, 10);
    const text = await cli(['evaluate', out()]);
    expect(text).toMatch(/accuracy: +\d+\.\d\d% \(float\)/);
    expect(text).toMatch(/WALKING_UPSTAIRS/);
    expect(text).toMatch(/confusion/);
  });

  it('reports user errors as TinyforgeError', async () => {
    await expect(cli(['evaluate', join(tmp, 'nothing')])).rejects.toThrow(TinyforgeError);
    await expect(cli(['train', '--data', DATA, '--out', out(), '--epochs', '0'])).rejects.toThrow(
      /--epochs must be a positive integer/,
    );
    await expect(cli(['train', '--data', join(tmp, 'nodata'), '--out', out()])).rejects.toMatchObject({
      category: 'input',
    });
    writeFileSync(arch(), '{"layers": [{"type": "conv2d"}]}');
    await expect(cli(['train', '--data', DATA, '--out', out(), '--arch', arch()])).rejects.toThrow(
      /arch\.json.*layers\[0\]/,
    );
  });
});
