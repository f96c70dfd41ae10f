// Already-windowed arrays: X [N, T, C], y [N] (ints or strings), optional subject [N], from three
// .npy files or one .npz (stored or deflated), through the same labels, channels and splits.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDatasetWithReport } from '../../src/data/load.js';
import { parseNpy, readNpy, writeNpy, writeNpz } from '../../src/data/recordings/npy.js';
import { tempDir } from '../helpers/temp.js';
import { writeJson } from './recordingFixtures.js';

let root: string;
beforeAll(() => {
  root = tempDir('tf-arr-');
  process.env.TINYFORGE_CACHE = join(root, 'cache');
});

const N = 24;
const T = 20;
const C = 3;
/** X[i, t, c] = i + t / 100 + c / 1000: every value says where it came from. */
const xValue = (i: number, t: number, c: number) => i + t / 100 + c / 1000;

function xArray<A extends Float32Array | Float64Array>(Ctor: new (n: number) => A, n = N): A {
  const x = new Ctor(n * T * C);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) x[(i * T + t) * C + c] = xValue(i, t, c);
  return x;
}

/** A .npy file as numpy writes it: header dict with spaces, padded to 64 bytes. */
function numpyStyle(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += ' '.repeat(64 - ((10 + dict.length + 1) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}

describe('NPY arrays', () => {
  it('parses numpy-written headers, text labels and rejects what it cannot read', () => {
    const f = new Float32Array([1.5, -2, 3.25, 4, 5, 6]);
    const a = parseNpy(numpyStyle('<f4', [2, 3], new Uint8Array(f.buffer)), 'a.npy');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([1.5, -2, 3.25, 4, 5, 6]);
    const text = Buffer.alloc(2 * 5 * 4);
    ['walk', 'sit'].forEach((s, i) =>
      [...s].forEach((ch, j) => text.writeUInt32LE(ch.codePointAt(0)!, (i * 5 + j) * 4)),
    );
    expect(parseNpy(numpyStyle('<U5', [2], text), 'y.npy').data).toEqual(['walk', 'sit']);
    expect(parseNpy(numpyStyle('|S4', [2], Buffer.from('walksit\0')), 'y.npy').data).toEqual(['walk', 'sit']);
    expect(() => parseNpy(numpyStyle('|O', [2], new Uint8Array(16)), 'o.npy')).toThrow(
      /o\.npy: dtype \|O is not supported/,
    );
    expect(() => parseNpy(numpyStyle('>f4', [1], new Uint8Array(4)), 'b.npy')).toThrow(/big-endian/);
    expect(() => parseNpy(numpyStyle('<f4', [2, 3], new Uint8Array(8)), 't.npy')).toThrow(
      /t\.npy: 8 data bytes for shape \(2, 3\)/,
    );
    expect(() => parseNpy(Buffer.from('hello world'), 'h.npy')).toThrow(/h\.npy: not a valid \.npy/);
  });

  it('reads 25 000 text labels (npyjs alone overflows the stack there)', () => {
    const dir = join(root, 'many');
    mkdirSync(dir, { recursive: true });
    const labels = Array.from({ length: 25_000 }, (_, i) => ['walking', 'sitting', 'cycling'][i % 3]);
    writeNpy(join(dir, 'y.npy'), labels, [labels.length]);
    expect(readNpy(join(dir, 'y.npy')).data).toEqual(labels);
  });

  it('three .npy files: float64 X, text y, integer subjects; classes found and sorted', () => {
    const dir = join(root, 'npy');
    mkdirSync(dir, { recursive: true });
    writeNpy(join(dir, 'X.npy'), xArray(Float64Array), [N, T, C]);
    writeNpy(
      join(dir, 'y.npy'),
      Array.from({ length: N }, (_, i) => ['sit', 'walk', 'run'][i % 3]),
      [N],
    );
    writeNpy(
      join(dir, 'subject.npy'),
      BigInt64Array.from({ length: N }, (_, i) => BigInt(1 + (i % 4))),
      [N],
    );
    const p = writeJson(dir, 'd.json', {
      sources: [{ x: 'X.npy', y: 'y.npy', subject: 'subject.npy' }],
      channels: [{ name: 'a', unit: 'g' }, 'b', { name: 'c', scale: 2 }],
      derived: [{ name: 'ab', magnitude: ['a', 'b'] }],
      time: { rate: 50 },
      split: { test: ['4'], val: ['3'] },
    });
    const { dataset: ds, report } = loadDatasetWithReport(p, { cache: false });
    expect(ds.classNames).toEqual(['run', 'sit', 'walk']);
    expect(ds.channelNames).toEqual(['a', 'b', 'c', 'ab']);
    expect(ds.rateHz).toBe(50);
    expect(ds.subjectNames).toEqual(['1', '2', '3', '4']);
    expect([ds.train.n, ds.val!.n, ds.test.n]).toEqual([12, 6, 6]);
    // Train holds windows 0, 1, 4, 5, 8, 9, ... (subjects 1 and 2) in order.
    const at = (i: number, t: number, c: number) => ds.train.x[(i * T + t) * 4 + c];
    expect(at(2, 7, 0)).toBeCloseTo(xValue(4, 7, 0), 5);
    expect(at(2, 7, 2)).toBeCloseTo(2 * xValue(4, 7, 2), 5);
    expect(at(2, 7, 3)).toBeCloseTo(Math.hypot(xValue(4, 7, 0), xValue(4, 7, 1)), 4);
    expect(ds.classNames[ds.train.y[2]]).toBe('walk');
    expect(report.files).toMatchObject([{ path: 'X.npy', format: 'npy', rows: N, windows: N, rateHz: 50 }]);
    expect(report.splits.test.subjects).toEqual(['4']);
  });

  it('.npz stored and deflated, integer labels indexing classes, subjects from file names, merged classes', () => {
    const dir = join(root, 'npz');
    mkdirSync(dir, { recursive: true });
    for (const [k, s] of ['S1', 'S2', 'S3'].entries()) {
      const y = BigInt64Array.from({ length: N }, (_, i) => BigInt(i % 3));
      writeNpz(
        join(dir, `${s}.npz`),
        { X: { data: xArray(Float32Array), shape: [N, T, C] }, y: { data: y, shape: [N] } },
        k === 1,
      );
    }
    const p = writeJson(dir, 'd.json', {
      sources: '*.npz',
      fileName: '(?<subject>S\\d)\\.npz$',
      channels: ['a', 'b', 'c'],
      inputs: ['c', 'a'],
      windows: { length: T },
      arrays: { labels: ['still', 'walk', 'jog'] },
      classes: ['still', 'walk'],
      rename: { jog: 'walk' },
      split: { test: ['S2'], seed: 1 },
    });
    const { dataset: ds, report } = loadDatasetWithReport(p);
    // Labels 0, 1, 2 are still, walk, jog; jog is renamed to walk: both count as walk.
    expect(report.splits.test.classes).toEqual({ still: 8, walk: 16 });
    expect(ds.classNames).toEqual(['still', 'walk']);
    expect(ds.train.n).toBe(2 * N);
    expect(ds.test.x[(5 * T + 3) * 2 + 0]).toBeCloseTo(xValue(5, 3, 2), 5);
    expect(ds.test.x[(5 * T + 3) * 2 + 1]).toBeCloseTo(xValue(5, 3, 0), 5);
  });

  it('rejects windows of another length than windows.length', () => {
    const dir = join(root, 'len');
    mkdirSync(dir, { recursive: true });
    writeNpz(join(dir, 'a.npz'), {
      X: { data: xArray(Float32Array), shape: [N, T, C] },
      y: { data: new Int32Array(N), shape: [N] },
    });
    const p = writeJson(dir, 'd.json', {
      sources: 'a.npz',
      windows: { length: 128 },
      split: { by: 'file', test: 0.5 },
    });
    expect(() => loadDatasetWithReport(p)).toThrow(/a\.npz: windows of 20 samples, windows\.length says 128/);
  });
});
