// What a data source found, for `tinyforge data inspect` and training output: files, subjects,
// rates, classes per split, windows, gaps, what was dropped and why, repairs. Plain JSON values only.
// Recordings fill every field (src/data/recordings/); UCI HAR and the synthetic generator give what
// they know, derived from the loaded windows (reportFromDataset).
import type { HarDataset, WindowSet } from './dataset.js';

export interface FileReport {
  /** Relative to the description's folder (recordings) or absolute (UCI HAR). */
  path: string;
  /** 'csv', 'tsv', 'npz', 'npy' or 'uci-har-text'. */
  format: string;
  /** Data rows read (CSV), windows (arrays) or lines (UCI HAR text). */
  rows: number;
  subject?: string;
  session?: string;
  /** Sample rate: estimated from timestamps (median interval) or given. */
  rateHz?: number;
  rateFrom?: 'timestamps' | 'given';
  durationS?: number;
  /** Stretches without a gap (windows never span one). */
  segments?: number;
  gaps?: number;
  gapSeconds?: number;
  /** Windows made from this file, before the splits. */
  windows: number;
  droppedWindows: Record<string, number>;
  droppedRows: Record<string, number>;
}

export interface SplitReport {
  windows: number;
  /** Subject names (or ids) in this split. */
  subjects: string[];
  /** Units the split was made of (subjects, sessions or files), when not the subjects. */
  units?: string[];
  /** Windows per class, every class listed. */
  classes: Record<string, number>;
}

export interface GapReport {
  file: string;
  /** Line of the first row after the gap. */
  line: number;
  /** Time of the row before the gap, in seconds from the first timestamp of its file (or of its subject/session within the file). */
  atS: number;
  seconds: number;
}

export interface DataReport {
  kind: string;
  spec: string;
  source: string;
  rateHz?: number;
  steps: number;
  channels: { name: string; unit: string }[];
  classes: string[];
  splitBy?: string;
  files: FileReport[];
  subjects: { name: string; id: number; splits: string[]; windows: number }[];
  splits: { train: SplitReport; val?: SplitReport; test: SplitReport };
  windows: { kept: number; produced: number; dropped: Record<string, number> };
  rows: { read: number; dropped: Record<string, number> };
  /** Count and total length of the gaps, and the first ones found. */
  gaps: { count: number; seconds: number; first: GapReport[] };
  /** Repairs the description allowed: rows repaired and windows dropped because of them. */
  repairs: Record<string, { rows: number; windows: number }>;
  notes: string[];
}

/** Windows per class name. */
export function classTable(set: WindowSet, classNames: string[]): Record<string, number> {
  const counts = Object.fromEntries(classNames.map((c) => [c, 0]));
  for (let i = 0; i < set.n; i++) counts[classNames[set.y[i]]]++;
  return counts;
}

const subjectName = (ds: HarDataset, id: number) => ds.subjectNames?.[id - 1] ?? String(id);

function splitReport(ds: HarDataset, set: WindowSet): SplitReport {
  const ids = set.subjects ? [...new Set(set.subjects)].sort((a, b) => a - b) : [];
  return {
    windows: set.n,
    subjects: ids.map((id) => subjectName(ds, id)),
    classes: classTable(set, ds.classNames),
  };
}

function subjectsOf(ds: HarDataset, sets: [string, WindowSet][]): DataReport['subjects'] {
  const subjects = new Map<number, { splits: Set<string>; windows: number }>();
  for (const [name, set] of sets)
    for (let i = 0; set.subjects && i < set.n; i++) {
      const id = set.subjects[i];
      const s = subjects.get(id) ?? { splits: new Set<string>(), windows: 0 };
      s.splits.add(name);
      s.windows++;
      subjects.set(id, s);
    }
  return [...subjects.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, s]) => ({ name: subjectName(ds, id), id, splits: [...s.splits], windows: s.windows }));
}

/** The report of a source that only has its windows (UCI HAR, synthetic): nothing dropped, no gaps. */
export function reportFromDataset(
  ds: HarDataset,
  files: FileReport[] = [],
  notes: string[] = [],
): DataReport {
  const sets: [string, WindowSet][] = [
    ['train', ds.train],
    ...(ds.val ? [['val', ds.val] as [string, WindowSet]] : []),
    ['test', ds.test],
  ];
  const kept = sets.reduce((a, [, s]) => a + s.n, 0);
  return {
    kind: ds.kind,
    spec: ds.spec,
    source: ds.source,
    rateHz: ds.rateHz,
    steps: ds.train.steps,
    channels: ds.channelNames.map((name, i) => ({ name, unit: ds.channelUnits?.[i] ?? '' })),
    classes: [...ds.classNames],
    files,
    subjects: subjectsOf(ds, sets),
    splits: {
      train: splitReport(ds, ds.train),
      ...(ds.val ? { val: splitReport(ds, ds.val) } : {}),
      test: splitReport(ds, ds.test),
    },
    windows: { kept, produced: kept, dropped: {} },
    rows: { read: files.reduce((a, f) => a + f.rows, 0), dropped: {} },
    gaps: { count: 0, seconds: 0, first: [] },
    repairs: {},
    notes,
  };
}
