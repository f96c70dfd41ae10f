// Property-based fuzzing of the recording readers (src/data/recordings): the .npy parser on damaged
// bytes, a three-array data set with one damaged array, a CSV recording set with one damaged file,
// and its description with structural edits.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRecordings } from '../../src/data/recordings/index.js';
import { npyBytes, parseNpy } from '../../src/data/recordings/npy.js';
import { writeJson, writeRecording } from '../data/recordingFixtures.js';
import { tempDir } from '../helpers/temp.js';
import {
  applyEdits,
  applyJsonEdits,
  applyTextEdits,
  byteEdits,
  forAll,
  jsonEdits,
  parsesOrRefuses,
  Tally,
  textEdits,
  timeoutFor,
} from './property.js';
import { refusal } from '../helpers/errors.js';

const N = 12;
const X = Float32Array.from({ length: N * 8 * 3 }, (_, i) => Math.sin(i));
const Y = ['a', 'b', 'c'];
const ARRAYS = {
  'X.npy': npyBytes(X, [N, 8, 3]),
  'y.npy': npyBytes(
    Array.from({ length: N }, (_, i) => Y[i % 3]),
    [N],
  ),
  'subject.npy': npyBytes(
    BigInt64Array.from({ length: N }, (_, i) => BigInt(1 + (i % 4))),
    [N],
  ),
};
const ARRAY_NAMES = Object.keys(ARRAYS) as (keyof typeof ARRAYS)[];
const ARRAY_DESCRIPTION = {
  format: 'tinyforge-data/1',
  sources: [{ x: 'X.npy', y: 'y.npy', subject: 'subject.npy' }],
  classes: Y,
  split: { by: 'subject', test: 0.25, val: 0.25, seed: 1 },
};

const NORMAL = 150;

