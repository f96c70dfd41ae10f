// Bad data and bad descriptions: each gives one TinyforgeError('input') that names the file and the
// line (or window, or JSON path); repairs the description allows are counted instead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load.js';
import { loadRecordings } from '../../src/data/recordings/index.js';
import { writeNpz } from '../../src/data/recordings/npy.js';
import { tempDir } from '../helpers/temp.js';
import {
  inputError,
  re,
  recordingHeader,
  recordingRows,
  writeJson,
  type RecordingSpec,
} from './recordingFixtures.js';

let root: string;
beforeAll(() => {
  root = tempDir('tf-recerr-');
  process.env.TINYFORGE_CACHE = join(root, 'cache');
});

const SPEC: RecordingSpec = {
  rate: 20,
  runs: [
    ['walk', 3],
    ['run', 3],
  ],
};

const BASE = {
  sources: '*.csv',
  fileName: '(?<subject>S\\d)\\.csv$',
  channels: ['ramp', 'down', 'flat'],
  columns: { time: 't', label: 'label', ignore: ['code'] },
  windows: { length: 10 },
  classes: ['walk', 'run'],
  split: { test: ['S3'] },
};

let count = 0;

/**
 * Three subjects S1..S3 at 20 Hz (walk 3 s, run 3 s); `edit` changes the text lines of S2.csv
 * (line k of the file is lines[k - 1]). Returns the description's path and S2's.
 */
function dataSet(
  edit: (lines: string[]) => void = () => undefined,
  description: Record<string, unknown> = {},
  everyFile: (lines: string[], subject: string) => void = () => undefined,
): { path: string; s2: string } {
  const dir = join(root, `set${count++}`);
  mkdirSync(dir, { recursive: true });
  for (const s of ['S1', 'S2', 'S3']) {
    const lines = [recordingHeader(SPEC).join(','), ...recordingRows(SPEC).map((r) => r.join(','))];
    everyFile(lines, s);
    if (s === 'S2') edit(lines);
    writeFileSync(join(dir, `${s}.csv`), lines.join('\n') + '\n');
  }
  return { path: writeJson(dir, 'd.json', { ...BASE, ...description }), s2: join(dir, 'S2.csv') };
}

/** Replaces field `col` (0 t, 1 ramp, 2 down, 3 flat, 4 code, 5 label) on line `line`. */
const setField = (line: number, col: number, value: string) => (lines: string[]) => {
  const f = lines[line - 1].split(',');
  f[col] = value;
  lines[line - 1] = f.join(',');
};

const load = (path: string) => () => loadRecordings(path, { cache: false });

describe('bad values name the file and the line', () => {
  it('a loads cleanly unedited (the cases below fail for their edit alone)', () => {
    const { dataset } = loadRecordings(dataSet().path, { cache: false });
    expect(dataset.train.n).toBe(24);
  });

  it('NaN, Inf and empty values', () => {
    for (const [v, what] of [
      ['NaN', /'NaN'/],
      ['-inf', /'-inf'/],
      ['Infinity', /'Infinity'/],
      ['1e999', /'1e999'/],
      ['', /is empty/],
      ['  ', /is empty/],
    ] as const) {
      const { path, s2 } = dataSet(setField(12, 1, v));
      inputError(load(path), re(`${s2}:12: column 'ramp'`), what, /NaN, Inf or missing/);
    }
  });

  it('unparsable numbers and timestamps', () => {
    const a = dataSet(setField(7, 2, '1,5'.replace(',', ';')));
    inputError(load(a.path), re(`${a.s2}:7: '1;5' in column 'down' is not a number`));
    const b = dataSet(setField(9, 0, 'noon'));
    inputError(load(b.path), re(`${b.s2}:9: timestamp 'noon' is not a finite number`));
  });

  it('missing and extra columns (line 1) and ragged rows', () => {
    const missing = dataSet((l) => (l[0] = l[0].replace('ramp', 'rampe')));
    inputError(load(missing.path), re(`${missing.s2}:1: column 'ramp' (channel ramp) is missing`), /rampe/);
    const extra = dataSet((l) => l.forEach((_, i) => (l[i] += i ? ',20.5' : ',temp')));
    inputError(load(extra.path), re(`${extra.s2}:1: column 'temp' not described`));
    const short = dataSet((l) => (l[21] = l[21].replace(/,[^,]*$/, '')));
    inputError(load(short.path), re(`${short.s2}:22: 5 fields, the header has 6 (ragged row)`));
    const long = dataSet((l) => (l[40] += ',1'));
    inputError(load(long.path), re(`${long.s2}:41: 7 fields, the header has 6`));
    const quote = dataSet((l) => (l[50] = l[50].replace(',walk', ',"walk')));
    inputError(load(quote.path), re(`${quote.s2}:`), /not valid CSV/);
  });

  it('unsorted and repeated timestamps', () => {
    const swapped = dataSet((l) => {
      const [a, b] = [l[29].split(','), l[30].split(',')];
      [a[0], b[0]] = [b[0], a[0]];
      l[29] = a.join(',');
      l[30] = b.join(',');
    });
    inputError(load(swapped.path), re(`${swapped.s2}:31: timestamp`), /is before the one on line 30/);
    const repeated = dataSet((l) => (l[40] = [l[39].split(',')[0], ...l[40].split(',').slice(1)].join(',')));
    inputError(load(repeated.path), re(`${repeated.s2}:41: timestamp`), /repeats the one on line 40/);
  });

  it('unknown labels, and an empty subject', () => {
    const a = dataSet(setField(25, 5, 'swim'));
    inputError(load(a.path), re(`${a.s2}:25: unknown label 'swim' (classes: walk, run)`));
    const b = dataSet(
      (l) => (l[32] = l[32].replace(/,S2$/, ',')),
      { fileName: undefined, columns: { ...BASE.columns, subject: 'who' } },
      (l, s) => l.forEach((_, i) => (l[i] += i === 0 ? ',who' : `,${s}`)),
    );
    inputError(load(b.path), re(`${b.s2}:33: empty subject`));
  });
});

