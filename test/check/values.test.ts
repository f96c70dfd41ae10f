// The check configuration's values and merging, and the rows thresholds give, without a target.
import { describe, expect, it } from 'vitest';
import { mergeConfig, parseCheckConfig } from '../../src/check/config.js';
import { evaluateBoard } from '../../src/check/evaluate.js';
import type { BoardFigures } from '../../src/check/figures.js';
import { xmlEscape } from '../../src/check/junit.js';
import { AccuracySchema, BytesSchema, CountSchema, toleranceSchema } from '../../src/check/values.js';

const FIGURES: BoardFigures = {
  board: 'netduinoplus2',
  windows: 100,
  accuracy: 0.93,
  hostAccuracy: 0.93,
  perClass: [
    { class: 'a', windows: 50, accuracy: 0.96 },
    { class: 'b', windows: 50, accuracy: 0.9 },
    { class: 'c', windows: 0, accuracy: null },
  ],
  agreement: { bitExact: true, mismatching: 0, sameClass: 1 },
  modelFlash: 8316,
  totalFlash: 25068,
  modelRam: 9672,
  totalRam: 21304,
  instructions: 620095,
};

describe('check values', () => {
  it('accuracies as fractions or percent, sizes with units, counts with k/M, tolerances', () => {
    expect(AccuracySchema.parse('92%')).toBeCloseTo(0.92);
    expect(AccuracySchema.parse('0.5pt')).toBeCloseTo(0.005);
    expect(AccuracySchema.parse('0.92')).toBe(0.92);
    expect(AccuracySchema.safeParse(1.2).success).toBe(false);
    expect(AccuracySchema.safeParse('ninety').success).toBe(false);
    expect(BytesSchema.parse('10 kB')).toBe(10240);
    expect(BytesSchema.parse('1MB')).toBe(1048576);
    expect(BytesSchema.parse('8316')).toBe(8316);
    expect(BytesSchema.safeParse('10 parsecs').success).toBe(false);
    expect(CountSchema.parse('700k')).toBe(700000);
    expect(CountSchema.parse(1.2e6)).toBe(1.2e6);
    expect(toleranceSchema(BytesSchema).parse('2%')).toEqual({ relative: 0.02 });
    expect(toleranceSchema(BytesSchema).parse('1 kB')).toEqual({ absolute: 1024 });
  });

  it('flags override the file field by field; a bare board is a list; defaults apply', () => {
    const merged = mergeConfig(
      { model: '/m.tfm', thresholds: { minAccuracy: 0.9, maxModelFlash: '10 kB' } },
      { thresholds: { minAccuracy: '95%' }, boards: 'mps2-an386', data: undefined },
    );
    const c = parseCheckConfig(merged, 'test', true);
    expect(c.thresholds).toEqual({ minAccuracy: 0.95, maxModelFlash: 10240, agreement: 'bit-exact' });
    expect(c.boards).toEqual(['mps2-an386']);
    expect(c.split).toBe('test');
    expect(c.cacheDir).toBe('.tinyforge-cache');
    expect(() => parseCheckConfig({ thresholds: { minAcuracy: 1 } }, 'x.json', true)).toThrow(/minAcuracy/);
  });
});

describe('evaluateBoard', () => {
  it('limits at the measured value pass; a class without windows is shown, not held', () => {
    const c = parseCheckConfig(
      { thresholds: { minAccuracy: 0.93, maxModelFlash: 8316, minClassAccuracy: { '*': 0.9, a: 0.97 } } },
      'test',
      true,
    );
    const rows = evaluateBoard({ figures: FIGURES, thresholds: c.thresholds, tolerances: {} });
    const verdict = Object.fromEntries(rows.map((r) => [r.id, r.verdict]));
    expect(verdict).toMatchObject({
      accuracy: 'pass',
      'class-accuracy:a': 'fail',
      'class-accuracy:b': 'pass',
      'class-accuracy:c': 'info',
      'model-flash': 'pass',
      'total-flash': 'info',
      agreement: 'pass',
    });
  });

  it('a relative tolerance is a share of the baseline; a better figure passes', () => {
    const base = { ...FIGURES, instructions: 600000, modelFlash: 9000 };
    const c = parseCheckConfig({ tolerances: { instructions: '3%' } }, 'test', true);
    const rows = evaluateBoard({
      figures: FIGURES,
      thresholds: c.thresholds,
      baseline: base,
      tolerances: c.tolerances,
    });
    const ins = rows.find((r) => r.id === 'baseline:instructions')!;
    expect(ins.verdict).toBe('fail'); // +3.35% against 3%
    expect(ins.measured).toMatch(/^\+20,095 \(\+3\.3%\)/);
    expect(rows.find((r) => r.id === 'baseline:model-flash')!.verdict).toBe('pass');
    expect(rows.find((r) => r.id === 'model-flash')!.delta).toBe('-684 B');
  });

  it('XML text is escaped', () => {
    expect(xmlEscape(`a<b & "c" 'd'>\u0001`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });
});
