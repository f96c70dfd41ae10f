// `tinyforge check` through the CLI. One real measurement (an imported .tflite compressed to 4 bits,
// built for both QEMU boards, run over synthetic windows), then every threshold checked against its
// figures with --measured: measure once, check many times. A second real run from a configuration
// file with the same inputs reuses the compressed model and both builds.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/commands/check.js';
import type { CheckResult } from '../../src/check/result.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

process.env.TINYFORGE_CACHE = tempDir('tf-check-data-');

const MODEL = join(import.meta.dirname, '..', 'fixtures', 'import', 'tflite', 'har_conv1d.tflite');
const DATA = 'synthetic:seed=5,train=48,test=30,subjects=4';
const BOARDS = ['netduinoplus2', 'mps2-an386'];

let dir: string;
let cache: string;
let measured: string;
let first: CheckResult;
let firstRun: { out: string; err: string; code: number };

const check = (args: string[]) => runCommand(checkCommand, ['check', ...args]);

/** The measured file as JSON, changed by `edit`, written beside it (for figures a limit cannot break). */
function editedMeasurements(name: string, edit: (r: CheckResult) => void): string {
  const r = JSON.parse(readFileSync(measured, 'utf8')) as CheckResult;
  edit(r);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(r));
  return path;
}

interface JunitCase {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string };
}