describe('repairs the description allows are counted', () => {
  it('nan: drop-window drops the windows holding the row, and counts rows and windows', () => {
    const { path } = dataSet(
      (l) => {
        setField(12, 1, 'NaN')(l);
        setField(95, 3, '')(l);
      },
      { repair: { nan: 'drop-window' } },
    );
    const { dataset, report } = loadRecordings(path, { cache: false });
    expect(report.repairs.nan).toEqual({ rows: 2, windows: 2 });
    expect(report.windows.dropped['NaN, Inf or empty value']).toBe(2);
    expect(dataset.train.n).toBe(22);
    expect(dataset.train.x.every(Number.isFinite)).toBe(true);
  });

  it('unknownLabel: drop drops the windows holding the row', () => {
    const { path } = dataSet(setField(25, 5, 'swim'), { repair: { unknownLabel: 'drop' } });
    const { report } = loadRecordings(path, { cache: false });
    expect(report.repairs.unknownLabel).toEqual({ rows: 1, windows: 1 });
  });
});

describe('splits and rates that cannot work', () => {
  it('a class with no window in a split', () => {
    const { path } = dataSet();
    // S3 (the test subject) only walks.
    const walkOnly = { rate: 20, runs: [['walk', 4]] as [string, number][] };
    const lines = [recordingHeader(walkOnly).join(','), ...recordingRows(walkOnly).map((r) => r.join(','))];
    writeFileSync(join(path, '..', 'S3.csv'), lines.join('\n'));
    inputError(load(path), re(path), /class 'run' has no window in the test split \(subjects S3\)/);
  });

  it('a split with no subject, and list errors', () => {
    const a = dataSet(undefined, { sources: ['S1.csv', 'S2.csv'], split: { test: 0.3, val: 0.3 } });
    inputError(load(a.path), re(a.path), /split 'val' has no subject: the data has 2 \(S1, S2\)/);
    const b = dataSet(undefined, { split: { test: ['S4'] } });
    inputError(load(b.path), /split\.test\[0\]: no subject 'S4' in the data \(S1, S2, S3\)/);
    const c = dataSet(undefined, { split: { test: ['S3'], val: ['S3'] } });
    inputError(load(c.path), /split\.val\[0\]: 'S3' is in split\.test too/);
    const d = dataSet(undefined, { fileName: undefined });
    inputError(load(d.path), /S1\.csv: split\.by is 'subject' but no subject is known/);
  });

  it('files at other rates without time.resample, and a time.rate the timestamps contradict', () => {
    const { path } = dataSet();
    const fast = { ...SPEC, rate: 40 };
    const lines = [recordingHeader(fast).join(','), ...recordingRows(fast).map((r) => r.join(','))];
    writeFileSync(join(path, '..', 'S2.csv'), lines.join('\n'));
    inputError(load(path), /S2\.csv: its timestamps give 40\.00 Hz, the other files about 20\.00 Hz/);
    const b = dataSet(undefined, { time: { rate: 50 } });
    inputError(load(b.path), /S1\.csv: the timestamps give 20\.00 Hz .*time\.rate says 50 Hz/);
  });
});

