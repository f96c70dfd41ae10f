// The one in-memory form of every data set: fixed-length windows, channels last.
import { TinyforgeError } from '../util/errors.js';

/** A set of windows: x[i*T*C + t*C + c] is channel c at step t of window i. */
export interface WindowSet {
  x: Float32Array;
  /** Class index 0..K-1 per window. */
  y: Int32Array;
  /** Subject (person) id per window, where the source knows it. */
  subjects?: Int32Array;
  n: number;
  steps: number;
  channels: number;
}

export interface HarDataset {
  /** 'uci-har', 'synthetic' or 'recordings' (a dataset description, docs/data.md). */
  kind: string;
  /** How to load it again: a directory, a synthetic spec (`synthetic:seed=1,...`) or a description file. */
  spec: string;
  /** Human-readable provenance (resolved path, generator settings). */
  source: string;
  classNames: string[];
  channelNames: string[];
  /** Training split. Without `val`, validation is taken from it by whole subjects (prepareData). */
  train: WindowSet;
  /** Validation split chosen by the source itself (a description's `split.val`). */
  val?: WindowSet;
  test: WindowSet;
  /** Sample rate of the windows (Hz), where the source knows it. */
  rateHz?: number;
  /** Unit of each channel ('' when unknown), where the source knows them. */
  channelUnits?: string[];
  /** Name of subject id i at index i-1, when the source names its subjects (recordings). */
  subjectNames?: string[];
}

/** Channel order of every HAR source: body_acc xyz (g), body_gyro xyz (rad/s), total_acc xyz (g). */
export const HAR_CHANNELS = [
  'body_acc_x',
  'body_acc_y',
  'body_acc_z',
  'body_gyro_x',
  'body_gyro_y',
  'body_gyro_z',
  'total_acc_x',
  'total_acc_y',
  'total_acc_z',
] as const;

export const HAR_CLASSES = [
  'WALKING',
  'WALKING_UPSTAIRS',
  'WALKING_DOWNSTAIRS',
  'SITTING',
  'STANDING',
  'LAYING',
] as const;

/** The windows at the given indices, in that order. */
export function subset(set: WindowSet, indices: ArrayLike<number>): WindowSet {
  const w = set.steps * set.channels;
  const x = new Float32Array(indices.length * w);
  const y = new Int32Array(indices.length);
  const subjects = set.subjects ? new Int32Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= set.n) throw new RangeError(`window index ${i} out of range 0..${set.n - 1}`);
    x.set(set.x.subarray(i * w, (i + 1) * w), k * w);
    y[k] = set.y[i];
    if (subjects) subjects[k] = set.subjects![i];
  }
  return { x, y, subjects, n: indices.length, steps: set.steps, channels: set.channels };
}

/** Windows per class. */
export function classCounts(set: WindowSet, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < set.n; i++) counts[set.y[i]]++;
  return counts;
}

/** Checks a set's internal consistency (sizes, label range); throws 'input' naming `what`. */
export function checkWindowSet(set: WindowSet, numClasses: number, what: string): void {
  const bad = (why: string): never => {
    throw new TinyforgeError(`${what}: ${why}`, 'input');
  };
  if (set.x.length !== set.n * set.steps * set.channels)
    bad(`${set.x.length} values for ${set.n} windows of ${set.steps}x${set.channels}`);
  if (set.y.length !== set.n) bad(`${set.y.length} labels for ${set.n} windows`);
  if (set.subjects && set.subjects.length !== set.n)
    bad(`${set.subjects.length} subject ids for ${set.n} windows`);
  for (let i = 0; i < set.n; i++)
    if (!(set.y[i] >= 0 && set.y[i] < numClasses))
      bad(`label ${set.y[i]} of window ${i} is not in 0..${numClasses - 1}`);
}
