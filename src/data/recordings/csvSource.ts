// One CSV/TSV recording: the header is matched against the description's columns, each row is
// checked (field count, numbers, label, timestamp) and handed to the file's timeline, which makes
// the windows. Every error names the file and the line; nothing bad becomes a silent zero.
import { TinyforgeError } from '../../util/errors.js';
import type { Collector, Group } from './collector.js';
import { readCsvRecords } from './csvReader.js';
import type { ChannelDef, Description } from './description.js';
import { UNKNOWN } from './labels.js';
import type { SourceFile } from './sources.js';
import { Timeline } from './timeline.js';
import { Windower } from './windows.js';

/** Column indices of what the description names. */
interface Layout {
  width: number;
  channels: number[];
  label: number;
  time: number;
  subject: number;
  session: number;
}

const TIME_SCALE = { s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 } as const;
const NON_FINITE = /^[+-]?(nan|inf|infinity)?$/i;

function csvRequirements(d: Description, file: SourceFile): { channels: ChannelDef[]; length: number } {
  const need = (what: string) =>
    new TinyforgeError(`${d.path}: ${what} (needed by ${file.rel})`, 'input', 'see docs/data.md');
  if (!d.channels) throw need('channels: the CSV columns to use are not given');
  if (!d.columns.label) throw need('columns.label: the label column is not given');
  if (!d.windows.length) throw need('windows.length: the window length is not given');
  if (!d.columns.time && !d.time.rate) throw need('give time.rate, or a timestamp column in columns.time');
  return { channels: d.channels, length: d.windows.length };
}

/** Column indices from the header record (on `line`, normally 1). */
function layoutOf(
  d: Description,
  file: SourceFile,
  header: string[],
  line: number,
  channels: ChannelDef[],
): Layout {
  const names = header.map((h) => h.trim());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (index.has(n))
      throw new TinyforgeError(`${file.path}:${line}: column '${n}' appears twice in the header`, 'input');
    index.set(n, i);
  });
  const used = new Set<string>();
  const col = (name: string | undefined, what: string): number => {
    if (name === undefined) return -1;
    const i = index.get(name);
    if (i === undefined)
      throw new TinyforgeError(
        `${file.path}:${line}: column '${name}' (${what}) is missing; the header has ${names.join(', ')}`,
        'input',
        'fix the column names in the description or the file',
      );
    used.add(name);
    return i;
  };
  const layout: Layout = {
    width: names.length,
    channels: channels.map((c) => col(c.column, `channel ${c.name}`)),
    label: col(d.columns.label, 'columns.label'),
    time: col(d.columns.time, 'columns.time'),
    subject: col(d.columns.subject, 'columns.subject'),
    session: col(d.columns.session, 'columns.session'),
  };
  const ignore = d.columns.ignore;
  const extra = names.filter((n) => !used.has(n) && ignore !== '*' && !ignore.includes(n));
  if (extra.length)
    throw new TinyforgeError(
      `${file.path}:${line}: column${extra.length > 1 ? 's' : ''} ${extra.map((n) => `'${n}'`).join(', ')} not described`,
      'input',
      'list them in the description\'s columns.ignore (or set it to "*"), or describe them as channels',
    );
  return layout;
}

/** Parses the timestamp field into seconds. */
function timeOf(d: Description, file: SourceFile, field: string, line: number): number {
  const s = field.trim();
  const v =
    d.time.unit === 'iso' ? Date.parse(s) / 1000 : s === '' ? NaN : Number(s) * TIME_SCALE[d.time.unit];
  if (!Number.isFinite(v))
    throw new TinyforgeError(
      `${file.path}:${line}: timestamp '${field}' is not ${d.time.unit === 'iso' ? 'an ISO 8601 date' : 'a finite number'}`,
      'input',
    );
  return v;
}

class CsvRows {
  private readonly values: Float64Array;
  private readonly timeline: Timeline;
  private readonly windower: Windower;
  private layout?: Layout;
  private groupKey: string | undefined;
  private group?: Group;