describe('bad descriptions name the file and the JSON path', () => {
  const desc = (value: unknown, name = 'bad.json') => {
    const dir = join(root, `desc${count++}`);
    mkdirSync(dir, { recursive: true });
    return writeJson(dir, name, value);
  };

  it('schema errors', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ windows: { length: 10, hop: 0 } }, /windows\.hop: Too small/],
      [{ windows: { length: 10, label: 'mode' } }, /windows\.label: Invalid option/],
      [{ channels: ['ramp', { name: 'down', scale: 0 }] }, /channels\[1\]/],
      [{ colums: {} }, /Unrecognized key.*colums/],
      [{ split: { test: 1.5 } }, /split\.test/],
      [{ split: { test: 0.6, val: 0.5 } }, /split: the val and test fractions must add up to less than 1/],
      [{ fileName: 'S\\d' }, /fileName: needs a named group/],
      [{ fileName: '(?<subject>S[' }, /fileName: not a valid regular expression/],
      [{ inputs: ['ramp', 'speed'] }, /inputs\[1\]: 'speed' is neither a channel nor a derived channel/],
      [
        { derived: [{ name: 'm', magnitude: ['ramp', 'up'] }] },
        /derived\[0\]\.magnitude\[1\]: 'up' is not one of channels/,
      ],
      [{ channels: ['ramp', 'ramp'] }, /channels\[1\]: 'ramp' is named twice/],
      [{ classes: ['walk', 'run'], dropClasses: ['run'] }, /dropClasses\[0\]: 'run' is in classes too/],
      [
        { time: { resample: 50 }, columns: { label: 'label' } },
        /time\.resample: needs time\.rate or a timestamp column/,
      ],
    ];
    for (const [patch, msg] of cases) {
      const p = desc({ ...BASE, ...patch });
      inputError(() => loadDataset(p), re(`${p}: `), msg);
    }
  });

  it('not JSON, missing files and patterns that match nothing', () => {
    const dir = join(root, 'notjson');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'd.json'), '{ "sources": [ }');
    inputError(() => loadDataset(join(dir, 'd.json')), re(`${join(dir, 'd.json')} is not valid JSON`));
    inputError(() => loadDataset(join(dir, 'absent.json')), /cannot read data description/);
    const p = desc({ ...BASE, sources: ['nothing/*.csv'] });
    inputError(() => loadDataset(p), re(`${p}: sources[0]: 'nothing/*.csv' matches no file`));
    const q = desc({ ...BASE, sources: ['gone.csv'] });
    inputError(() => loadDataset(q), re(`${q}: sources[0]: file`), /gone\.csv does not exist/);
    const { path } = dataSet(undefined, { fileName: '(?<subject>P\\d)\\.csv$' });
    inputError(load(path), /fileName: S1\.csv does not match the pattern/);
  });
});

describe('bad arrays name the file and the window', () => {
  it('NaN in X, labels outside the classes, shapes', () => {
    const dir = join(root, 'npzbad');
    mkdirSync(dir, { recursive: true });
    const x = new Float32Array(4 * 10 * 3).fill(1);
    x[(2 * 10 + 5) * 3 + 1] = NaN;
    writeNpz(join(dir, 'a.npz'), {
      X: { data: x, shape: [4, 10, 3] },
      y: { data: new Int32Array([0, 1, 0, 1]), shape: [4] },
    });
    const p = writeJson(dir, 'd.json', {
      sources: 'a.npz',
      classes: ['walk', 'run'],
      split: { by: 'file', test: 0.5 },
    });
    inputError(() => loadDataset(p), /a\.npz: window 2: X\[2, 5, 1\] is NaN/);
    writeNpz(join(dir, 'b.npz'), {
      X: { data: new Float32Array(40 * 3), shape: [4, 10, 3] },
      y: { data: new Int32Array([0, 1, 2, 1]), shape: [4] },
    });
    const q = writeJson(dir, 'e.json', {
      sources: 'b.npz',
      classes: ['walk', 'run'],
      split: { by: 'file', test: 0.5 },
    });
    inputError(() => loadDataset(q), /b\.npz: window 2: label 2 is not an index 0\.\.1 of classes/);
    writeNpz(join(dir, 'c.npz'), {
      X: { data: new Float32Array(40), shape: [4, 10] },
      y: { data: new Int32Array(4), shape: [4] },
    });
    const r = writeJson(dir, 'f.json', { sources: 'c.npz', split: { by: 'file', test: 0.5 } });
    inputError(() => loadDataset(r), /c\.npz: X has shape \(4, 10\)/);
    writeFileSync(join(dir, 'd.npz'), 'not a zip');
    const s = writeJson(dir, 'g.json', { sources: 'd.npz', split: { by: 'file', test: 0.5 } });
    inputError(() => loadDataset(s), /d\.npz: not a readable \.npz/);
  });
});
