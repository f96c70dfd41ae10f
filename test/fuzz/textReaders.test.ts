// Property-based fuzzing of the text and binary readers of files from elsewhere: GNU ld map files
// (src/size: parse and report), the UCI HAR text files (src/data/uciHar.ts, textFile.ts; the whole
// directory reader with one file damaged) and the host's windows files (src/measure/windows.ts).
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMap, sizeReport, formatSizeTable } from '../../src/size/index.js';
import { parseUciHar } from '../../src/data/uciHar.js';
import { parseIntColumn, parseMatrixInto } from '../../src/data/textFile.js';
import { encodeWindowsFile, readWindowsFile } from '../../src/measure/windows.js';
import { tempDir } from '../helpers/temp.js';
import {
  applyEdits,
  applyTextEdits,
  byteEdits,
  forAll,
  parsesOrRefuses,
  Tally,
  textEdits,
  timeoutFor,
} from './property.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const MAPS = ['odd.map', 'firmware.map'].map((f) => readFileSync(join(FIXTURES, 'size', f), 'utf8'));

describe('linker map reader under generated damage', () => {
  it('the base maps parse', () => {
    for (const m of MAPS) expect(sizeReport(parseMap(m, 'x.map')).flash.total).toBeGreaterThan(0);
  });

  const NORMAL = 150;
  it(
    'parseMap + sizeReport: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('linker map');
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(fc.integer({ min: 0, max: MAPS.length - 1 }), textEdits()),
        ([i, edits]) => {
          const text = applyTextEdits(MAPS[i], edits);
          t.add(
            parsesOrRefuses('parseMap', () =>
              formatSizeTable(sizeReport(parseMap(text, 'f.map'), { top: 5 })),
            ),
          );
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 20, 0.5),
  );

  it(
    'line-level edits (lines dropped, repeated, swapped): parses or raises TinyforgeError',
    async () => {
      const t = new Tally('linker map lines');
      const lines = MAPS.map((m) => m.split('\n'));
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(
          fc.integer({ min: 0, max: MAPS.length - 1 }),
          fc.array(fc.tuple(fc.constantFrom('drop', 'dup', 'swap'), fc.nat(), fc.nat()), {
            minLength: 1,
            maxLength: 5,
          }),
        ),
        ([i, ops]) => {
          const l = [...lines[i]];
          for (const [op, a, b] of ops) {
            const x = a % l.length;
            const y = b % l.length;
            if (op === 'drop') l.splice(x, 1);
            else if (op === 'dup') l.splice(x, 0, l[x]);
            else [l[x], l[y]] = [l[y], l[x]];
          }
          const text = l.join('\n');
          t.add(parsesOrRefuses('parseMap', () => sizeReport(parseMap(text, 'f.map'))));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 20, 0.5),
  );
});

describe('UCI HAR text readers under generated damage', () => {
  const MINI = join(FIXTURES, 'uci-har-mini', 'UCI HAR Dataset');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.txt')) files.push(p.slice(MINI.length + 1));
    }
  };
  walk(MINI);
  files.sort();
  const texts = files.map((f) => readFileSync(join(MINI, f), 'latin1'));

  it('the mini data set parses', () => {
    expect(parseUciHar(MINI).train.n).toBeGreaterThan(0);
  });

  const NORMAL = 150;
  it(
    'parseUciHar with one damaged file: parses or raises TinyforgeError',
    async () => {
      const root = join(tempDir('tf-fuzz-uci-'), 'UCI HAR Dataset');
      cpSync(MINI, root, { recursive: true });
      const t = new Tally('UCI HAR directory');
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(fc.integer({ min: 0, max: files.length - 1 }), textEdits()),
        ([i, edits]) => {
          const path = join(root, files[i]);
          writeFileSync(path, applyTextEdits(texts[i], edits), 'latin1');
          try {
            t.add(parsesOrRefuses('parseUciHar', () => parseUciHar(root)));
          } finally {
            writeFileSync(path, texts[i], 'latin1');
          }
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 30, 0.5),
  );

  it(
    'parseMatrixInto / parseIntColumn on arbitrary text: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('UCI HAR text parsers');
      const matrix = texts[files.findIndex((f) => f.includes('body_acc_x_train'))];
      const column = texts[files.findIndex((f) => f.includes('y_train'))];
      await forAll(
        { normal: NORMAL, share: 0.5 },
        fc.tuple(textEdits(), fc.integer({ min: 1, max: 200 })),
        ([edits, cols]) => {
          t.add(
            parsesOrRefuses('parseMatrixInto', () =>
              parseMatrixInto('m.txt', applyTextEdits(matrix, edits), cols, () => undefined, 1000),
            ),
          );
          t.add(
            parsesOrRefuses('parseIntColumn', () =>
              parseIntColumn('y.txt', applyTextEdits(column, edits), 1, 6, 'label'),
            ),
          );
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 10, 0.5),
  );
});

describe('windows file reader under generated damage', () => {
  const NORMAL = 200;
  it(
    'readWindowsFile: parses or raises TinyforgeError',
    async () => {
      const dir = tempDir('tf-fuzz-windows-');
      const path = join(dir, 'w.bin');
      const base = encodeWindowsFile(
        Int8Array.from({ length: 3 * 8 * 2 }, (_, i) => i - 20),
        3,
        8,
        2,
      );
      const t = new Tally('windows file');
      await forAll({ normal: NORMAL, share: 1 }, fc.tuple(byteEdits()), ([edits]) => {
        writeFileSync(path, applyEdits(base, edits));
        t.add(parsesOrRefuses('readWindowsFile', () => readWindowsFile(path)));
      });
      t.report();
    },
    timeoutFor(NORMAL, 5, 1),
  );
});