describe('recording readers under generated damage', () => {
  it(
    'parseNpy on damaged bytes (float, int64 and string arrays): parses or raises TinyforgeError',
    async () => {
      const t = new Tally('.npy parser');
      const bases = Object.values(ARRAYS);
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(fc.integer({ min: 0, max: bases.length - 1 }), byteEdits()),
        ([i, edits]) => {
          t.add(parsesOrRefuses('parseNpy', () => parseNpy(applyEdits(bases[i], edits), 'a.npy')));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 3, 0.5),
  );

  it(
    'three .npy arrays with one damaged: loads or raises TinyforgeError',
    async () => {
      const dir = tempDir('tf-fuzz-npy-');
      const desc = join(dir, 'data.json');
      writeFileSync(desc, JSON.stringify(ARRAY_DESCRIPTION));
      for (const n of ARRAY_NAMES) writeFileSync(join(dir, n), ARRAYS[n]);
      expect(loadRecordings(desc, { cache: false }).dataset.train.n).toBeGreaterThan(0);
      const t = new Tally('.npy data set');
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(fc.integer({ min: 0, max: ARRAY_NAMES.length - 1 }), byteEdits()),
        ([i, edits]) => {
          const path = join(dir, ARRAY_NAMES[i]);
          writeFileSync(path, applyEdits(ARRAYS[ARRAY_NAMES[i]], edits));
          try {
            t.add(parsesOrRefuses('loadRecordings', () => loadRecordings(desc, { cache: false })));
          } finally {
            writeFileSync(path, ARRAYS[ARRAY_NAMES[i]]);
          }
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 10, 0.5),
  );

  describe('a CSV recording set', () => {
    // Four subjects, 4 s each at 20 to 40 Hz, jitter and a gap, a derived channel (as users write them).
    const dir = tempDir('tf-fuzz-csv-');
    mkdirSync(join(dir, 'rec'));
    const files = [1, 2, 3, 4].map((s) => {
      const f = join(dir, 'rec', `S0${s}_s1.csv`);
      writeRecording(f, {
        rate: 20 + 10 * (s % 3),
        runs:
          s % 2
            ? [
                ['walk', 2],
                ['run', 2],
              ]
            : [
                ['run', 2],
                ['walk', 2],
              ],
        jitter: 0.1,
        gaps: s === 2 ? [{ after: 2, seconds: 0.5 }] : [],
        seed: s,
      });
      return f;
    });
    const description = writeJson(dir, 'data.json', {
      sources: 'rec/*.csv',
      fileName: '(?<subject>S\\d+)_s(?<session>\\d+)\\.csv$',
      channels: [{ name: 'ramp', unit: 'm' }, { name: 'down', unit: 'm' }, 'flat', 'code'],
      columns: { time: 't', label: 'label' },
      time: { resample: 20 },
      windows: { length: 10, hop: 5 },
      derived: [{ name: 'mag', magnitude: ['ramp', 'down', 'flat'] }],
      split: { by: 'subject', test: 0.25, val: 0.25, seed: 3 },
    });
    const texts = files.map((f) => readFileSync(f, 'utf8'));
    const descText = readFileSync(description, 'utf8');

    it('the base set loads', () => {
      expect(loadRecordings(description, { cache: false }).dataset.train.n).toBeGreaterThan(0);
    });

    it(
      'one CSV file damaged: loads or raises TinyforgeError',
      async () => {
        const t = new Tally('CSV recordings');
        await forAll(
          { normal: NORMAL, share: 0.5 },
          fc.tuple(fc.integer({ min: 0, max: files.length - 1 }), textEdits()),
          ([i, edits]) => {
            writeFileSync(files[i], applyTextEdits(texts[i], edits));
            try {
              t.add(parsesOrRefuses('loadRecordings', () => loadRecordings(description, { cache: false })));
            } finally {
              writeFileSync(files[i], texts[i]);
            }
          },
        );
        t.report();
      },
      timeoutFor(NORMAL, 40, 0.5),
    );

    it(
      'the description with structural edits: loads or raises TinyforgeError',
      async () => {
        const t = new Tally('recordings description');
        const base = JSON.parse(descText) as unknown;
        await forAll({ normal: NORMAL, share: 0.5 }, jsonEdits(), (edits) => {
          writeFileSync(description, JSON.stringify(applyJsonEdits(base, edits)) ?? '');
          try {
            t.add(parsesOrRefuses('loadRecordings', () => loadRecordings(description, { cache: false })));
          } finally {
            writeFileSync(description, descText);
          }
        });
        t.report();
      },
      timeoutFor(NORMAL, 40, 0.5),
    );
  });
});

/** A .npy's bytes with its header text replaced (padded as NumPy pads it). */
function npyWithHeader(base: Uint8Array, edit: (header: string) => string): Uint8Array {
  const len = base[8] | (base[9] << 8);
  const header = edit(
    Buffer.from(base.subarray(10, 10 + len))
      .toString('latin1')
      .trimEnd(),
  );
  const padded = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const out = Buffer.alloc(10 + padded.length + base.length - 10 - len);
  Buffer.from(base.subarray(0, 8)).copy(out);
  out.writeUInt16LE(padded.length, 8);
  out.write(padded, 10, 'latin1');
  Buffer.from(base.subarray(10 + len)).copy(out, 10 + padded.length);
  return out;
}

describe('findings of the .npy fuzzing (each was a raw exception before)', () => {
  const labels = npyBytes(['walk', 'run', 'sit'], [3]);

  it('finding npy-truncated-strings: a string array shorter than its shape (RangeError "offset is outside of buffer bounds")', () => {
    const e = refusal(() => parseNpy(labels.subarray(0, labels.length - 5), 'y.npy'));
    expect(e.category).toBe('input');
    expect(e.message).toMatch(/^y\.npy: \d+ data bytes for shape \(3\)$/);
  });

  it('finding npy-code-point: a string holding a value above U+10FFFF (RangeError "Invalid code point")', () => {
    const b = Uint8Array.from(labels);
    new DataView(b.buffer).setUint32(b.length - 4 * 4, 0x110061, true);
    expect(refusal(() => parseNpy(b, 'y.npy')).message).toBe(
      'y.npy: string 2 holds 1114209, not a Unicode code point',
    );
  });

  it('finding npy-bad-shape: a shape of negative or fractional sizes (a wrong count, or new Array(-3))', () => {
    for (const shape of ['(-3,)', '(1.5,)', '(3, x)']) {
      const b = npyWithHeader(labels, (h) => h.replace('(3,)', shape));
      expect(refusal(() => parseNpy(b, 'y.npy')).message).toContain('not a valid .npy array (shape');
    }
  });

  it('finding npy-misaligned: float data that does not start at a multiple of its size (RangeError from the typed array)', () => {
    const x = npyBytes(new Float32Array([1, 2, 3]), [3]);
    // One byte more of header: the data starts at an odd offset.
    const len = x[8] | (x[9] << 8);
    const b = Buffer.alloc(x.length + 1);
    Buffer.from(x.subarray(0, 10 + len - 1)).copy(b);
    b.writeUInt16LE(len + 1, 8);
    b.write(' \n', 10 + len - 1, 'latin1');
    Buffer.from(x.subarray(10 + len)).copy(b, 11 + len);
    expect(refusal(() => parseNpy(b, 'x.npy')).message).toMatch(
      /^x\.npy: the data starts at byte \d+, not a multiple of 4$/,
    );
  });

  it('finding npy-zero-width: a zero-width string dtype with a huge shape (new Array of 10^12)', () => {
    const b = npyWithHeader(labels, (h) => h.replace(/'<U\d+'/, "'<U0'").replace('(3,)', '(1000000000000,)'));
    expect(refusal(() => parseNpy(b, 'y.npy')).message).toBe('y.npy: zero-width dtype <U0');
  });

  it('finding recordings-resample-huge: time.resample of 2^53 Hz (the loader generated samples for minutes, a hang)', () => {
    const dir = tempDir('tf-fuzz-rate-');
    mkdirSync(join(dir, 'rec'));
    writeRecording(join(dir, 'rec', 'S01_s1.csv'), { rate: 20, runs: [['walk', 2]], seed: 1 });
    for (const field of ['resample', 'rate']) {
      const description = writeJson(dir, 'data.json', {
        sources: 'rec/*.csv',
        columns: { time: 't', label: 'label' },
        time: { [field]: 2 ** 53 },
      });
      const e = refusal(() => loadRecordings(description, { cache: false }));
      expect(e.category).toBe('input');
      expect(e.message).toMatch(new RegExp(`time\\.${field}`));
    }
  });

  it('finding npy-short-v2-header: a version 2 file cut before its 4-byte header length (RangeError from the DataView)', () => {
    for (const n of [10, 11]) {
      const b = Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 2, 0, 0x7f, 0, 0].slice(0, n));
      expect(refusal(() => parseNpy(b, 'x.npy')).message).toBe(
        `x.npy: not a valid .npy array (${n} bytes, shorter than a version 2 preamble)`,
      );
    }
  });
});
