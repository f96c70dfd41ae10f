// Which data the commands use when given no --data (the data the model was trained or compressed
// with, never synthetic by default), and the errors when model and data do not fit: another window
// shape or other classes (exit 3, naming both) and no data at all (exit 2, saying what to pass).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { deployCommand } from '../../src/cli/commands/deploy.js';
import { evaluateCommand } from '../../src/cli/commands/evaluate.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { HAR_CLASSES, type WindowSet } from '../../src/data/dataset.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { identityNormalization } from '../../src/data/normalize.js';
import { archToGraph } from '../../src/graph/arch.js';
import { readTfm, writeTfm } from '../../src/qmodel/index.js';
import { initParams } from '../../src/train/forward.js';
import { saveModelDir } from '../../src/train/modelDir.js';
import { readBuildInfo } from '../../src/measure/index.js';
import { runCommand } from '../helpers/cli.js';
import { randomModel } from '../helpers/randomModel.js';
import { tempDir } from '../helpers/temp.js';
import { writeUciLayout } from '../data/uciWriter.js';
import { TINY_ARCH, writeTinyArch } from './helpers.js';

// Parsed data sets go to a cache of this file's own, not the checkout's.
process.env.TINYFORGE_CACHE = tempDir('tf-cli-cache-');

/** The UCI-HAR-layout fixture: 6 training windows (4 subjects), 3 test windows. */
const FIXTURE_REL = relative(
  process.cwd(),
  fileURLToPath(new URL('../fixtures/uci-har-mini', import.meta.url)),
);
const FIXTURE = resolve(FIXTURE_REL);
const FIXTURE_TEST_WINDOWS = 3;
const SYNTH = 'synthetic:seed=5,train=60,test=20,subjects=6';

/** A model directory with untrained weights (enough for shape and class checks). */
async function untrainedModelDir(
  dir: string,
  inputShape: [number, number],
  classNames: string[],
  training?: Record<string, unknown>,
): Promise<void> {
  const graph = archToGraph(TINY_ARCH, { inputShape, classNames });
  await saveModelDir(
    dir,
    { graph, params: initParams(graph, 1) },
    { normalization: identityNormalization(inputShape[1]), training },
  );
}

/** A UCI-HAR-layout copy of a few synthetic windows with three classes a, b, c. */
function threeClassFixture(root: string): void {
  const ds = generateSynthetic({ seed: 9, train: 12, test: 6, subjects: 4 });
  const three = (s: WindowSet): WindowSet => ({ ...s, y: s.y.map((v) => v % 3) });
  writeUciLayout(join(root, 'UCI HAR Dataset'), { train: three(ds.train), test: three(ds.test) }, [
    'a',
    'b',
    'c',
  ]);
}

let dir: string;
let trained: string;

beforeAll(async () => {
  dir = tempDir('tf-cli-data-');
  trained = join(dir, 'trained');
  // Trained on the fixture, given as a relative path.
  const r = await runCommand(trainCommand, [
    'train',
    '--data',
    FIXTURE_REL,
    '--out',
    trained,
    '--arch',
    writeTinyArch(dir),
    '--epochs',
    '1',
    '--batch-size',
    '4',
    '--json',
  ]);
  expect(r.code, r.err).toBe(0);
});

