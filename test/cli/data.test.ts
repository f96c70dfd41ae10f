// `tinyforge data inspect` (the data source core's report as tables or JSON) and `tinyforge data
// example` (a generated recording set and the commands to try next), through yargs in process.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataCommand, formatDataReport } from '../../src/cli/commands/data.js';
import type { DataReport } from '../../src/data/report.js';
import { commands } from '../../src/cli/commands/index.js';
import { inspectDataset } from '../../src/data/load.js';
import { HAR_CLASSES } from '../../src/data/dataset.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

process.env.TINYFORGE_CACHE = tempDir('tf-cli-cache-');

const FIXTURE = fileURLToPath(new URL('../fixtures/uci-har-mini', import.meta.url));

function run(args: string[]) {
  return runCommand(dataCommand, args);
}

describe('tinyforge data', () => {
  it('is a registered command and needs a subcommand', async () => {
    expect(commands).toContain(dataCommand);
    const r = await run(['data']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/inspect or example/);
  });
});

describe('tinyforge data example', () => {
  it('writes the recordings and their description, and prints the commands to try next', async () => {
    const out = join(tempDir('tf-cli-example-'), 'rec');
    const r = await run(['data', 'example', '--out', out, '--subjects', '3', '--seed', '2']);
    expect(r.code, r.err).toBe(0);
    const description = join(out, 'recordings.json');
    expect(existsSync(description)).toBe(true);
    expect(JSON.parse(readFileSync(description, 'utf8'))).toBeTypeOf('object');
    expect(r.out).toContain(`description: ${description}`);
    for (const cmd of [
      `tinyforge data inspect ${description}`,
      `tinyforge train --data ${description} --out ${out}-model`,
      `tinyforge compress ${out}-model --bits 4 --finetune-epochs 3 --out ${out}-4bit.tfm`,
      `tinyforge build ${out}-4bit.tfm --out ${out}-fw`,
      `tinyforge run ${out}-fw`,
    ])
      expect(r.out).toContain(`  ${cmd}\n`);
  });

  it('--json gives the paths and the commands; the same seed writes the same files', async () => {
    const base = tempDir('tf-cli-example-');
    const a = await run(['data', 'example', '--out', join(base, 'a'), '--subjects', '2', '--json']);
    const b = await run(['data', 'example', '--out', join(base, 'b'), '--subjects', '2', '--json']);
    expect(a.code, a.err).toBe(0);
    const ja = JSON.parse(a.out);
    const jb = JSON.parse(b.out);
    expect(ja.description).toBe(join(base, 'a', 'recordings.json'));
    expect(ja.files.length).toBeGreaterThanOrEqual(2);
    expect(ja.files.every((f: string) => f.endsWith('.csv') && existsSync(f))).toBe(true);
    expect(ja.next).toHaveLength(5);
    expect(ja.next[1]).toBe(`tinyforge train --data ${ja.description} --out ${join(base, 'a')}-model`);
    for (let i = 0; i < ja.files.length; i++)
      expect(readFileSync(jb.files[i], 'utf8')).toBe(readFileSync(ja.files[i], 'utf8'));
  });

  it('refuses a bad --subjects or --seed (usage, exit 2) and a missing --out', async () => {
    const out = join(tempDir('tf-cli-example-'), 'bad');
    for (const args of [
      ['--subjects', '0'],
      ['--subjects', '2.5'],
      ['--seed', '1.5'],
    ]) {
      const r = await run(['data', 'example', '--out', out, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/--(subjects|seed) must be/);
    }
    expect(existsSync(out)).toBe(false);
    expect((await run(['data', 'example'])).code).toBe(2);
  });
});

describe('tinyforge data inspect', () => {
  it('--json prints the report of a UCI HAR fixture as the data core gives it', async () => {
    const r = await run(['data', 'inspect', FIXTURE, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toEqual(JSON.parse(JSON.stringify(inspectDataset(FIXTURE))));
    expect(j).toMatchObject({ kind: 'uci-har', steps: 128, classes: [...HAR_CLASSES] });
    expect(j.channels).toHaveLength(9);
    expect(j.splits.train.windows).toBe(6);
    expect(j.splits.test.windows).toBe(3);
  });

  it('prints the report as text with tables', async () => {
    const r = await run(['data', 'inspect', FIXTURE]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^data: +\S.*uci-har-mini.* \(uci-har\)$/m);
    expect(r.out).toMatch(/^windows: +128 x 9 /m);
    expect(r.out).toMatch(/^windows per class +train +test$/m);
    for (const c of HAR_CLASSES) expect(r.out).toMatch(new RegExp(`^${c} +\\d+ +\\d+$`, 'm'));
    expect(r.out).toMatch(/^total +6 +3$/m);
    expect(r.out).toMatch(/^-+(  -+)+$/m); // a table's rule line (src/util/table.ts)
    expect(r.out).not.toContain('[object Object]');
  });

  it('a data set that does not exist is an input error (exit 3)', async () => {
    const r = await run(['data', 'inspect', join(tempDir('tf-cli-inspect-'), 'nothing.json')]);
    expect(r.code, r.err).toBe(3);
    expect(r.err).toContain('nothing.json');
  });
});

describe('formatDataReport', () => {
  const report: DataReport = {
    kind: 'recordings',
    spec: '/data/rec/recordings.json',
    source: 'recordings described by /data/rec/recordings.json',
    rateHz: 100,
    steps: 200,
    channels: [
      { name: 'acc_x', unit: 'g' },
      { name: 'gyro_x', unit: '' },
    ],
    classes: ['walk', 'sit', 'run'],
    splitBy: 'subject',
    files: [
      {
        path: 's01_session1.csv',
        format: 'csv',
        rows: 12000,
        subject: '01',
        session: '1',
        rateHz: 100.43,
        rateFrom: 'timestamps',
        durationS: 119.5,
        segments: 2,
        gaps: 1,
        gapSeconds: 1.5,
        windows: 230,
        droppedWindows: { straddle: 4 },
        droppedRows: { nan: 2 },
      },
      {
        path: 's02_session1.csv',
        format: 'csv',
        rows: 9000,
        windows: 170,
        droppedWindows: {},
        droppedRows: {},
      },
    ],
    subjects: [
      { name: '01', id: 1, splits: ['train'], windows: 230 },
      { name: '02', id: 2, splits: ['test'], windows: 170 },
    ],
    splits: {
      train: { windows: 230, subjects: ['01'], classes: { walk: 100, sit: 80, run: 50 } },
      test: { windows: 170, subjects: ['02'], classes: { walk: 70, sit: 60, run: 40 } },
    },
    windows: { kept: 400, produced: 404, dropped: { straddle: 4 } },
    rows: { read: 21000, dropped: { nan: 2 } },
    gaps: {
      count: 1,
      seconds: 1.5,
      first: [{ file: 's01_session1.csv', line: 6001, atS: 60.004, seconds: 1.5 }],
    },
    repairs: { 'nan: drop-window': { rows: 2, windows: 1 } },
    notes: ['a note'],
  };

  it('a summary, then windows per class and split, files and gaps as tables', () => {
    const text = formatDataReport(report);
    expect(text).toMatch(/^data: +\/data\/rec\/recordings\.json \(recordings\)$/m);
    expect(text).toMatch(
      /^windows: +200 x 2 at 100 Hz \(2 s\); 400 kept of 404 made \(dropped, straddle: 4\)$/m,
    );
    expect(text).toMatch(/^channels: +acc_x \(g\), gyro_x$/m);
    expect(text).toMatch(/^subjects: +2, split by subject; train: 01; test: 02$/m);
    expect(text).toMatch(/^files: +2, 21,000 rows read$/m);
    expect(text).toMatch(/^rows dropped: +nan: 2$/m);
    expect(text).toMatch(/^gaps: +1, 1\.5 s in all/m);
    expect(text).toMatch(/^repairs: +nan: drop-window: 2 rows, 1 windows dropped$/m);
    expect(text).toMatch(/^windows per class +train +test$/m);
    expect(text).toMatch(/^walk +100 +70$/m);
    expect(text).toMatch(/^total +230 +170$/m);
    expect(text).toMatch(
      /^s01_session1\.csv +csv +01 +1 +12,000 +100\.43 +119\.5 +1 +230 +nan: 2 rows; straddle: 4 windows$/m,
    );
    expect(text).toMatch(/^s02_session1\.csv +csv +- +- +9,000 +- +- +- +170 +-$/m);
    expect(text).toMatch(/^s01_session1\.csv +6,001 +60\.004 +1\.5$/m);
    expect(text).toMatch(/^note: a note$/m);
  });
});
