// Fixed-length windows over one segment of samples (a stretch without a gap): a ring buffer of the
// last `length` samples, a window every `hop` samples, its label by the description's rule. Memory is
// one window, whatever the file's size; a new segment empties the ring, so no window spans a gap.
import type { ChannelMap } from './channels.js';
import { DROPPED, UNKNOWN } from './labels.js';
import { WHY, type FileTally } from './tally.js';

export interface WindowRules {
  length: number;
  hop: number;
  label: 'majority' | 'center' | 'last';
  mixed: 'drop' | 'keep';
}

/** Receives each window kept: `x` (length x channels, reused for the next window) and its class id. */
export type WindowOut = (x: Float32Array, label: number) => void;

/** The label of a window whose labels (in time order) are `lab`. */
export function windowLabel(lab: Int32Array, rule: WindowRules['label']): number {
  if (rule === 'center') return lab[lab.length >> 1];
  if (rule === 'last') return lab[lab.length - 1];
  // Majority; on a tie, the label that reached that count first (the earlier one in time).
  const counts = new Map<number, number>();
  let best = lab[0];
  let bestCount = 0;
  for (const l of lab) {
    const c = (counts.get(l) ?? 0) + 1;
    counts.set(l, c);
    if (c > bestCount) {
      best = l;
      bestCount = c;
    }
  }
  return best;
}

export class Windower {
  private readonly ring: Float32Array;
  private readonly ringLabels: Int32Array;
  private readonly x: Float32Array;
  private readonly lab: Int32Array;
  private count = 0;
  /** Windows made in the current segment (kept or dropped). */
  segmentWindows = 0;
  tally?: FileTally;

  constructor(
    private readonly rules: WindowRules,
    private readonly map: ChannelMap,
    private readonly out: WindowOut,
  ) {
    this.ring = new Float32Array(rules.length * map.size);
    this.ringLabels = new Int32Array(rules.length);
    this.x = new Float32Array(rules.length * map.size);
    this.lab = new Int32Array(rules.length);
  }

  startSegment(): void {
    this.count = 0;
    this.segmentWindows = 0;
  }

  /** One sample: source channel values and label id. */
  push(src: ArrayLike<number>, label: number): void {
    const L = this.rules.length;
    const slot = this.count % L;
    this.map.apply(src, 0, this.ring, slot * this.map.size);
    this.ringLabels[slot] = label;
    this.count++;
    if (this.count >= L && (this.count - L) % this.rules.hop === 0) this.emit();
  }

  /** Copies the ring into time order, then keeps or drops the window. */
  private emit(): void {
    const L = this.rules.length;
    const C = this.map.size;
    const start = this.count % L;
    this.x.set(this.ring.subarray(start * C), 0);
    this.x.set(this.ring.subarray(0, start * C), (L - start) * C);
    this.lab.set(this.ringLabels.subarray(start), 0);
    this.lab.set(this.ringLabels.subarray(0, start), L - start);
    this.segmentWindows++;
    const label = this.decide();
    if (typeof label === 'string') {
      this.tally?.dropWindow(label);
      return;
    }
    if (this.tally) this.tally.windows++;
    this.out(this.x, label);
  }

  /** The window's class id, or why it is dropped. */
  private decide(): number | string {
    for (let i = 0; i < this.x.length; i++) if (!Number.isFinite(this.x[i])) return WHY.nan;
    const lab = this.lab;
    let mixed = false;
    for (let i = 0; i < lab.length; i++) {
      if (lab[i] === UNKNOWN) return WHY.unknownLabel;
      if (lab[i] !== lab[0]) mixed = true;
    }
    if (mixed && this.rules.mixed === 'drop') return WHY.labelChange;
    const label = windowLabel(lab, this.rules.label);
    return label === DROPPED ? WHY.droppedClass : label;
  }
}
