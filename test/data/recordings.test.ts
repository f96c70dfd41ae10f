// Recordings described by a dataset description: several rates with jitter and gaps resampled to one,
// windows that never span a gap or (by default) a label change, derived channels, splits, the report,
// the cache. Every recording is generated here (test/data/recordingFixtures.ts).
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WindowSet } from '../../src/data/dataset.js';
import { inspectDataset, loadDataset, loadDatasetWithReport, prepareData } from '../../src/data/load.js';
import { loadRecordings, scanRecordings } from '../../src/data/recordings/index.js';
import { tempDir } from '../helpers/temp.js';
import { CODES, recordingHeader, recordingRows, writeJson, writeRecording } from './recordingFixtures.js';
import { writeRecordingCsv } from '../../src/data/recordings/writeCsv.js';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const at = (s: WindowSet, i: number, t: number, c: number) => s.x[(i * s.steps + t) * s.channels + c];
const sets = (ds: { train: WindowSet; val?: WindowSet; test: WindowSet }) =>
  [ds.train, ds.val, ds.test].filter((s): s is WindowSet => !!s);

let root: string;
beforeAll(() => {
  root = tempDir('tf-rec-');
  process.env.TINYFORGE_CACHE = join(root, 'cache');
});

const RATES = [50, 100, 200];
const RUNS: [string, number][] = [
  ['walk', 8],
  ['run', 6],
  ['sit', 7],
  ['stand', 5],
];

/** Six subjects, two sessions each, at 50/100/200 Hz with 10% jitter; every session 2 has a gap. */
function multiRateSet(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'rec'), { recursive: true });
  for (let s = 1; s <= 6; s++)
    for (const session of [1, 2]) {
      const runs = s % 2 ? RUNS : [...RUNS].reverse();
      writeRecording(join(dir, 'rec', `S0${s}_s${session}.csv`), {
        rate: RATES[(s + session) % 3],
        runs,
        jitter: 0.1,
        gaps: session === 2 ? [{ after: 10, seconds: 1.5 }] : [],
        seed: s * 10 + session,
        t0: 10 * s,
      });
    }
  return writeJson(dir, 'data.json', {
    sources: 'rec/*.csv',
    fileName: '(?<subject>S\\d+)_s(?<session>\\d+)\\.csv$',
    channels: [{ name: 'ramp', unit: 'm' }, { name: 'down', unit: 'm' }, { name: 'flat', unit: 'g' }, 'code'],
    columns: { time: 't', label: 'label' },
    time: { resample: 50 },
    windows: { length: 50, hop: 25 },
    derived: [{ name: 'mag', magnitude: ['ramp', 'down', 'flat'] }],
    split: { by: 'subject', test: 0.34, val: 0.17, seed: 3 },
  });
}

