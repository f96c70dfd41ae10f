// The generated example recording set (README "Your own recordings", `tinyforge data example`):
// deterministic, one CSV per session with the documented columns, ~100 Hz with jitter and gaps,
// per-sample labels that change inside sessions, and a description that windows it.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXAMPLE_CHANNELS,
  EXAMPLE_CLASSES,
  EXAMPLE_COLUMNS,
  EXAMPLE_DESCRIPTION_FILE,
  examplePlan,
  sessionFileName,
  writeExampleRecordings,
} from '../../src/data/generateRecordings.js';
import { classCounts } from '../../src/data/dataset.js';
import { loadDatasetWithReport } from '../../src/data/load.js';
import { tempDir } from '../helpers/temp.js';

const SMALL = { subjects: 6, sessionsPerSubject: 2, segmentSeconds: [12, 20] as [number, number] };

interface Parsed {
  header: string[];
  time: number[];
  values: number[][]; // per row, the 6 channels
  labels: string[];
}

function parseCsv(path: string): Parsed {
  const lines = readFileSync(path, 'latin1').split('\n');
  expect(lines.pop()).toBe(''); // newline-terminated
  const header = lines[0].split(',');
  const out: Parsed = { header, time: [], values: [], labels: [] };
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(',');
    if (f.length !== header.length) throw new Error(`${path}:${i + 1}: ${f.length} fields`);
    out.time.push(Number(f[0]));
    out.values.push(f.slice(1, 7).map(Number));
    out.labels.push(f[7]);
  }
  return out;
}

