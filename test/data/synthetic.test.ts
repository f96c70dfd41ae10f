// The synthetic HAR generator: deterministic from its seed, shaped and scaled like UCI HAR, with
// the physical cues the brief asks for. (That a CNN learns it is tested in test/train/.)
import { describe, expect, it } from 'vitest';
import { HAR_CLASSES, classCounts, type WindowSet } from '../../src/data/dataset.js';
import { loadDataset, parseSyntheticSpec, prepareData } from '../../src/data/load.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { TinyforgeError } from '../../src/util/errors.js';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Mean of channel c over the windows of class k. */
function classChannelMean(s: WindowSet, k: number, c: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < s.n; i++) {
    if (s.y[i] !== k) continue;
    for (let t = 0; t < s.steps; t++) sum += s.x[(i * s.steps + t) * s.channels + c];
    n += s.steps;
  }
  return sum / n;
}

/** Mean per-window standard deviation of channel c over class k. */
function classChannelStd(s: WindowSet, k: number, c: number): number {
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.n; i++) {
    if (s.y[i] !== k) continue;
    let m = 0;
    for (let t = 0; t < s.steps; t++) m += s.x[(i * s.steps + t) * s.channels + c];
    m /= s.steps;
    let v = 0;
    for (let t = 0; t < s.steps; t++) v += (s.x[(i * s.steps + t) * s.channels + c] - m) ** 2;
    acc += Math.sqrt(v / s.steps);
    n++;
  }
  return acc / n;
}

describe('synthetic HAR', () => {
  const a = generateSynthetic({ seed: 5, train: 120, test: 60 });

  it('is deterministic: same seed same bytes, different seed different data', () => {
    const b = generateSynthetic({ seed: 5, train: 120, test: 60 });
    const c = generateSynthetic({ seed: 6, train: 120, test: 60 });
    expect(bytes(b.train.x).equals(bytes(a.train.x))).toBe(true);
    expect(bytes(b.test.x).equals(bytes(a.test.x))).toBe(true);
    expect(Array.from(b.train.subjects!)).toEqual(Array.from(a.train.subjects!));
    expect(bytes(c.train.x).equals(bytes(a.train.x))).toBe(false);
  });

  it('has the UCI HAR shape, classes, channel order and balanced labels, test subjects disjoint', () => {
    expect(a.train.n).toBe(120);
    expect(a.test.n).toBe(60);
    expect(a.train.steps).toBe(128);
    expect(a.train.channels).toBe(9);
    expect(a.classNames).toEqual([...HAR_CLASSES]);
    expect(a.channelNames.slice(0, 3)).toEqual(['body_acc_x', 'body_acc_y', 'body_acc_z']);
    expect(classCounts(a.train, 6)).toEqual([20, 20, 20, 20, 20, 20]);
    const tr = new Set(a.train.subjects);
    expect([...new Set(a.test.subjects)].some((s) => tr.has(s))).toBe(false);
    expect(a.train.x.every(Number.isFinite)).toBe(true);
  });

  it('total_acc = body_acc + gravity of 1 g', () => {
    const s = a.train;
    for (let i = 0; i < 5; i++) {
      let gx = 0;
      let gy = 0;
      let gz = 0;
      for (let t = 0; t < s.steps; t++) {
        const o = (i * s.steps + t) * 9;
        gx = s.x[o + 6] - s.x[o];
        gy = s.x[o + 7] - s.x[o + 1];
        gz = s.x[o + 8] - s.x[o + 2];
        expect(Math.hypot(gx, gy, gz)).toBeCloseTo(1, 4);
      }
    }
  });

  it('separates postures by gravity: laying clearly, sitting vs standing by a small tilt', () => {
    const big = generateSynthetic({ seed: 2, train: 600, test: 6 }).train;
    const [SIT, STAND, LAY] = [3, 4, 5];
    const gx = (k: number) => classChannelMean(big, k, 6);
    const gz = (k: number) => classChannelMean(big, k, 8);
    expect(gx(STAND)).toBeGreaterThan(0.9);
    expect(gx(LAY)).toBeLessThan(0.4);
    expect(gz(LAY)).toBeGreaterThan(0.8);
    // Sitting leans by ~12 degrees: z component of gravity differs by ~0.2 g, x barely.
    expect(gz(SIT) - gz(STAND)).toBeGreaterThan(0.1);
    expect(gz(SIT) - gz(STAND)).toBeLessThan(0.35);
  });

  it('walking activities move much more than postures, downstairs most', () => {
    const big = generateSynthetic({ seed: 3, train: 600, test: 6 }).train;
    const motion = (k: number) =>
      classChannelStd(big, k, 6) + classChannelStd(big, k, 7) + classChannelStd(big, k, 8);
    for (const walk of [0, 1, 2])
      for (const still of [3, 4, 5]) expect(motion(walk)).toBeGreaterThan(5 * motion(still));
    expect(motion(2)).toBeGreaterThan(motion(0));
    expect(motion(0)).toBeGreaterThan(motion(1));
  });

  it('parses synthetic specs and rejects bad ones', () => {
    expect(parseSyntheticSpec('synthetic')).toMatchObject({ seed: 1, train: 2000, test: 600 });
    expect(parseSyntheticSpec('synthetic:seed=4,train=60,test=30')).toMatchObject({
      seed: 4,
      train: 60,
      test: 30,
    });
    expect(parseSyntheticSpec('/data/uci')).toBeUndefined();
    expect(() => parseSyntheticSpec('synthetic:sed=4')).toThrow(TinyforgeError);
    const ds = loadDataset('synthetic:seed=4,train=60,test=30');
    expect(ds.spec).toBe('synthetic:seed=4,train=60,test=30,subjects=30');
    expect(bytes(loadDataset(ds.spec).train.x).equals(bytes(ds.train.x))).toBe(true);
  });

  it('splits validation by whole subjects and normalizes with training statistics only', () => {
    const p = prepareData(generateSynthetic({ seed: 9, train: 300, test: 60 }), { valFraction: 0.2 });
    const valSubjects = new Set(p.val.subjects);
    expect([...new Set(p.train.subjects)].some((s) => valSubjects.has(s))).toBe(false);
    expect(p.train.n + p.val.n).toBe(300);
    expect(p.val.n).toBeGreaterThanOrEqual(60);
    expect(p.valSubjects).toEqual([...valSubjects].sort((x, y) => x - y));
    // Normalized training data: per-channel mean 0, std 1 (within float error).
    for (let c = 0; c < 9; c++) {
      let m = 0;
      let v = 0;
      const n = p.train.n * 128;
      for (let i = c; i < p.train.x.length; i += 9) m += p.train.x[i];
      m /= n;
      for (let i = c; i < p.train.x.length; i += 9) v += (p.train.x[i] - m) ** 2;
      expect(Math.abs(m)).toBeLessThan(1e-4);
      expect(Math.sqrt(v / n)).toBeCloseTo(1, 3);
    }
    // Same options, same split.
    const q = prepareData(generateSynthetic({ seed: 9, train: 300, test: 60 }), { valFraction: 0.2 });
    expect(q.valSubjects).toEqual(p.valSubjects);
    // Given statistics (a trained model's) are used as they are.
    const norm = { mean: new Array(9).fill(1), std: new Array(9).fill(2) };
    const g = prepareData(generateSynthetic({ seed: 9, train: 300, test: 60 }), { normalization: norm });
    expect(g.normalization).toBe(norm);
    expect(g.test.x[0]).toBeCloseTo((q.dataset.test.x[0] - 1) / 2, 6);
  });
});
