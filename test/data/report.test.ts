// The data report of the sources that only have windows (synthetic, UCI HAR): what they know, and
// the same windows as loadDataset gives (their results do not change).
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectDataset, loadDataset, loadDatasetWithReport, prepareData } from '../../src/data/load.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { tempDir } from '../helpers/temp.js';

const FIXTURE = resolve(__dirname, '../fixtures/uci-har-mini');
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

let root: string;
beforeAll(() => {
  root = tempDir('tf-report-');
  process.env.TINYFORGE_CACHE = join(root, 'cache');
});

describe('reports of UCI HAR and synthetic data', () => {
  it('synthetic: classes per split, subjects, rate and units; the same windows as before', () => {
    const spec = 'synthetic:seed=2,train=60,test=30,subjects=6';
    const { dataset, report } = loadDatasetWithReport(spec);
    expect(bytes(dataset.train.x).equals(bytes(loadDataset(spec).train.x))).toBe(true);
    expect(
      bytes(dataset.test.x).equals(
        bytes(generateSynthetic({ seed: 2, train: 60, test: 30, subjects: 6 }).test.x),
      ),
    ).toBe(true);
    expect(dataset.val).toBeUndefined();
    expect(report).toMatchObject({ kind: 'synthetic', rateHz: 50, steps: 128, files: [] });
    expect(report.channels[3]).toEqual({ name: 'body_gyro_x', unit: 'rad/s' });
    expect(report.splits.train.windows).toBe(60);
    expect(Object.values(report.splits.test.classes)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(report.subjects.map((s) => s.name)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(report.subjects.find((s) => s.name === '6')!.splits).toEqual(['test']);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    // Validation is still taken from train by subject, as before.
    const p = prepareData(dataset, { valFraction: 0.2 });
    expect(p.train.n + p.val.n).toBe(60);
  });

  it('UCI HAR: the files read, their rows, and the windows per split', () => {
    const dir = join(root, 'uci');
    cpSync(FIXTURE, dir, { recursive: true });
    const report = inspectDataset(dir);
    expect(report.kind).toBe('uci-har');
    expect(report.files).toHaveLength(1 + 2 * 11);
    expect(report.files.find((f) => f.path.endsWith('y_train.txt'))!.rows).toBe(6);
    expect(report.files.find((f) => f.path.endsWith('body_acc_x_test.txt'))!.rows).toBe(3);
    expect(report.splits.train.windows).toBe(6);
    expect(report.classes).toHaveLength(6);
    expect(report.windows).toEqual({ kept: 9, produced: 9, dropped: {} });
  });
});