/** Parses the JUnit file with a real XML parser: every test case, by board. */
function readJunit(path: string): { suites: Record<string, JunitCase[]>; failures: number; tests: number } {
  const xml = readFileSync(path, 'utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  }).parse(xml);
  const root = doc.testsuites;
  const suites: Record<string, JunitCase[]> = {};
  for (const s of root.testsuite) suites[s['@_name']] = s.testcase ?? [];
  return { suites, failures: Number(root['@_failures']), tests: Number(root['@_tests']) };
}

beforeAll(async () => {
  dir = tempDir('tf-check-');
  cache = join(dir, 'cache');
  measured = join(dir, 'measured.json');
  firstRun = await check([
    MODEL,
    '--data',
    DATA,
    '--board',
    ...BOARDS,
    '--bits',
    '4',
    '--cache-dir',
    cache,
    // Loose limits on every threshold: a passing check; the drop makes it measure the float model.
    '--min-accuracy',
    '0',
    '--min-class-accuracy',
    '0',
    '--max-accuracy-drop',
    '100%',
    '--max-model-flash',
    '1MB',
    '--max-total-flash',
    '1MB',
    '--max-model-ram',
    '1MB',
    '--max-total-ram',
    '4MB',
    '--max-instructions',
    '100M',
    '--results',
    measured,
    '--junit',
    join(dir, 'pass.xml'),
    '--markdown',
    join(dir, 'pass.md'),
  ]);
  first = JSON.parse(readFileSync(measured, 'utf8')) as CheckResult;
}, 300_000);

describe('tinyforge check, measured on both QEMU boards', () => {
  it('passes with every threshold held, exit 0, one row per threshold and board', () => {
    expect(firstRun.code, firstRun.err).toBe(0);
    expect(first.passed).toBe(true);
    expect(first.model.compression).toBe('compressed');
    expect(first.boards.map((b) => b.board)).toEqual(BOARDS);
    expect(first.boards.every((b) => !b.build.cached)).toBe(true);
    expect(first.data).toMatchObject({ spec: DATA, split: 'test', windows: 30 });
    expect(first.floatAccuracy).toBeGreaterThanOrEqual(0);
    for (const b of first.boards) {
      expect(b.figures.agreement.bitExact).toBe(true);
      expect(b.figures.modelFlash).toBeGreaterThan(0);
      expect(b.figures.instructions).toBeGreaterThan(0);
    }
    // 6 classes + 8 other thresholds, per board: 28 on two boards.
    const ids = first.checks.filter((c) => c.board === BOARDS[0]).map((c) => c.id);
    expect(ids).toEqual([
      'accuracy',
      ...first.boards[0].figures.perClass.map((c) => `class-accuracy:${c.class}`),
      'accuracy-drop',
      'model-flash',
      'total-flash',
      'model-ram',
      'total-ram',
      'instructions',
      'agreement',
    ]);
    expect(firstRun.out).toMatch(/^netduinoplus2\s+on-target accuracy\s+\S+%\s+>= 0\.00%\s+pass$/m);
    expect(firstRun.out).toMatch(/^mps2-an386\s+host agreement\s+bit-exact \(30\/30\)\s+bit-exact\s+pass$/m);
    expect(firstRun.out).toContain('PASS: 28 checks hold on 2 boards');
    const junit = readJunit(join(dir, 'pass.xml'));
    expect(junit.tests).toBe(28);
    expect(junit.failures).toBe(0);
    expect(junit.suites['mps2-an386'].map((c) => c['@_name'])).toEqual(ids);
    expect(readFileSync(join(dir, 'pass.md'), 'utf8')).toMatch(/^### tinyforge check: ✅ PASS/);
  });

  it('a configuration file with the same inputs reuses the compressed model and both builds', async () => {
    const config = join(dir, 'tinyforge.check.json');
    writeFileSync(
      config,
      JSON.stringify({
        format: 'tinyforge-check/1',
        model: MODEL,
        data: DATA,
        boards: BOARDS,
        compression: { bits: 4 },
        cacheDir: 'cache', // relative to the file's folder
        thresholds: { minAccuracy: '0%', maxModelFlash: '1 MB' },
      }),
    );
    const r = await check(['--config', config, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as CheckResult;
    expect(j.model.compression).toBe('cached');
    expect(j.boards.map((b) => b.build)).toEqual(first.boards.map((b) => ({ ...b.build, cached: true })));
    // Same firmware, same windows: the same figures.
    expect(j.boards.map((b) => b.figures)).toEqual(first.boards.map((b) => b.figures));
    const text = await check(['--config', config, '--measured', measured]);
    expect(text.out).toContain('model    ');
    const again = await check(['--config', config, '--board', 'netduinoplus2', '--limit', '5']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toContain('netduinoplus2: build reused from the cache');
    expect(again.out).toContain('builds   netduinoplus2 reused from the cache');
  });

  it('a .tfm input reuses the build of the same model bytes', async () => {
    const r = await check([
      first.model.tfm,
      '--board',
      'mps2-an386',
      '--limit',
      '4',
      '--cache-dir',
      cache,
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as CheckResult;
    expect(j.model.compression).toBe('given');
    expect(j.data).toMatchObject({ spec: DATA, recorded: true, windows: 4 });
    expect(j.boards[0].build).toEqual({ dir: first.boards[1].build.dir, cached: true });
  });
});

/** Limits just beyond the first measurement (netduinoplus2's figures: both boards share them or not). */
function violations(): { id: string; args: string[]; measuredFile?: () => string }[] {
  const f = first.boards[0].figures;
  const worst = (get: (b: CheckResult['boards'][number]) => number) => Math.min(...first.boards.map(get));
  const cls = f.perClass.find((c) => c.accuracy !== null && c.accuracy < 1)!;
  return [
    { id: 'accuracy', args: ['--min-accuracy', String(Math.min(1, f.accuracy + 0.01))] },
    {
      id: `class-accuracy:${cls.class}`,
      args: ['--min-class-accuracy', `${cls.class}=${cls.accuracy! + 0.001}`],
    },
    {
      id: 'accuracy-drop',
      args: ['--max-accuracy-drop', '1pt'],
      // The figure, not a limit, has to move: a float model 5 points better than the target.
      measuredFile: () =>
        editedMeasurements('drop.json', (r) => (r.floatAccuracy = r.boards[0].figures.accuracy + 0.05)),
    },
    { id: 'model-flash', args: ['--max-model-flash', String(worst((b) => b.figures.modelFlash) - 1)] },
    { id: 'total-flash', args: ['--max-total-flash', String(worst((b) => b.figures.totalFlash) - 1)] },
    { id: 'model-ram', args: ['--max-model-ram', String(worst((b) => b.figures.modelRam) - 1)] },
    { id: 'total-ram', args: ['--max-total-ram', String(worst((b) => b.figures.totalRam) - 1)] },
    {
      id: 'instructions',
      args: ['--max-instructions', String(Math.floor(worst((b) => b.figures.instructions)) - 1)],
    },
    {
      id: 'agreement',
      args: [],
      measuredFile: () =>
        editedMeasurements('mismatch.json', (r) => {
          for (const b of r.boards)
            b.figures.agreement = {
              bitExact: false,
              mismatching: 3,
              sameClass: 0.9,
              firstMismatch: 'window 7: target logits [1, 2], host [1, 3]',
            };
        }),
    },
  ];
}

describe('each threshold violated in turn (the measured figures checked again)', () => {
  it('exits 1 and names the threshold in the message, the table, the JUnit file and the Markdown', async () => {
    for (const v of violations()) {
      const junit = join(dir, `${v.id.replace(/\W/g, '_')}.xml`);
      const md = join(dir, `${v.id.replace(/\W/g, '_')}.md`);
      const r = await check([
        '--measured',
        v.measuredFile ? v.measuredFile() : measured,
        ...v.args,
        '--junit',
        junit,
        '--markdown',
        md,
      ]);
      expect(r.code, `${v.id}: ${r.err}`).toBe(1);
      expect(r.err).toMatch(new RegExp(`threshold(s)? failed: .*${v.id} on netduinoplus2`));
      // The table's row of that threshold (named as the first run's table named it) says FAIL.
      const name = first.checks.find((c) => c.id === v.id)!.name;
      const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(r.out, v.id).toMatch(new RegExp(`^netduinoplus2\\s+${escaped}\\s+.*FAIL$`, 'm'));
      expect(r.out.match(/FAIL$/gm), v.id).toHaveLength(2); // that row on each board, nothing else
      expect(r.out).toMatch(/^FAIL: \d+ of \d+ checks failed on 2 boards$/m);
      const parsed = readJunit(junit);
      const failing = parsed.suites.netduinoplus2.filter((c) => c.failure);
      expect(
        failing.map((c) => c['@_name']),
        v.id,
      ).toEqual([v.id]);
      expect(failing[0].failure!['@_message']).toMatch(/measured .*, limit /);
      expect(parsed.failures).toBeGreaterThanOrEqual(1);
      const text = readFileSync(md, 'utf8');
      expect(text).toMatch(/^### tinyforge check: ❌ FAIL/);
      expect(text).toContain(`- \`${v.id}\` on netduinoplus2: `);
      expect(text).toMatch(new RegExp(`\\| netduinoplus2 \\| [^|]+ \\|.*\\| ❌ FAIL \\|`));
    }
  });

  it('host agreement as a same-class share: 90% of windows fail a 95% limit and pass an 85% one', async () => {
    const file = violations().find((v) => v.id === 'agreement')!.measuredFile!();
    expect((await check(['--measured', file, '--agreement', '95%'])).code).toBe(1);
    const r = await check(['--measured', file, '--agreement', '0.85']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('target logits [1, 2]');
  });
});

describe('--baseline', () => {
  /** A baseline 100 B smaller in model flash, 1% fewer instructions and 0.5 pt more accurate. */
  function baseline(): string {
    return editedMeasurements('baseline.json', (r) => {
      for (const b of r.boards) {
        b.figures.modelFlash -= 100;
        b.figures.instructions /= 1.01;
        b.figures.accuracy += 0.005;
      }
    });
  }

  it('shows the deltas and passes within the tolerances', async () => {
    const r = await check([
      '--measured',
      measured,
      '--baseline',
      baseline(),
      '--tolerance',
      'model-flash=128',
      'instructions=2%',
      'accuracy=1pt',
      '--markdown',
      join(dir, 'base.md'),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^netduinoplus2\s+model flash\s+[\d,]+ B\s+-\s+\+100 B\s+-$/m);
    expect(r.out).toMatch(/^netduinoplus2\s+model flash vs baseline\s+\+100 B \(.*\)\s+<= \+128 B\s+pass$/m);
    expect(r.out).toMatch(/^netduinoplus2\s+on-target accuracy\s+.*-0\.50 pt\s+-$/m);
    expect(r.out).toMatch(/^mps2-an386\s+instructions\s+.*\(\+1\.0%\)\s+-$/m);
    expect(r.out).toMatch(/^mps2-an386\s+firmware flash vs baseline\s+±0 B .*pass$/m);
    expect(readFileSync(join(dir, 'base.md'), 'utf8')).toContain('| vs baseline |');
  });

  it('fails only the figures beyond their tolerance, by name', async () => {
    const file = baseline();
    const r = await check([
      '--measured',
      measured,
      '--baseline',
      file,
      '--tolerance',
      'modelFlash=64',
      'instructions=2%',
      'accuracy=1pt',
      '--junit',
      join(dir, 'base.xml'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('baseline:model-flash on netduinoplus2 (+100 B');
    expect(r.err).not.toMatch(/baseline:(instructions|accuracy)/);
    const failing = readJunit(join(dir, 'base.xml')).suites['mps2-an386'].filter((c) => c.failure);
    expect(failing.map((c) => c['@_name'])).toEqual(['baseline:model-flash']);
    // Without tolerances every regression fails.
    const strict = await check(['--measured', measured, '--baseline', file]);
    expect(strict.code).toBe(1);
    for (const id of ['accuracy', 'model-flash', 'instructions'])
      expect(strict.err).toContain(`baseline:${id} on mps2-an386`);
    expect(strict.err).not.toContain('baseline:total-flash');
  });
});

describe('the configuration file', () => {
  it('./tinyforge.check.json is read without --config; a flag overrides its field', async () => {
    const here = tempDir('tf-check-cwd-');
    writeFileSync(
      join(here, 'tinyforge.check.json'),
      JSON.stringify({ thresholds: { minAccuracy: 1, maxModelFlash: '1 MB' } }),
    );
    const cwd = process.cwd();
    process.chdir(here);
    try {
      const r = await check(['--measured', measured]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/failed: accuracy on netduinoplus2 .*limit >= 100\.00%/);
      const flag = await check(['--measured', measured, '--min-accuracy', '0']);
      expect(flag.code, flag.err).toBe(0);
      expect(flag.out).toMatch(/^netduinoplus2\s+model flash\s+[\d,]+ B\s+<= 1,048,576 B\s+pass$/m);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('usage and input errors keep their exit codes', () => {
  it('a bad limit, compression settings for a .tfm, an unknown class or board', async () => {
    const bad = await check(['--measured', measured, '--min-accuracy', '120%']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('thresholds.minAccuracy');
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ thresholds: { maxModelFlash: 'ten kB' } }));
    const inFile = await check(['--config', file, '--measured', measured]);
    expect(inFile.code).toBe(3);
    expect(inFile.err).toContain('thresholds.maxModelFlash');
    const tfm = await check([first.model.tfm, '--bits', '4', '--cache-dir', cache]);
    expect(tfm.code).toBe(2);
    expect(tfm.err).toContain('compression settings apply to a float model');
    const cls = await check(['--measured', measured, '--min-class-accuracy', 'SWIMMING=0.5']);
    expect(cls.code).toBe(2);
    expect(cls.err).toContain("'SWIMMING', not a class of the model");
    const board = await check([first.model.tfm, '--board', 'no-such-board', '--cache-dir', cache]);
    expect(board.code).toBe(2);
    expect(board.err).toContain("unknown board 'no-such-board'");
  });
});
