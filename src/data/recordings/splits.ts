// Train / validation / test by whole units (subjects, sessions or files): named in lists, or drawn
// as fractions of the units with a seed (lists first, fractions from the units left, train the rest).
// Then the stored windows are copied into one WindowSet per split, each class checked present.
import { TinyforgeError } from '../../util/errors.js';
import type { WindowSet } from '../dataset.js';
import { Rng } from '../prng.js';
import { classTable, type SplitReport } from '../report.js';
import type { Description } from './description.js';
import { naturalCompare } from './labels.js';
import type { WindowStore } from './store.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const HINT = 'see "split" in docs/data.md';

/**
 * The split of each unit (index = unit id; `windows` = its window count), undefined for a unit in
 * no split. Units without windows take part in no split.
 */
export function assignUnits(
  d: Description,
  allUnits: string[],
  windows: number[],
): (SplitName | undefined)[] {
  const out: (SplitName | undefined)[] = new Array(allUnits.length).fill(undefined);
  const index = new Map(allUnits.map((u, i) => [u, i]));
  const units = allUnits.filter((_, i) => windows[i] > 0);
  const kind = d.split.by;
  for (const name of ['test', 'val', 'train'] as const) {
    const list = d.split[name];
    if (!Array.isArray(list)) continue;
    list.forEach((u, k) => {
      const i = index.get(u);
      if (i !== undefined && windows[i] === 0)
        throw new TinyforgeError(
          `${d.path}: split.${name}[${k}]: ${kind} '${u}' has no window`,
          'input',
          HINT,
        );
      if (i === undefined)
        throw new TinyforgeError(
          `${d.path}: split.${name}[${k}]: no ${kind} '${u}' in the data (${units.slice().sort(naturalCompare).join(', ')})`,
          'input',
          HINT,
        );
      if (out[i])
        throw new TinyforgeError(
          `${d.path}: split.${name}[${k}]: '${u}' is in split.${out[i]} too`,
          'input',
          HINT,
        );
      out[i] = name;
    });
  }
  const rest = units.filter((u) => !out[index.get(u)!]).sort(naturalCompare);
  Rng.derive(d.split.seed, 'recordings-split').shuffle(rest);
  for (const name of ['test', 'val'] as const) {
    const f = d.split[name];
    if (typeof f !== 'number') continue;
    const take = Math.max(1, Math.round(f * units.length));
    // Always leave one unit for training.
    for (const u of rest.splice(0, Math.min(take, rest.length - 1))) out[index.get(u)!] = name;
  }
  if (!d.split.train) for (const u of rest) out[index.get(u)!] = 'train';
  for (const name of SPLITS) {
    if (name === 'val' && d.split.val === undefined) continue;
    if (!out.includes(name))
      throw new TinyforgeError(
        `${d.path}: split '${name}' has no ${kind}: the data has ${units.length} (${units.slice().sort(naturalCompare).join(', ')})`,
        'input',
        `add data, or make the split smaller; a split needs at least one whole ${kind}`,
      );
  }
  return out;
}

/** Final subject ids 1..S in natural order of the names. */
function subjectIds(store: WindowStore): { ids: Int32Array; names: string[] } {
  const names = [...store.subjectNames.names].sort(naturalCompare);
  const rank = new Map(names.map((n, i) => [n, i + 1]));
  return { ids: Int32Array.from(store.subjectNames.names, (n) => rank.get(n)!), names };
}

export interface BuiltSplits {
  sets: Partial<Record<SplitName, WindowSet>>;
  subjectNames: string[];
  /** Windows of units in no split. */
  unassigned: number;
}

/** Copies the stored windows into their splits (releasing the store as it goes). */
export function buildSplits(
  store: WindowStore,
  assign: (SplitName | undefined)[],
  remap?: Int32Array,
): BuiltSplits {
  const { ids, names } = subjectIds(store);
  const w = store.windowSize;
  const counts = { train: 0, val: 0, test: 0 };
  for (let i = 0; i < store.n; i++) {
    const s = assign[store.units.get(i)];
    if (s) counts[s]++;
  }
  const sets: Partial<Record<SplitName, WindowSet>> = {};
  for (const s of SPLITS)
    if (counts[s] || assign.includes(s))
      sets[s] = {
        x: new Float32Array(counts[s] * w),
        y: new Int32Array(counts[s]),
        subjects: new Int32Array(counts[s]),
        n: counts[s],
        steps: store.steps,
        channels: store.channels,
      };
  const at = { train: 0, val: 0, test: 0 };
  let unassigned = 0;
  store.drain((x, i) => {
    const s = assign[store.units.get(i)];
    if (!s) return void unassigned++;
    const set = sets[s]!;
    const k = at[s]++;
    set.x.set(x, k * w);
    const label = store.labels.get(i);
    set.y[k] = remap ? remap[label] : label;
    set.subjects![k] = ids[store.subjects.get(i)];
  });
  return { sets, subjectNames: names, unassigned };
}

/** Every class has a window in every split; throws naming the first that has none. */
export function checkClasses(d: Description, sets: BuiltSplits, classNames: string[]): void {
  for (const s of SPLITS) {
    const set = sets.sets[s];
    if (!set) continue;
    const counts = classTable(set, classNames);
    const empty = classNames.find((c) => counts[c] === 0);
    if (empty === undefined) continue;
    const subjects = [...new Set(set.subjects)].map((id) => sets.subjectNames[id - 1]);
    throw new TinyforgeError(
      `${d.path}: class '${empty}' has no window in the ${s} split (subjects ${subjects.sort(naturalCompare).join(', ')})`,
      'input',
      'choose other split lists or another split.seed, or drop the class (dropClasses)',
    );
  }
}

/** The report of one split. */
export function splitReport(
  d: Description,
  set: WindowSet,
  classNames: string[],
  subjectNames: string[],
  units: string[],
): SplitReport {
  const subjects = [...new Set(set.subjects)].sort((a, b) => a - b).map((id) => subjectNames[id - 1]);
  return {
    windows: set.n,
    subjects,
    ...(d.split.by !== 'subject' ? { units: [...units].sort(naturalCompare) } : {}),
    classes: classTable(set, classNames),
  };
}
