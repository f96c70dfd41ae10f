// A user's recordings through the CLI, no --data after `train`: data example -> data inspect ->
// train on the description -> compress -> build -> run on QEMU, each later command on the
// description's own windows (the counts `data inspect` reports), never on synthetic data.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { dataCommand } from '../../src/cli/commands/data.js';
import { evaluateCommand } from '../../src/cli/commands/evaluate.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import type { DataReport } from '../../src/data/report.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { writeTinyArch } from './helpers.js';

process.env.TINYFORGE_CACHE = tempDir('tf-cli-cache-');

let dir: string;
let description: string;
let report: DataReport;

beforeAll(async () => {
  dir = tempDir('tf-cli-rec-');
  const r = await runCommand(dataCommand, [
    'data',
    'example',
    '--out',
    join(dir, 'rec'),
    '--subjects',
    '6',
    '--json',
  ]);
  expect(r.code, r.err).toBe(0);
  description = JSON.parse(r.out).description;
  const i = await runCommand(dataCommand, ['data', 'inspect', description, '--json']);
  expect(i.code, i.err).toBe(0);
  report = JSON.parse(i.out);
});

describe('recordings from data example, through the CLI', () => {
  it('data inspect reports the files, subjects, classes per split and what it dropped', async () => {
    expect(report.kind).toBe('recordings');
    expect(report.files.length).toBeGreaterThanOrEqual(6);
    expect(report.subjects).toHaveLength(6);
    expect(report.classes).toEqual(['walking', 'running', 'sitting', 'standing', 'cycling']);
    const text = await runCommand(dataCommand, ['data', 'inspect', description]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^windows per class +train +val +test$/m);
    expect(text.out).toMatch(
      new RegExp(
        `^total +${report.splits.train.windows} +${report.splits.val!.windows} +${report.splits.test.windows}$`,
        'm',
      ),
    );
    expect(text.out).toMatch(/^s01_session1\.csv +csv +/m);
  });

  it('train -> compress -> build -> run without --data after train, on the description test windows', async () => {
    const arch = writeTinyArch(dir);
    const model = join(dir, 'model');
    // The description given as a relative path: training.json records it absolute.
    const t = await runCommand(trainCommand, [
      'train',
      '--data',
      relative(process.cwd(), description),
      '--out',
      model,
      '--arch',
      arch,
      '--epochs',
      '1',
    ]);
    expect(t.code, t.err).toBe(0);
    const dropped = report.windows.produced - report.windows.kept;
    if (dropped > 0) expect(t.out).toContain(`${dropped} of ${report.windows.produced} windows dropped`);
    const training = JSON.parse(readFileSync(join(model, 'training.json'), 'utf8'));
    expect(training.data).toBe(description);
    expect(training.dataReport.windows).toEqual(report.windows);
    expect(training.testWindows).toBe(report.splits.test.windows);

    const tfm = join(dir, 'm.tfm');
    const c = await runCommand(compressCommand, ['compress', model, '--bits', '8', '--out', tfm, '--json']);
    expect(c.code, c.err).toBe(0);
    expect(JSON.parse(c.out)).toMatchObject({ data: description, evalWindows: report.splits.test.windows });

    // The description's own validation split, as training used it.
    const v = await runCommand(evaluateCommand, ['evaluate', model, '--split', 'val', '--json']);
    expect(v.code, v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ data: description, n: report.splits.val!.windows });
    expect(JSON.parse(v.out).n).toBe(training.valWindows);

    const fw = join(dir, 'fw');
    expect((await runCommand(buildCommand, ['build', tfm, '--out', fw])).code).toBe(0);
    const r = await runCommand(runCmd, ['run', fw, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.windows).toBe(report.splits.test.windows);
    expect(j.classNames).toEqual(report.classes);
    expect(j.data).toEqual({ spec: description, recorded: true, split: 'test' });
    expect(j.agreement.equal).toBe(true);
  });
});
