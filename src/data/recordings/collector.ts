// What every source adds its windows to: one store (the first source fixes the window shape and the
// channels, later ones must agree), the units the splits are made of, the per-file tallies.
import { TinyforgeError } from '../../util/errors.js';
import type { GapReport } from '../report.js';
import { ChannelMap, type BaseChannel } from './channels.js';
import type { Description } from './description.js';
import { LabelMap } from './labels.js';
import type { SourceFile } from './sources.js';
import { WindowStore } from './store.js';
import { FileTally } from './tally.js';

export interface Group {
  unit: number;
  subject: number;
}

/** Receives every window kept, in file order (the store, or a benchmark's counter). */
export type WindowSink = (x: Float32Array, label: number, group: Group) => void;

export class Collector {
  readonly labels: LabelMap;
  readonly tallies: FileTally[] = [];
  readonly gaps: GapReport[] = [];
  store?: WindowStore;
  map?: ChannelMap;
  private baseNames = '';

  constructor(
    readonly d: Description,
    /** Where windows go instead of the store (streaming without keeping them). */
    private readonly sink?: WindowSink,
  ) {
    this.labels = new LabelMap(d);
  }

  tally(file: SourceFile): FileTally {
    const t = new FileTally(file, this.gaps);
    this.tallies.push(t);
    return t;
  }

  /** The channel map for a file with these source channels and windows of `steps` samples. */
  prepare(file: SourceFile, steps: number, base: BaseChannel[]): ChannelMap {
    const names = base.map((c) => c.name).join(',');
    if (!this.map) {
      this.map = new ChannelMap(this.d, base);
      this.store = new WindowStore(steps, this.map.size);
      this.baseNames = names;
    } else if (steps !== this.store!.steps || names !== this.baseNames)
      throw new TinyforgeError(
        `${file.path}: windows of ${steps} samples over channels ${names}, but the first file gave ${this.store!.steps} samples over ${this.baseNames}`,
        'input',
        'every source of one description must give windows of the same length and channels',
      );
    return this.map;
  }

  /** The split unit and subject of windows from `file` with this subject and session. */
  group(file: SourceFile, subject?: string, session?: string): Group {
    const store = this.store!;
    const missing = (what: string, how: string) =>
      new TinyforgeError(
        `${file.path}: split.by is '${this.d.split.by}' but no ${what} is known for this file`,
        'input',
        how,
      );
    let key: string;
    if (this.d.split.by === 'file') key = file.rel;
    else if (this.d.split.by === 'subject') {
      if (!subject)
        throw missing(
          'subject',
          'add a (?<subject>...) group to fileName, or columns.subject, or a subject array',
        );
      key = subject;
    } else {
      if (!session) throw missing('session', 'add a (?<session>...) group to fileName, or columns.session');
      key = subject ? `${subject}/${session}` : session;
    }
    // Without subjects, each file stands for one (the fallback validation split then keeps files whole).
    return { unit: store.unitNames.id(key), subject: store.subjectNames.id(subject ?? file.rel) };
  }

  /** Hands a kept window to the sink or the store. */
  add(x: Float32Array, label: number, group: Group): void {
    if (this.sink) this.sink(x, label, group);
    else this.store!.add(x, label, group.unit, group.subject);
  }
}