describe('recordings: CSV at several rates, resampled', () => {
  let path: string;
  beforeAll(() => {
    path = multiRateSet('multi');
  });

  it('gives windows at the target rate, never across a gap or a label change', () => {
    const { dataset: ds, report } = loadRecordings(path, { cache: false });
    expect(ds.kind).toBe('recordings');
    expect(ds.rateHz).toBe(50);
    expect(ds.classNames).toEqual(['run', 'sit', 'stand', 'walk']);
    expect(ds.channelNames).toEqual(['ramp', 'down', 'flat', 'code', 'mag']);
    expect(ds.channelUnits).toEqual(['m', 'm', 'g', '', 'm']);
    for (const s of sets(ds)) {
      expect(s.steps).toBe(50);
      expect(s.channels).toBe(5);
      for (let i = 0; i < s.n; i++) {
        // ramp = 2t + 1 and down = -t within a segment: consecutive samples at 50 Hz differ by exactly
        // 0.04 and -0.02; a window across a gap would break `down`, another rate both.
        for (let t = 1; t < s.steps; t++) {
          expect(Math.abs(at(s, i, t, 0) - at(s, i, t - 1, 0) - 0.04)).toBeLessThan(2e-4);
          expect(Math.abs(at(s, i, t, 1) - at(s, i, t - 1, 1) + 0.02)).toBeLessThan(2e-4);
        }
        expect(at(s, i, 49, 0) - at(s, i, 0, 0)).toBeCloseTo(1.96, 3);
        expect(at(s, i, 25, 3)).toBe(CODES.indexOf(ds.classNames[s.y[i]]));
        const [r, d, f] = [at(s, i, 7, 0), at(s, i, 7, 1), at(s, i, 7, 2)];
        expect(at(s, i, 7, 4)).toBeCloseTo(Math.hypot(r, d, f), 2);
      }
    }
    expect(report.windows.dropped['label change inside the window']).toBeGreaterThan(0);
    expect(report.windows.kept).toBe(ds.train.n + ds.val!.n + ds.test.n);
  });

  it('reports the rate found per file, gaps and segments', () => {
    const { report } = loadRecordings(path, { cache: false });
    expect(report.files).toHaveLength(12);
    for (const f of report.files) {
      const [, s, session] = /S0(\d)_s(\d)/.exec(f.path)!.map(Number);
      expect(f.subject).toBe(`S0${s}`);
      expect(f.session).toBe(String(session));
      expect(f.rateFrom).toBe('timestamps');
      expect(Math.abs(f.rateHz! / RATES[(s + session) % 3] - 1)).toBeLessThan(0.03);
      expect(f.gaps).toBe(session === 2 ? 1 : 0);
      expect(f.segments).toBe(session === 2 ? 2 : 1);
      expect(f.rows).toBe(26 * RATES[(s + session) % 3]);
    }
    expect(report.gaps.count).toBe(6);
    expect(report.gaps.seconds).toBeGreaterThan(6 * 1.4);
    expect(report.gaps.first[0]).toMatchObject({ file: 'rec/S01_s2.csv' });
    expect(report.rateHz).toBe(50);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('splits by whole subjects with the seed, and prepareData uses the validation split', () => {
    const { dataset: ds, report } = loadRecordings(path, { cache: false });
    const subjectsOf = (s: WindowSet) => new Set(Array.from(s.subjects!, (id) => ds.subjectNames![id - 1]));
    const [tr, va, te] = [subjectsOf(ds.train), subjectsOf(ds.val!), subjectsOf(ds.test)];
    expect([tr.size, va.size, te.size]).toEqual([3, 1, 2]);
    for (const s of va) expect(tr.has(s) || te.has(s)).toBe(false);
    for (const s of te) expect(tr.has(s)).toBe(false);
    expect(report.splits.test.subjects.sort()).toEqual([...te].sort());
    for (const name of ['train', 'val', 'test'] as const) {
      const counts = report.splits[name]!.classes;
      expect(Object.keys(counts)).toEqual(ds.classNames);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(ds[name]!.n);
    }
    const p = prepareData(ds);
    expect(p.train.n).toBe(ds.train.n);
    expect(p.val.n).toBe(ds.val!.n);
    expect(p.valSubjects).toEqual([...new Set(ds.val!.subjects)].sort((a, b) => a - b));
    // Same seed, same split; another seed, another split.
    expect(loadRecordings(path, { cache: false }).report.splits.test.subjects).toEqual(
      report.splits.test.subjects,
    );
  });

  it('loads synchronously through loadDataset, caches, and a touched file invalidates the cache', () => {
    const first = loadDatasetWithReport(path);
    expect(first.dataset).not.toBeInstanceOf(Promise);
    const second = loadDatasetWithReport(path);
    expect(bytes(second.dataset.test.x).equals(bytes(first.dataset.test.x))).toBe(true);
    expect(bytes(second.dataset.val!.x).equals(bytes(first.dataset.val!.x))).toBe(true);
    expect(second.report).toEqual(first.report);
    expect(second.dataset.subjectNames).toEqual(first.dataset.subjectNames);
    expect(inspectDataset(path)).toEqual(first.report);
    expect(Array.from(loadDataset(path).train.y)).toEqual(Array.from(first.dataset.train.y));
    // Rewrite one file with fewer rows: a stale cache would keep the old window count.
    const f = join(root, 'multi', 'rec', 'S01_s1.csv');
    const spec = { rate: RATES[2], runs: RUNS.slice(0, 2), jitter: 0.1, t0: 10 };
    writeRecordingCsv(f, recordingHeader(spec), recordingRows(spec));
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const third = loadDatasetWithReport(path);
    expect(third.report.files.find((x) => x.path === 'rec/S01_s1.csv')!.rows).toBe(14 * 200);
  });

  it('streams windows to a sink without keeping them (scanRecordings)', () => {
    const p = multiRateSet('scan');
    let n = 0;
    const summary = scanRecordings(p, (x) => {
      expect(x.length).toBe(50 * 5);
      n++;
    });
    expect(summary.windows).toBe(n);
    let rows = 0;
    for (let s = 1; s <= 6; s++) for (const session of [1, 2]) rows += 26 * RATES[(s + session) % 3];
    expect(summary.rows).toBe(rows);
    expect(summary.channels).toEqual(['ramp', 'down', 'flat', 'code', 'mag']);
    expect(n).toBeGreaterThan(100);
  });
});

describe('recordings: splits by session and by lists', () => {
  it('by session: whole sessions per split, named subject/session; a train list leaves the rest out', () => {
    const path = multiRateSet('sessions');
    const d = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...d, split: { by: 'session', test: 0.25, val: 0.25, seed: 7 } }));
    const { report } = loadRecordings(path, { cache: false });
    const units = ['train', 'val', 'test'].flatMap((s) => report.splits[s as 'train']!.units!);
    expect(units.sort()).toEqual(
      ['S01', 'S02', 'S03', 'S04', 'S05', 'S06'].flatMap((s) => [`${s}/1`, `${s}/2`]).sort(),
    );
    expect(report.splits.test.units).toHaveLength(3);
    expect(report.splitBy).toBe('session');
    writeFileSync(
      path,
      JSON.stringify({
        ...d,
        split: { by: 'session', train: ['S01/1', 'S02/2'], val: ['S03/1'], test: ['S04/2'] },
      }),
    );
    const listed = loadRecordings(path, { cache: false });
    expect(listed.report.splits.train.units).toEqual(['S01/1', 'S02/2']);
    expect(listed.report.splits.train.subjects).toEqual(['S01', 'S02']);
    const perFile = Object.fromEntries(
      listed.report.files.map((f) => [`${f.subject}/${f.session}`, f.windows]),
    );
    const out = Object.entries(perFile)
      .filter(([u]) => !['S01/1', 'S02/2', 'S03/1', 'S04/2'].includes(u))
      .reduce((a, [, n]) => a + n, 0);
    expect(listed.report.windows.dropped['unit in no split']).toBe(out);
    expect(listed.report.windows.kept + out).toBe(listed.report.files.reduce((a, f) => a + f.windows, 0));
  });

  it('subject and session from columns: a change of subject starts a new segment; ISO timestamps', () => {
    const dir = join(root, 'columns');
    mkdirSync(dir, { recursive: true });
    const rows: (string | number)[][] = [];
    for (const who of ['ann', 'bob', 'cy'])
      for (let i = 0; i < 40; i++)
        rows.push([
          new Date(Date.UTC(2024, 0, 1, 12, 0, 0) + i * 100).toISOString(),
          i,
          who,
          i < 20 ? 'a' : 'b',
        ]);
    writeRecordingCsv(join(dir, 'all.csv'), ['when', 'v', 'who', 'act'], rows);
    const p = writeJson(dir, 'd.json', {
      sources: 'all.csv',
      channels: ['v'],
      columns: { time: 'when', label: 'act', subject: 'who' },
      time: { unit: 'iso' },
      windows: { length: 10 },
      split: { test: ['cy'], val: ['bob'] },
    });
    const { dataset: ds, report } = loadRecordings(p, { cache: false });
    expect(ds.rateHz).toBeCloseTo(10, 3);
    expect(report.files[0].segments).toBe(3);
    expect(report.files[0].gaps).toBe(0);
    expect([ds.train.n, ds.val!.n, ds.test.n]).toEqual([4, 4, 4]);
    expect(ds.subjectNames).toEqual(['ann', 'bob', 'cy']);
    expect(Array.from(ds.test.subjects!)).toEqual([3, 3, 3, 3]);
  });
});