  constructor(
    private readonly c: Collector,
    private readonly file: SourceFile,
    private readonly channels: ChannelDef[],
    length: number,
  ) {
    const d = c.d;
    const map = c.prepare(file, length, channels);
    const tally = c.tally(file);
    this.values = new Float64Array(channels.length);
    this.windower = new Windower(
      { length, hop: d.windows.hop ?? length, label: d.windows.label, mixed: d.windows.mixed },
      map,
      // The group of the row being processed: rows wait in the timeline while it estimates the rate.
      (x, label) => c.add(x, label, this.timeline.current!),
    );
    this.windower.tally = tally;
    const opts = { hasTime: !!d.columns.time, ...d.time, channels: channels.length };
    this.timeline = new Timeline(file.path, opts, this.windower, tally);
  }

  record(fields: string[], line: number): void {
    if (!this.layout) {
      this.layout = layoutOf(this.c.d, this.file, fields, line, this.channels);
      return;
    }
    const L = this.layout;
    if (fields.length !== L.width)
      throw new TinyforgeError(
        `${this.file.path}:${line}: ${fields.length} fields, the header has ${L.width} (ragged row)`,
        'input',
        'every row needs one field per header column (an empty field is written as nothing between two delimiters)',
      );
    this.readValues(fields, line);
    const label = this.labelOf(fields[L.label], line);
    const group = this.groupOf(fields, line);
    const t = L.time >= 0 ? timeOf(this.c.d, this.file, fields[L.time], line) : undefined;
    this.timeline.push(t, this.values, label, line, group);
  }

  private readValues(fields: string[], line: number): void {
    let missing = false;
    for (let c = 0; c < this.channels.length; c++) {
      const s = fields[this.layout!.channels[c]];
      const v = +s;
      if (Number.isFinite(v)) {
        // '' and '  ' are 0 to JavaScript: an empty field is a missing value, not a zero.
        if (v !== 0 || s.trim() !== '') {
          this.values[c] = v * this.channels[c].scale;
          continue;
        }
      } else if (Number.isNaN(v) && !NON_FINITE.test(s.trim()))
        throw new TinyforgeError(
          `${this.file.path}:${line}: '${s}' in column '${this.channels[c].column}' is not a number`,
          'input',
        );
      this.missing(s, c, line);
      this.values[c] = NaN;
      missing = true;
    }
    if (missing) this.windower.tally!.nanRows++;
  }

  /** An empty, NaN or infinite value: an error, unless the description drops such windows. */
  private missing(s: string, c: number, line: number): void {
    if (this.c.d.repair.nan !== 'error') return;
    const what = s.trim() === '' ? 'empty' : `'${s.trim()}'`;
    throw new TinyforgeError(
      `${this.file.path}:${line}: column '${this.channels[c].column}' is ${what} (NaN, Inf or missing value)`,
      'input',
      'fix the file, or set "repair": {"nan": "drop-window"} to drop the windows that contain such rows',
    );
  }

  private labelOf(field: string, line: number): number {
    const raw = field.trim();
    const id = this.c.labels.id(raw);
    if (id !== UNKNOWN) return id;
    if (this.c.d.repair.unknownLabel === 'error')
      throw new TinyforgeError(
        `${this.file.path}:${line}: unknown label '${raw}' (${this.c.labels.describe()})`,
        'input',
        'add it to classes, map it with rename, list it in dropClasses, or set "repair": {"unknownLabel": "drop"}',
      );
    this.windower.tally!.unknownRows++;
    return id;
  }

  /** The split unit and subject of the row (the same object while they do not change). */
  private groupOf(fields: string[], line: number): Group {
    const L = this.layout!;
    const subject = L.subject >= 0 ? fields[L.subject].trim() : this.file.subject;
    const session = L.session >= 0 ? fields[L.session].trim() : this.file.session;
    if (subject === '' || session === '')
      throw new TinyforgeError(
        `${this.file.path}:${line}: empty ${subject === '' ? 'subject' : 'session'}`,
        'input',
      );
    const key = `${subject}\0${session}`;
    if (key !== this.groupKey || !this.group) {
      this.groupKey = key;
      this.group = this.c.group(this.file, subject, session);
    }
    return this.group;
  }

  finish(): void {
    this.timeline.finish();
  }
}

/** Reads one CSV/TSV file into the collector. */
export function readCsvSource(c: Collector, file: SourceFile): void {
  const { channels, length } = csvRequirements(c.d, file);
  const rows = new CsvRows(c, file, channels, length);
  const delimiter = c.d.delimiter ?? (file.format === 'tsv' ? '\t' : ',');
  readCsvRecords(file.path, delimiter, (fields, line) => rows.record(fields, line));
  rows.finish();
}
