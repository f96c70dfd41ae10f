// `tinyforge data inspect <spec>`: what a data set holds (files, subjects, sample rates, classes per
// split, windows, gaps, rows dropped and repairs), as tables or --json. `tinyforge data example`:
// writes a generated recording set (CSV files and their description) and prints what to run next.
import { basename, dirname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { inspectDataset } from '../../data/load.js';
import { writeExampleRecordings } from '../../data/generateRecordings.js';
import type { DataReport } from '../../data/report.js';
import { TinyforgeError } from '../../util/errors.js';
import { formatTable } from '../../util/table.js';
import { printJson } from '../output.js';

// ---- the report as text

const n = (v: number) => v.toLocaleString('en-US');
const dec = (v: number | undefined, digits = 2) =>
  v === undefined ? '-' : String(Number(v.toFixed(digits)));
const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}: ${n(v)}`)
    .join('; ');
const some = (r: Record<string, unknown>) => Object.keys(r).length > 0;

/** At most `max` names, then how many more. */
function names(list: readonly string[], max = 12): string {
  const shown = list.slice(0, max).join(', ');
  return list.length > max ? `${shown}, ... (${list.length - max} more)` : shown;
}

/** A DataReport for people: a summary, then windows per class and split, files, drops, repairs, gaps. */
export function formatDataReport(r: DataReport): string {
  const splits = Object.entries(r.splits).filter(
    (e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined,
  );
  const [T, C] = [r.steps, r.channels.length];
  const head: [string, string][] = [
    ['data', `${r.spec} (${r.kind})`],
    ['source', r.source],
    [
      'windows',
      `${T} x ${C}${r.rateHz !== undefined ? ` at ${dec(r.rateHz)} Hz (${dec(T / r.rateHz)} s)` : ''}; ` +
        `${n(r.windows.kept)} kept of ${n(r.windows.produced)} made` +
        (some(r.windows.dropped) ? ` (dropped, ${counts(r.windows.dropped)})` : ''),
    ],
    ['channels', r.channels.map((c) => (c.unit ? `${c.name} (${c.unit})` : c.name)).join(', ')],
    ['classes', r.classes.join(', ')],
    [
      'subjects',
      `${r.subjects.length}${r.splitBy ? `, split by ${r.splitBy}` : ''}` +
        splits.map(([name, s]) => `; ${name}: ${names(s.subjects)}`).join(''),
    ],
  ];
  if (r.files.length) head.push(['files', `${n(r.files.length)}, ${n(r.rows.read)} rows read`]);
  if (some(r.rows.dropped)) head.push(['rows dropped', counts(r.rows.dropped)]);
  head.push([
    'gaps',
    r.gaps.count ? `${n(r.gaps.count)}, ${dec(r.gaps.seconds, 1)} s in all (windows never span one)` : 'none',
  ]);
  head.push([
    'repairs',
    some(r.repairs)
      ? Object.entries(r.repairs)
          .map(([k, v]) => `${k}: ${n(v.rows)} rows, ${n(v.windows)} windows dropped`)
          .join('; ')
      : 'none',
  ]);
  const width = Math.max(...head.map(([k]) => k.length)) + 2;
  const parts = [head.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n')];

  parts.push(
    formatTable(
      ['windows per class', ...splits.map(([name]) => name)],
      [
        ...r.classes.map((c) => [c, ...splits.map(([, s]) => n(s.classes[c] ?? 0))]),
        ['total', ...splits.map(([, s]) => n(s.windows))],
        ['subjects', ...splits.map(([, s]) => n(s.subjects.length))],
      ],
    ),
  );
  if (r.files.length) {
    const dropped = (f: (typeof r.files)[number]) =>
      [
        ...Object.entries(f.droppedRows).map(([k, v]) => `${k}: ${n(v)} rows`),
        ...Object.entries(f.droppedWindows).map(([k, v]) => `${k}: ${n(v)} windows`),
      ].join('; ') || '-';
    parts.push(
      formatTable(
        ['file', 'format', 'subject', 'session', 'rows', 'rate Hz', 'seconds', 'gaps', 'windows', 'dropped'],
        r.files.map((f) => [
          f.path,
          f.format,
          f.subject ?? '-',
          f.session ?? '-',
          n(f.rows),
          f.rateHz !== undefined ? `${dec(f.rateHz)}${f.rateFrom === 'given' ? ' (given)' : ''}` : '-',
          dec(f.durationS, 1),
          f.gaps !== undefined ? n(f.gaps) : '-',
          n(f.windows),
          dropped(f),
        ]),
      ),
    );
  }
  if (r.gaps.first.length)
    parts.push(
      formatTable(
        ['gap: file', 'line', 'at s', 'seconds'],
        r.gaps.first.map((g) => [g.file, n(g.line), dec(g.atS, 3), dec(g.seconds, 3)]),
      ),
    );
  if (r.notes.length) parts.push(r.notes.map((x) => `note: ${x}`).join('\n'));
  return parts.join('\n\n') + '\n';
}

// ---- commands

interface InspectArgs {
  spec: string;
  json: boolean;
}

const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <spec>',
  describe:
    'Files, subjects, sample rates, classes per split, windows, gaps, drops and repairs of a data set',
  builder: (y) =>
    y
      .positional('spec', {
        type: 'string',
        demandOption: true,
        describe: 'dataset description (.json), UCI HAR directory or synthetic[:opts]',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .example('$0 data inspect out/rec/recordings.json', 'what the description makes of the recordings'),
  handler: (a) => {
    const report = inspectDataset(a.spec);
    if (a.json) printJson(report);
    else process.stdout.write(formatDataReport(report));
  },
};

interface ExampleArgs {
  out: string;
  subjects?: number;
  seed?: number;
  json: boolean;
}

/** A path as it can be pasted into a shell. */
function shellWord(s: string): string {
  return /^[\w./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The commands that take an example set from training to the emulated board. */
export function nextCommands(outDir: string, description: string): string[] {
  const base = join(dirname(outDir), basename(outDir));
  const q = shellWord;
  return [
    `tinyforge data inspect ${q(description)}`,
    `tinyforge train --data ${q(description)} --out ${q(`${base}-model`)}`,
    `tinyforge compress ${q(`${base}-model`)} --bits 4 --finetune-epochs 3 --out ${q(`${base}-4bit.tfm`)}`,
    `tinyforge build ${q(`${base}-4bit.tfm`)} --out ${q(`${base}-fw`)}`,
    `tinyforge run ${q(`${base}-fw`)}`,
  ];
}

const exampleCommand: CommandModule<object, ExampleArgs> = {
  command: 'example',
  describe: 'Write a generated recording set (one CSV per session) and its description',
  builder: (y) =>
    y
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'folder for the CSV files and the description',
      })
      .option('subjects', { type: 'number', describe: 'number of subjects (default 24)' })
      .option('seed', { type: 'number', describe: 'seed of the generator (default 1)' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the paths and next commands as JSON',
      })
      .example('$0 data example --out out/rec', '24 subjects, 6 channels at ~100 Hz, 5 activities'),
  handler: (a) => {
    if (a.subjects !== undefined && !(Number.isInteger(a.subjects) && a.subjects >= 1))
      throw new TinyforgeError(`--subjects must be a whole number >= 1, got ${a.subjects}`, 'usage');
    if (a.seed !== undefined && !Number.isInteger(a.seed))
      throw new TinyforgeError(`--seed must be an integer, got ${a.seed}`, 'usage');
    let written: { description: string; files?: string[] };
    try {
      written = writeExampleRecordings(a.out, { subjects: a.subjects, seed: a.seed });
    } catch (e) {
      if (e instanceof RangeError) throw new TinyforgeError(e.message, 'usage');
      throw e;
    }
    const next = nextCommands(a.out, written.description);
    if (a.json) {
      printJson({ out: a.out, description: written.description, files: written.files, next });
      return;
    }
    const n = written.files?.length;
    process.stdout.write(
      [
        `wrote ${n !== undefined ? `${n} recordings (CSV) and ` : ''}their description to ${a.out}`,
        `description: ${written.description}`,
        '',
        'next, try:',
        ...next.map((c) => `  ${c}`),
        '',
      ].join('\n'),
    );
  },
};

export const dataCommand: CommandModule = {
  command: 'data',
  describe: 'Inspect a data set, or write an example recording set',
  builder: (y) =>
    y
      .command(inspectCommand)
      .command(exampleCommand)
      .demandCommand(1, 'Name a data command: inspect or example.'),
  handler: () => {},
};