describe('recordings: labels per window', () => {
  /** Two subjects, 10 Hz without timestamps: 30 samples 'walk' then 20 'run'. */
  function labelSet(name: string, windows: Record<string, unknown>): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const s of ['S1', 'S2'])
      writeRecordingCsv(
        join(dir, `${s}.csv`),
        ['v', 'activity'],
        Array.from({ length: 50 }, (_, i) => [i, i < 30 ? 'walk' : 'run']),
      );
    return writeJson(dir, 'd.json', {
      sources: '*.csv',
      fileName: '(?<subject>S\\d)\\.csv',
      channels: ['v'],
      columns: { label: 'activity' },
      time: { rate: 10 },
      windows: { length: 10, hop: 5, ...windows },
      classes: ['walk', 'run'],
      split: { test: ['S2'] },
    });
  }
  const labels = (p: string) => {
    const ds = loadRecordings(p, { cache: false }).dataset;
    return {
      y: Array.from(ds.test.y),
      first: Array.from({ length: ds.test.n }, (_, i) => at(ds.test, i, 0, 0)),
    };
  };

  it('center, last and majority (a tie goes to the earlier label), straddling windows kept', () => {
    expect(labels(labelSet('center', { label: 'center', mixed: 'keep' }))).toEqual({
      y: [0, 0, 0, 0, 0, 1, 1, 1, 1],
      first: [0, 5, 10, 15, 20, 25, 30, 35, 40],
    });
    expect(labels(labelSet('last', { label: 'last', mixed: 'keep' })).y).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(labels(labelSet('majority', { label: 'majority', mixed: 'keep' })).y).toEqual([
      0, 0, 0, 0, 0, 0, 1, 1, 1,
    ]);
  });

  it('drops windows that straddle a label change (the default) and counts them', () => {
    const p = labelSet('dropmixed', {});
    expect(labels(p).first).toEqual([0, 5, 10, 15, 20, 30, 35, 40]);
    const r = loadRecordings(p, { cache: false }).report;
    expect(r.windows.dropped['label change inside the window']).toBe(2);
    expect(r.windows.produced).toBe(18);
    expect(r.files[0].durationS).toBe(5);
  });
});