describe('writeExampleRecordings', () => {
  const dir = tempDir('tf-rec-');
  const a = writeExampleRecordings(join(dir, 'a'), { ...SMALL, seed: 3 });
  const parsed = a.files.map(parseCsv);

  it('is deterministic for a seed and differs between seeds', () => {
    const b = writeExampleRecordings(join(dir, 'b'), { ...SMALL, seed: 3 });
    const c = writeExampleRecordings(join(dir, 'c'), { ...SMALL, seed: 4 });
    expect(b.files.map((f) => basename(f))).toEqual(a.files.map((f) => basename(f)));
    for (let i = 0; i < a.files.length; i++)
      expect(readFileSync(b.files[i]).equals(readFileSync(a.files[i]))).toBe(true);
    expect(readFileSync(b.description, 'utf8')).toBe(readFileSync(a.description, 'utf8'));
    expect(readFileSync(c.files[0]).equals(readFileSync(a.files[0]))).toBe(false);
  });

  it('writes one CSV per session named by subject and session, and the description, nothing else', () => {
    const names = a.files.map((f) => basename(f));
    expect(names.slice(0, 3)).toEqual(['s01_session1.csv', 's01_session2.csv', 's02_session1.csv']);
    expect(names).toHaveLength(SMALL.subjects * SMALL.sessionsPerSubject);
    expect(a.description).toBe(join(dir, 'a', EXAMPLE_DESCRIPTION_FILE));
    expect(readdirSync(join(dir, 'a')).sort()).toEqual([...names, EXAMPLE_DESCRIPTION_FILE].sort());
    expect(sessionFileName(7, 2, 24)).toBe('s07_session2.csv');
    expect(sessionFileName(7, 2, 240)).toBe('s007_session2.csv');
  });

  it('has the documented columns: time in s, 6 finite channels (g, rad/s) with 4 decimals, a label', () => {
    expect(EXAMPLE_COLUMNS).toEqual(['time', ...EXAMPLE_CHANNELS, 'activity']);
    const text = readFileSync(a.files[0], 'latin1');
    expect(text.split('\n')[1]).toMatch(/^\d+\.\d{4}(,-?\d+\.\d{4}){6},[a-z]+$/);
    const classes = new Set<string>(EXAMPLE_CLASSES);
    for (const p of parsed) {
      expect(p.header).toEqual([...EXAMPLE_COLUMNS]);
      expect(p.values.filter((row) => !row.every(Number.isFinite))).toEqual([]);
      expect(p.labels.filter((l) => !classes.has(l))).toEqual([]);
    }
  });

  it('samples at ~100 Hz with jitter, strictly increasing, with a gap in some sessions', () => {
    let gaps = 0;
    const periods: number[] = [];
    for (const p of parsed) {
      expect(p.time[0]).toBeGreaterThanOrEqual(0);
      for (let i = 1; i < p.time.length; i++) {
        const dt = p.time[i] - p.time[i - 1];
        if (!(dt > 0)) expect.fail(`time ${p.time[i]} after ${p.time[i - 1]}`);
        if (dt > 0.25) gaps++;
        else periods.push(dt);
      }
    }
    periods.sort((x, y) => x - y);
    const median = periods[periods.length >> 1];
    expect(median).toBeGreaterThan(0.0098);
    expect(median).toBeLessThan(0.0102);
    expect(periods[0]).toBeLessThan(0.009); // jitter
    expect(periods[periods.length - 1]).toBeGreaterThan(0.011);
    expect(periods[periods.length - 1]).toBeLessThan(0.02); // jitter, not a gap
    expect(gaps).toBeGreaterThan(0);
    expect(gaps).toBeLessThan(parsed.length);
  });

  it('labels every sample; activities change inside each session; every subject does all five', () => {
    const plan = examplePlan({ ...SMALL, seed: 3 });
    const perSubject = new Map<number, Set<string>>();
    parsed.forEach((p, i) => {
      const changes = p.labels.filter((l, k) => k > 0 && l !== p.labels[k - 1]).length;
      expect(changes).toBe(plan[i].segments.length - 1);
      expect(changes).toBeGreaterThan(0);
      const s = perSubject.get(plan[i].subject) ?? new Set<string>();
      for (const l of p.labels) s.add(l);
      perSubject.set(plan[i].subject, s);
      // Segment lengths as planned (within a sample or two; a gap removes rows, not time).
      const seconds = plan[i].segments.reduce((t, g) => t + g.seconds, 0);
      expect(p.time[p.time.length - 1]).toBeGreaterThan(seconds - 0.1);
      expect(p.time[p.time.length - 1]).toBeLessThan(seconds + 0.1);
    });
    expect(perSubject.size).toBe(SMALL.subjects);
    for (const s of perSubject.values()) expect([...s].sort()).toEqual([...EXAMPLE_CLASSES].sort());
  });

  it('looks like a wrist IMU: ~1 g at rest, arm swing when walking, more when running', () => {
    const byClass = new Map<string, { g: number[]; gyro: number[] }>();
    for (const p of parsed)
      p.values.forEach((v, i) => {
        const e = byClass.get(p.labels[i]) ?? { g: [], gyro: [] };
        e.g.push(Math.hypot(v[0], v[1], v[2]));
        e.gyro.push(Math.hypot(v[3], v[4], v[5]));
        byClass.set(p.labels[i], e);
      });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
    for (const c of ['sitting', 'standing']) {
      expect(mean(byClass.get(c)!.g)).toBeGreaterThan(0.95);
      expect(mean(byClass.get(c)!.g)).toBeLessThan(1.05);
    }
    const gyro = (c: string) => mean(byClass.get(c)!.gyro);
    expect(gyro('walking')).toBeGreaterThan(3 * gyro('standing'));
    expect(gyro('running')).toBeGreaterThan(1.5 * gyro('walking'));
    expect(std(byClass.get('running')!.g)).toBeGreaterThan(2 * std(byClass.get('walking')!.g));
    // Road vibration: sample-to-sample change of |acc| well above that of sitting still.
    const roughness = (c: string) => {
      const g = byClass.get(c)!.g;
      return mean(g.slice(1).map((x, i) => Math.abs(x - g[i])));
    };
    expect(roughness('cycling')).toBeGreaterThan(2 * roughness('sitting'));
  });

  it('writes a description of at most 20 lines', () => {
    const text = readFileSync(a.description, 'utf8');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(20);
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  });

  it('loads through its description: 2 s windows at 50 Hz, 6 channels, all five classes in every split', () => {
    const { dataset: ds, report } = loadDatasetWithReport(a.description, { cache: false });
    expect(ds.kind).toBe('recordings');
    expect(ds.classNames).toEqual([...EXAMPLE_CLASSES]);
    expect(ds.channelNames).toEqual([...EXAMPLE_CHANNELS]);
    expect(ds.channelUnits).toEqual(['g', 'g', 'g', 'rad/s', 'rad/s', 'rad/s']);
    expect(ds.rateHz).toBe(50);
    for (const set of [ds.train, ds.val!, ds.test]) {
      expect(set.steps).toBe(100);
      expect(set.channels).toBe(6);
      for (const n of classCounts(set, EXAMPLE_CLASSES.length)) expect(n).toBeGreaterThan(0);
    }
    // Subjects from the file names, each in one split; every gap found and split at.
    expect(ds.subjectNames).toEqual(['01', '02', '03', '04', '05', '06']);
    const splitOf = new Map<number, string>();
    for (const name of ['train', 'val', 'test'] as const)
      for (const s of ds[name]!.subjects!) {
        expect(splitOf.get(s) ?? name).toBe(name);
        splitOf.set(s, name);
      }
    const gapsWritten = parsed.reduce(
      (n, p) => n + p.time.filter((t, i) => i > 0 && t - p.time[i - 1] > 0.25).length,
      0,
    );
    expect((report as unknown as { gaps: { count: number } }).gaps.count).toBe(gapsWritten);
  });

  it('takes options given as undefined (an absent CLI flag) as the defaults', () => {
    const plan = examplePlan({ subjects: undefined, seed: undefined, sessionsPerSubject: undefined });
    expect(plan).toEqual(examplePlan());
    expect(plan).toHaveLength(24 * 2);
    expect(plan[plan.length - 1].file).toBe('s24_session2.csv');
  });

  it('refuses a folder holding other CSV files (the description would read them) and rewrites its own', () => {
    const d = join(dir, 'stale');
    writeExampleRecordings(d, { ...SMALL, subjects: 7 });
    expect(() => writeExampleRecordings(d, SMALL)).toThrow(
      /s07_session1.csv, s07_session2.csv\); its description/,
    );
    const again = writeExampleRecordings(join(dir, 'a'), { ...SMALL, seed: 3 });
    expect(readFileSync(again.files[0]).equals(readFileSync(a.files[0]))).toBe(true);
  });

  it('rejects options that cannot give every subject every activity', () => {
    expect(() => writeExampleRecordings(join(dir, 'x'), { sessionsPerSubject: 1 })).toThrow(/every activity/);
    expect(() => writeExampleRecordings(join(dir, 'x'), { subjects: 0 })).toThrow(/subjects/);
  });
});
