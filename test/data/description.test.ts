// The description format: the examples in docs/data.md are valid descriptions (the first, the
// "one CSV per session" case, in at most 20 lines), defaults, and the window-label rules.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDescriptionSpec } from '../../src/data/load.js';
import { parseDescription } from '../../src/data/recordings/description.js';
import { windowLabel } from '../../src/data/recordings/windows.js';

const DOC = resolve(__dirname, '../../docs/data.md');

function docExamples(): string[] {
  const text = readFileSync(DOC, 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('dataset descriptions', () => {
  it('every example in docs/data.md is valid; the first fits in 20 lines', () => {
    const examples = docExamples();
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const e of examples) expect(() => parseDescription(JSON.parse(e), DOC)).not.toThrow();
    expect(examples[0].trim().split('\n').length).toBeLessThanOrEqual(20);
    expect(examples[0]).toMatch(/"fileName"/);
  });

  it('applies defaults and resolves channels', () => {
    const d = parseDescription(
      {
        sources: 'a.csv',
        channels: ['x', { name: 'y', column: 'Y', unit: 'g', scale: 2 }],
        columns: { label: 'l' },
        time: { rate: 20 },
        windows: { length: 8 },
        split: { test: 0.5 },
      },
      '/data/d.json',
    );
    expect(d.dir).toBe('/data');
    expect(d.channels).toEqual([
      { name: 'x', column: 'x', unit: '', scale: 1 },
      { name: 'y', column: 'Y', unit: 'g', scale: 2 },
    ]);
    expect(d.windows).toMatchObject({ length: 8, label: 'majority', mixed: 'drop' });
    expect(d.split).toMatchObject({ by: 'subject', seed: 0 });
    expect(d.repair).toEqual({ nan: 'error', unknownLabel: 'error' });
    expect(d.time.unit).toBe('s');
  });

  it('recognizes a description spec by its .json suffix', () => {
    expect(isDescriptionSpec('rec/recordings.json')).toBe(true);
    expect(isDescriptionSpec('C:\\data\\D.JSON')).toBe(true);
    expect(isDescriptionSpec('synthetic')).toBe(false);
    expect(isDescriptionSpec('../shared/data/uci-har')).toBe(false);
  });

  it('window labels: majority (earlier label wins a tie), center, last', () => {
    const lab = Int32Array.from([2, 1, 1, 1, 1, 0, 0, 0, 0, 2]);
    expect(windowLabel(lab, 'majority')).toBe(1);
    expect(windowLabel(lab, 'center')).toBe(0);
    expect(windowLabel(lab, 'last')).toBe(2);
    expect(windowLabel(Int32Array.from([3, 3, 5, 5]), 'majority')).toBe(3);
  });
});