describe('without --data, commands use the data the model was trained or compressed with', () => {
  it('train records the data as an absolute, reloadable spec', () => {
    const training = JSON.parse(readFileSync(join(trained, 'training.json'), 'utf8'));
    expect(training.data).toBe(FIXTURE);
  });

  it('compress --bits 4 --finetune-epochs 1 fine-tunes and evaluates on the fixture, not synthetic data', async () => {
    const out = join(dir, 'm4.tfm');
    const r = await runCommand(compressCommand, [
      'compress',
      trained,
      '--bits',
      '4',
      '--finetune-epochs',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.data).toBe(FIXTURE);
    expect(j.dataRecorded).toBe(true);
    expect(j.evalWindows).toBe(FIXTURE_TEST_WINDOWS);
    const tfm = await readTfm(out);
    expect(tfm.meta.source).toMatchObject({ model: resolve(trained), data: FIXTURE });
    // The text output says which data it used.
    const text = await runCommand(compressCommand, ['compress', trained, '--out', join(dir, 'm8.tfm')]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`data: ${FIXTURE} (recorded by the model)`);
    expect(text.out).toMatch(new RegExp(`accuracy on test \\(${FIXTURE_TEST_WINDOWS} windows\\)`));
    // Given data still wins.
    const given = await runCommand(compressCommand, [
      'compress',
      trained,
      '--data',
      SYNTH,
      '--out',
      join(dir, 'synth.tfm'),
      '--json',
    ]);
    expect(given.code, given.err).toBe(0);
    expect(JSON.parse(given.out)).toMatchObject({ data: SYNTH, dataRecorded: false, evalWindows: 20 });
    expect((await readTfm(join(dir, 'synth.tfm'))).meta.source).toMatchObject({ data: SYNTH });
  });

  it('evaluate a model directory and a .tfm on the recorded data', async () => {
    const m = JSON.parse((await runCommand(evaluateCommand, ['evaluate', trained, '--json'])).out);
    expect(m).toMatchObject({ data: FIXTURE, dataRecorded: true, split: 'test', n: FIXTURE_TEST_WINDOWS });
    const t = await runCommand(evaluateCommand, ['evaluate', join(dir, 'm4.tfm'), '--json']);
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(t.out)).toMatchObject({ data: FIXTURE, n: FIXTURE_TEST_WINDOWS });
    const synth = await runCommand(evaluateCommand, ['evaluate', join(dir, 'synth.tfm'), '--json']);
    expect(JSON.parse(synth.out)).toMatchObject({ data: SYNTH, n: 20 });
  });

  it('build --embed and run a build folder on the .tfm data', async () => {
    const embedded = join(dir, 'fw-embed');
    const b = await runCommand(buildCommand, [
      'build',
      join(dir, 'm4.tfm'),
      '--out',
      embedded,
      '--embed',
      '2',
    ]);
    expect(b.code, b.err).toBe(0);
    expect(readBuildInfo(embedded).embed?.source).toBe(`${FIXTURE} (test, first 2)`);
    const fw = join(dir, 'fw');
    expect((await runCommand(buildCommand, ['build', join(dir, 'm4.tfm'), '--out', fw])).code).toBe(0);
    const r = await runCommand(runCmd, ['run', fw, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.windows).toBe(FIXTURE_TEST_WINDOWS);
    expect(j.data).toEqual({ spec: FIXTURE, recorded: true, split: 'test' });
    const text = await runCommand(runCmd, ['run', fw]);
    expect(text.out).toMatch(/^data\s+\S*uci-har-mini \(test, recorded by the model\)$/m);
  });

  it('deploy compresses, builds and runs on the data the model was trained on', async () => {
    const out = join(dir, 'deploy');
    const r = await runCommand(deployCommand, ['deploy', trained, '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.data).toEqual({ spec: FIXTURE, recorded: true, split: 'test' });
    expect(j.compress.evalWindows).toBe(FIXTURE_TEST_WINDOWS);
    expect(j.target.windows).toBe(FIXTURE_TEST_WINDOWS);
    expect((await readTfm(join(out, 'model.tfm'))).meta.source).toMatchObject({ data: FIXTURE });
  });
});

describe('a model and data that do not fit', () => {
  let abc: string;
  let narrow: string;
  let abcData: string;
  let wrongShapeTfm: string;

  beforeAll(async () => {
    abcData = join(dir, 'abc-data');
    threeClassFixture(abcData);
    abc = join(dir, 'abc');
    await untrainedModelDir(abc, [128, 9], ['a', 'b', 'c'], { data: abcData });
    narrow = join(dir, 'narrow');
    await untrainedModelDir(narrow, [64, 3], ['x', 'y']);
    wrongShapeTfm = join(dir, 'random.tfm');
    const m = randomModel(4);
    m.meta.source = { data: SYNTH };
    await writeTfm(wrongShapeTfm, m);
  });

  const HAR = `[${HAR_CLASSES.join(', ')}]`;

  it('other classes: compress, evaluate and deploy name both', async () => {
    const want = `the model (${abc}) takes 128 x 9 windows with classes [a, b, c]; the data (${SYNTH}) gives 128 x 9 windows with ${HAR}`;
    for (const [cmd, args] of [
      [compressCommand, ['compress', abc, '--data', SYNTH, '--out', join(dir, 'x.tfm')]],
      [evaluateCommand, ['evaluate', abc, '--data', SYNTH]],
      [deployCommand, ['deploy', abc, '--data', SYNTH, '--out', join(dir, 'x-deploy')]],
    ] as const) {
      const r = await runCommand(cmd, [...args]);
      expect(r.code, r.err).toBe(3);
      expect(r.err).toContain(want);
      // The hint points at the data the model was trained with.
      expect(r.err).toContain(`hint: ${abc} was trained with ${abcData}: leave out --data`);
    }
    expect(existsSync(join(dir, 'x.tfm'))).toBe(false);
    expect(existsSync(join(dir, 'x-deploy'))).toBe(false);
  });

  it('other classes: a .tfm with classes a, b, c against HAR data (evaluate, build --embed, run)', async () => {
    const tfm = join(dir, 'abc.tfm');
    const c = await runCommand(compressCommand, ['compress', abc, '--out', tfm, '--json']);
    expect(c.code, c.err).toBe(0);
    expect(JSON.parse(c.out).data).toBe(abcData);
    const want = `the model (${tfm}) takes 128 x 9 windows with classes [a, b, c]; the data (${FIXTURE}) gives 128 x 9 windows with ${HAR}`;
    const e = await runCommand(evaluateCommand, ['evaluate', tfm, '--data', FIXTURE_REL]);
    expect(e.code).toBe(3);
    expect(e.err).toContain(want);
    const b = await runCommand(buildCommand, [
      'build',
      tfm,
      '--out',
      join(dir, 'abc-fw'),
      '--embed',
      '2',
      '--data',
      FIXTURE_REL,
    ]);
    expect(b.code).toBe(3);
    expect(b.err).toContain(want);
    expect(existsSync(join(dir, 'abc-fw'))).toBe(false);
    expect((await runCommand(buildCommand, ['build', tfm, '--out', join(dir, 'abc-fw')])).code).toBe(0);
    const r = await runCommand(runCmd, ['run', join(dir, 'abc-fw'), '--data', FIXTURE_REL]);
    expect(r.code).toBe(3);
    expect(r.err).toContain(
      `the model (${join(dir, 'abc-fw')}/model.tfm) takes 128 x 9 windows with classes [a, b, c]; the data (${FIXTURE}) gives 128 x 9 windows with ${HAR}`,
    );
    // Its own data is fine.
    const own = await runCommand(evaluateCommand, ['evaluate', tfm, '--json']);
    expect(own.code, own.err).toBe(0);
    expect(JSON.parse(own.out)).toMatchObject({ data: abcData, n: 6 });
  });

  it('another window shape: model directory and .tfm', async () => {
    const r = await runCommand(compressCommand, [
      'compress',
      narrow,
      '--data',
      FIXTURE_REL,
      '--out',
      join(dir, 'n.tfm'),
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toContain(
      `the model (${narrow}) takes 64 x 3 windows with classes [x, y]; the data (${FIXTURE}) gives 128 x 9 windows with ${HAR}`,
    );
    const m = randomModel(4);
    const [T, C] = m.inputShape;
    const shape = `the model (${wrongShapeTfm}) takes ${T} x ${C} windows with classes [${m.classNames.join(', ')}]; the data (${SYNTH}) gives 128 x 9 windows with ${HAR}`;
    // Recorded data that no longer fits is the same error.
    const e = await runCommand(evaluateCommand, ['evaluate', wrongShapeTfm]);
    expect(e.code).toBe(3);
    expect(e.err).toContain(shape);
    const b = await runCommand(buildCommand, [
      'build',
      wrongShapeTfm,
      '--out',
      join(dir, 'r-fw'),
      '--embed',
      '3',
    ]);
    expect(b.code).toBe(3);
    expect(b.err).toContain(shape);
  });
});

describe('no --data and nothing recorded', () => {
  it('is a usage error that says what to pass', async () => {
    const bare = join(dir, 'bare');
    await untrainedModelDir(bare, [128, 9], [...HAR_CLASSES]);
    const tfm = join(dir, 'bare.tfm');
    await writeTfm(tfm, randomModel(7));
    const fw = join(dir, 'bare-fw');
    expect((await runCommand(buildCommand, ['build', tfm, '--out', fw])).code).toBe(0);
    const cases = [
      [
        compressCommand,
        ['compress', bare, '--out', join(dir, 'y.tfm')],
        `${bare} does not record the data it was trained with`,
      ],
      [evaluateCommand, ['evaluate', bare], `${bare} does not record the data it was trained with`],
      [
        deployCommand,
        ['deploy', bare, '--out', join(dir, 'y-deploy')],
        `${bare} does not record the data it was trained with`,
      ],
      [evaluateCommand, ['evaluate', tfm], `${tfm} does not record the data it was compressed with`],
      [
        buildCommand,
        ['build', tfm, '--out', join(dir, 'y-fw'), '--embed', '2'],
        `${tfm} does not record the data it was compressed with`,
      ],
      [runCmd, ['run', fw], `${fw}/model.tfm does not record the data it was compressed with`],
    ] as const;
    for (const [cmd, args, message] of cases) {
      const r = await runCommand(cmd, [...args]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toContain(`no --data given, and ${message}`);
      expect(r.err).toMatch(
        /hint: pass --data: a UCI HAR directory, a dataset description \(\.json\) or synthetic/,
      );
    }
    expect(existsSync(join(dir, 'y.tfm'))).toBe(false);
  });
});
