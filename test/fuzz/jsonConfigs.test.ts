// Property-based fuzzing of the JSON files users write: sweep configurations (src/sweep/config.ts,
// then the points they expand to), architectures (src/graph/arch.ts, then the graph they build),
// board files (src/boards/boards.ts) and check configurations (src/check/config.ts). Two kinds of
// damage: text edits of the file (JSON syntax) and structural edits of the parsed value (wrong
// types, huge numbers, missing and extra keys).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandPoints, loadSweepConfig, parseSweepConfig } from '../../src/sweep/config.js';
import { archToGraph, parseArch, readArchFile } from '../../src/graph/arch.js';
import { inferShapes } from '../../src/graph/ir.js';
import { loadBoardFile } from '../../src/boards/boards.js';
import { parseCheckConfig, readCheckConfigFile } from '../../src/check/config.js';
import { tempDir } from '../helpers/temp.js';
import {
  applyJsonEdits,
  applyTextEdits,
  forAll,
  jsonEdits,
  parsesOrRefuses,
  Tally,
  textEdits,
  timeoutFor,
} from './property.js';

const ROOT = join(import.meta.dirname, '..', '..');
const text = (p: string) => readFileSync(join(ROOT, p), 'utf8');

const SWEEPS = ['sweeps/ci.json', 'sweeps/uci-har-quick.json', 'sweeps/ci-operators.json'].map(text);
const ARCHS = ['sweeps/every-operator.arch.json'].map(text);
const BOARDS = ['src/boards/netduinoplus2.json', 'src/boards/mps2-an386.json'].map(text);
const CHECK = JSON.stringify({
  format: 'tinyforge-check/1',
  model: 'models/har.tfm',
  data: 'synthetic',
  boards: ['netduinoplus2', 'mps2-an386'],
  thresholds: {
    minAccuracy: '92%',
    minClassAccuracy: { '*': '80%', WALKING: '90%' },
    maxAccuracyDrop: '1pt',
    maxModelFlash: '10 kB',
    maxTotalRam: '24 kB',
    maxInstructions: '700k',
    agreement: 'bit-exact',
  },
  baseline: 'ci/check-baseline.json',
  tolerances: { accuracy: '0.3pt', modelFlash: '64 B', instructions: '2%' },
});
/** The data an architecture is built for: [T, C] windows and six classes. */
const DATA = { inputShape: [128, 9] as [number, number], classNames: ['a', 'b', 'c', 'd', 'e', 'f'] };

function buildArch(value: unknown): void {
  inferShapes(archToGraph(parseArch(value), DATA));
}

const NORMAL = 200;

describe('JSON configuration readers under generated damage', () => {
  it('the base files are valid', () => {
    for (const s of SWEEPS) expect(expandPoints(parseSweepConfig(JSON.parse(s))).length).toBeGreaterThan(0);
    for (const a of ARCHS) buildArch(JSON.parse(a));
    expect(parseCheckConfig(JSON.parse(CHECK), 'check', true).boards).toHaveLength(2);
  });

  it(
    'text edits of every kind of file: parses or raises TinyforgeError',
    async () => {
      const dir = tempDir('tf-fuzz-json-');
      const t = new Tally('JSON files (text edits)');
      const kinds = [
        ...SWEEPS.map((s) => ({
          base: s,
          name: 'sweep.json',
          read: (p: string) => expandPoints(loadSweepConfig(p).config),
        })),
        ...ARCHS.map((s) => ({
          base: s,
          name: 'net.arch.json',
          read: (p: string) => buildArch(readArchFile(p)),
        })),
        // A board file must be named after its board.
        ...BOARDS.map((s) => ({
          base: s,
          name: `${(JSON.parse(s) as { name: string }).name}.json`,
          read: (p: string) => loadBoardFile(p),
        })),
        {
          base: CHECK,
          name: 'tinyforge.check.json',
          read: (p: string) => parseCheckConfig(readCheckConfigFile(p), p, true),
        },
      ];
      await forAll(
        { normal: NORMAL, share: 1 },
        fc.tuple(fc.integer({ min: 0, max: kinds.length - 1 }), textEdits()),
        ([k, edits]) => {
          const kind = kinds[k];
          const path = join(dir, kind.name);
          writeFileSync(path, applyTextEdits(kind.base, edits));
          t.add(parsesOrRefuses(kind.name, () => kind.read(path)));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 10, 1),
  );

  it(
    'sweep configurations, structural edits: parses (and expands) or raises TinyforgeError',
    async () => {
      const t = new Tally('sweep JSON (structure)');
      const bases = SWEEPS.map((s) => JSON.parse(s) as unknown);
      await forAll(
        { normal: NORMAL, share: 1 },
        fc.tuple(fc.integer({ min: 0, max: bases.length - 1 }), jsonEdits()),
        ([i, edits]) => {
          const v = applyJsonEdits(bases[i], edits);
          t.add(parsesOrRefuses('parseSweepConfig', () => expandPoints(parseSweepConfig(v))));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 5, 1),
  );

  it(
    'architectures, structural edits: builds a graph or raises TinyforgeError',
    async () => {
      const t = new Tally('architecture JSON (structure)');
      const base = JSON.parse(ARCHS[0]) as unknown;
      await forAll({ normal: NORMAL, share: 1 }, jsonEdits(), (edits) => {
        const v = applyJsonEdits(base, edits);
        t.add(parsesOrRefuses('archToGraph', () => buildArch(v)));
      });
      t.report();
    },
    timeoutFor(NORMAL, 5, 1),
  );

  it(
    'board files, structural edits: loads or raises TinyforgeError',
    async () => {
      const dir = tempDir('tf-fuzz-board-');
      const t = new Tally('board JSON (structure)');
      const bases = BOARDS.map((s) => JSON.parse(s) as { name: string });
      await forAll(
        { normal: NORMAL, share: 1 },
        fc.tuple(fc.integer({ min: 0, max: bases.length - 1 }), jsonEdits()),
        ([i, edits]) => {
          const path = join(dir, `${bases[i].name}.json`);
          writeFileSync(path, JSON.stringify(applyJsonEdits(bases[i], edits)) ?? '');
          t.add(parsesOrRefuses('loadBoardFile', () => loadBoardFile(path)));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 5, 1),
  );

  it(
    'check configurations, structural edits: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('check JSON (structure)');
      const base = JSON.parse(CHECK) as unknown;
      await forAll({ normal: NORMAL, share: 1 }, fc.tuple(jsonEdits(), fc.boolean()), ([edits, fromFile]) => {
        const v = applyJsonEdits(base, edits);
        t.add(parsesOrRefuses('parseCheckConfig', () => parseCheckConfig(v, 'check', fromFile)));
      });
      t.report();
    },
    timeoutFor(NORMAL, 5, 1),
  );
});