describe('recordings: classes, channels, formats', () => {
  it('renames, merges and drops classes; counts unknown labels dropped by the repair', () => {
    const dir = join(root, 'classes');
    mkdirSync(dir, { recursive: true });
    const runs: [string, number][] = [
      ['walk', 3],
      ['jog', 2],
      ['run', 2],
      ['transition', 1],
      ['sit', 2],
      ['walk', 2],
    ];
    for (const s of ['a', 'b', 'c'])
      writeRecording(join(dir, `${s}.csv`), { rate: 20, runs, seed: s.charCodeAt(0) });
    const p = writeJson(dir, 'd.json', {
      sources: ['a.csv', 'b.csv', 'c.csv'],
      channels: ['ramp', 'code'],
      columns: { time: 't', label: 'label', ignore: ['down', 'flat'] },
      windows: { length: 10 },
      classes: ['walk', 'run'],
      rename: { jog: 'run' },
      dropClasses: ['transition'],
      split: { by: 'file', test: ['c.csv'], val: ['b.csv'] },
      repair: { unknownLabel: 'drop' },
    });
    const { dataset: ds, report } = loadRecordings(p, { cache: false });
    expect(ds.classNames).toEqual(['walk', 'run']);
    expect(ds.rateHz).toBeCloseTo(20, 0);
    // Per file: walk 3 s + 2 s = 10 windows of 10 samples at 20 Hz; jog merged into run: 4 s = 8.
    expect(report.splits.test.classes).toEqual({ walk: 10, run: 8 });
    expect(report.splits.test.units).toEqual(['c.csv']);
    expect(report.windows.dropped['class dropped by the description']).toBe(3 * 2);
    expect(report.repairs.unknownLabel).toEqual({ rows: 3 * 40, windows: 3 * 4 });
    expect(report.windows.dropped['unknown label']).toBe(12);
    for (const s of sets(ds))
      for (let i = 0; i < s.n; i++) {
        const code = at(s, i, 5, 1);
        expect(s.y[i] === 0 ? code === CODES.indexOf('walk') : [1, 4].includes(code)).toBe(true);
      }
  });

  it('reads TSV with CRLF, quoted fields, millisecond timestamps, 9 channels, scale and channel order', () => {
    const dir = join(root, 'tsv');
    mkdirSync(dir, { recursive: true });
    const names = ['ax', 'ay', 'az', 'gx', 'gy', 'gz', 'mx', 'my', 'mz'];
    for (const s of ['p1', 'p2', 'p3']) {
      const lines = [['time_ms', ...names, 'activity', 'note'].join('\t')];
      for (let i = 0; i < 60; i++)
        lines.push(
          [i * 20, ...names.map((_, c) => c + i / 100), i < 30 ? 'lying down' : 'sitting', '"a\tb"'].join(
            '\t',
          ),
        );
      writeFileSync(join(dir, `${s}_x.tsv`), lines.join('\r\n') + '\r\n');
    }
    const p = writeJson(dir, 'd.json', {
      sources: '*.tsv',
      fileName: '^(?<subject>p\\d)_',
      channels: names.map((n) => (n === 'ax' ? { name: 'acc_x', column: 'ax', unit: 'g', scale: 0.5 } : n)),
      columns: { time: 'time_ms', label: 'activity', ignore: '*' },
      time: { unit: 'ms' },
      windows: { length: 10, hop: 10 },
      inputs: ['gz', 'acc_x', 'my'],
      split: { test: ['p3'], val: ['p2'] },
    });
    const ds = loadRecordings(p, { cache: false }).dataset;
    expect(ds.channelNames).toEqual(['gz', 'acc_x', 'my']);
    expect(ds.channelUnits).toEqual(['', 'g', '']);
    expect(ds.rateHz).toBeCloseTo(50, 6);
    expect(ds.classNames).toEqual(['lying down', 'sitting']);
    expect(ds.train.n).toBe(6);
    expect(at(ds.train, 1, 2, 0)).toBeCloseTo(5 + 12 / 100, 5);
    expect(at(ds.train, 1, 2, 1)).toBeCloseTo(0.5 * (0 + 12 / 100), 5);
    expect(at(ds.train, 1, 2, 2)).toBeCloseTo(7 + 12 / 100, 5);
  });
});
