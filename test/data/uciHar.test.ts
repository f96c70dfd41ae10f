// The UCI HAR loader: original layout plain and gzipped, the binary cache, errors naming file and
// line, and (on the real data set) the official counts.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAR_CLASSES } from '../../src/data/dataset.js';
import { loadUciHar, parseUciHar } from '../../src/data/uciHar.js';
import { TinyforgeError } from '../../src/util/errors.js';

const FIXTURE = resolve(__dirname, '../fixtures/uci-har-mini');
const userCache = process.env.TINYFORGE_CACHE;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tf-uci-'));
  process.env.TINYFORGE_CACHE = join(tmp, 'cache');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A private copy of the fixture; `gzip` compresses every .txt file. */
function copyFixture(name: string, gzip = false): string {
  const dir = join(tmp, name);
  cpSync(FIXTURE, dir, { recursive: true });
  if (gzip) {
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.txt')) {
          writeFileSync(`${p}.gz`, gzipSync(readFileSync(p)));
          unlinkSync(p);
        }
      }
    };
    walk(dir);
  }
  return dir;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const inertial = (dir: string, split: string, ch: string) =>
  join(dir, 'UCI HAR Dataset', split, 'Inertial Signals', `${ch}_${split}.txt`);

function expectInputError(f: () => unknown, ...parts: (string | RegExp)[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TinyforgeError);
  expect((err as TinyforgeError).category).toBe('input');
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('UCI HAR fixture (original layout)', () => {
  it('loads plain text: counts, channel order, labels 0-based, subjects, class names', () => {
    const ds = loadUciHar(copyFixture('plain'), { cache: false });
    expect(ds.train.n).toBe(6);
    expect(ds.test.n).toBe(3);
    expect(ds.train.steps).toBe(128);
    expect(ds.train.channels).toBe(9);
    expect(ds.classNames).toEqual([...HAR_CLASSES]);
    expect(Array.from(ds.train.y)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ds.train.subjects!.every((s) => s >= 1 && s <= 4)).toBe(true);
    // First value of total_acc_x (channel 6) and body_gyro_z (channel 5) of window 0, read from the text.
    const first = (ch: string) =>
      Number(
        readFileSync(inertial(FIXTURE, 'train', ch), 'latin1')
          .trim()
          .split(/\s+/)[0],
      );
    expect(ds.train.x[6]).toBeCloseTo(first('total_acc_x'), 6);
    expect(ds.train.x[5]).toBeCloseTo(first('body_gyro_z'), 6);
    // Step 1 of window 1, channel 0: line 2, value 2.
    const line2 = readFileSync(inertial(FIXTURE, 'train', 'body_acc_x'), 'latin1')
      .split('\r\n')[1]
      .trim()
      .split(/\s+/);
    expect(ds.train.x[(1 * 128 + 1) * 9 + 0]).toBeCloseTo(Number(line2[1]), 6);
  });

  it('gives the same windows from .txt.gz files, and from the inner directory path', () => {
    const a = loadUciHar(copyFixture('plain2'), { cache: false });
    const gz = copyFixture('gz', true);
    const b = loadUciHar(gz, { cache: false });
    const c = loadUciHar(join(gz, 'UCI HAR Dataset'), { cache: false });
    expect(bytes(b.train.x).equals(bytes(a.train.x))).toBe(true);
    expect(Array.from(c.test.y)).toEqual(Array.from(a.test.y));
  });

  it('caches: the second load reads the cache and returns identical data; a changed file invalidates it', () => {
    const dir = copyFixture('cached');
    const first = loadUciHar(dir);
    const cacheFiles = readdirSync(join(tmp, 'cache')).filter((f) => f.startsWith('uci-har-'));
    expect(cacheFiles.length).toBeGreaterThan(0);
    const second = loadUciHar(dir);
    expect(bytes(second.test.x).equals(bytes(first.test.x))).toBe(true);
    expect(Array.from(second.train.subjects!)).toEqual(Array.from(first.train.subjects!));
    // Rewrite y_test with other (valid) labels: a stale cache would return the old ones.
    const y = join(dir, 'UCI HAR Dataset', 'test', 'y_test.txt');
    writeFileSync(y, '6\n6\n6\n');
    expect(Array.from(loadUciHar(dir).test.y)).toEqual([5, 5, 5]);
  });

  it('names a missing file', () => {
    const dir = copyFixture('missing');
    unlinkSync(inertial(dir, 'test', 'body_gyro_y'));
    expectInputError(() => loadUciHar(dir), /body_gyro_y_test\.txt/, /missing/);
  });

  it('names file and line of a ragged line', () => {
    const dir = copyFixture('ragged');
    const p = inertial(dir, 'train', 'total_acc_z');
    const lines = readFileSync(p, 'latin1').split('\r\n');
    lines[2] = lines[2].replace(/\s+\S+\s*$/, ''); // drop the last value of line 3
    writeFileSync(p, lines.join('\r\n'));
    expectInputError(() => parseUciHar(dir), /total_acc_z_train\.txt:3:/, /expected 128 values, found 127/);
  });

  it('names file and line of a label out of range', () => {
    const dir = copyFixture('label');
    const p = join(dir, 'UCI HAR Dataset', 'train', 'y_train.txt');
    writeFileSync(p, '1\n2\n3\n7\n5\n6\n');
    expectInputError(() => parseUciHar(dir), /y_train\.txt:4:/, /7 is out of range 1\.\.6/);
  });

  it('names file and line of a NaN value (also when gzipped)', () => {
    const dir = copyFixture('nan', true);
    const p = `${inertial(dir, 'test', 'body_acc_y')}.gz`;
    const lines = gunzipSync(readFileSync(p)).toString('latin1').split('\r\n');
    const vals = lines[1].trim().split(/\s+/);
    vals[10] = 'NaN';
    lines[1] = '  ' + vals.join('  ');
    writeFileSync(p, gzipSync(Buffer.from(lines.join('\r\n'), 'latin1')));
    expectInputError(
      () => parseUciHar(dir),
      /body_acc_y_test\.txt\.gz:2:/,
      /value 11 \('NaN'\) is not a finite number/,
    );
  });

  it('rejects a directory that is not UCI HAR', () => {
    expectInputError(() => loadUciHar(tmp), /not a UCI HAR directory/);
    expectInputError(() => loadUciHar(join(tmp, 'nope')), /does not exist/);
  });
});

// The real data set: ../shared/data/uci-har next to the repository, or $UCI_HAR_DIR.
const realDir = process.env.UCI_HAR_DIR ?? resolve(__dirname, '../../../shared/data/uci-har');
const haveReal = existsSync(realDir);

describe('UCI HAR real data', () => {
  it.runIf(haveReal || process.env.CI === 'true')(
    'has the official counts, shapes, labels and subjects',
    () => {
      expect(haveReal, `UCI HAR not found at ${realDir} (set UCI_HAR_DIR)`).toBe(true);
      // The shared cache (parsed once, then fast), not this file's temporary one.
      if (userCache) process.env.TINYFORGE_CACHE = userCache;
      else delete process.env.TINYFORGE_CACHE;
      const ds = loadUciHar(realDir);
      expect(ds.train.n).toBe(7352);
      expect(ds.test.n).toBe(2947);
      for (const s of [ds.train, ds.test]) {
        expect(s.steps).toBe(128);
        expect(s.channels).toBe(9);
        expect(s.x.length).toBe(s.n * 128 * 9);
        expect(s.y.every((y) => y >= 0 && y < 6)).toBe(true);
        expect(s.subjects!.every((v) => v >= 1 && v <= 30)).toBe(true);
        expect(s.x.every((v) => Number.isFinite(v))).toBe(true);
      }
      // Official split is by subject: 21 training, 9 test subjects, none shared.
      const tr = new Set(ds.train.subjects);
      const te = new Set(ds.test.subjects);
      expect(tr.size).toBe(21);
      expect(te.size).toBe(9);
      expect([...te].some((s) => tr.has(s))).toBe(false);
      // total_acc_x is about +1 g (gravity) on average; body_acc has about zero mean.
      let tot = 0;
      let body = 0;
      for (let i = 0; i < ds.train.x.length; i += 9) {
        body += ds.train.x[i];
        tot += ds.train.x[i + 6];
      }
      const n = ds.train.x.length / 9;
      expect(tot / n).toBeGreaterThan(0.6);
      expect(Math.abs(body / n)).toBeLessThan(0.05);
    },
  );
});
