// The time axis of one file: timestamps checked (strictly increasing), the sample rate estimated
// (median interval of the first rows), gaps beyond the tolerance split the recording into segments,
// and samples go on to the resampler (when a target rate is set) or straight to the windows.
import { TinyforgeError } from '../../util/errors.js';
import type { Group } from './collector.js';
import { LinearResampler } from './resample.js';
import type { FileTally } from './tally.js';
import { WHY } from './tally.js';
import type { Windower } from './windows.js';

/** Intervals the rate is estimated from: the median of the first ones bounds the memory it needs. */
export const ESTIMATE_INTERVALS = 2048;
/** Default gap tolerance, in nominal sample intervals. */
export const DEFAULT_GAP_INTERVALS = 3;
/** A rate given in the description may differ this much from the one the timestamps show. */
const RATE_TOLERANCE = 0.1;

export interface TimelineOptions {
  hasTime: boolean;
  /** time.rate: the source rate (required without timestamps). */
  rate?: number;
  /** time.resample: the target rate. */
  resample?: number;
  /** time.maxGap in seconds. */
  maxGap?: number;
  channels: number;
}

interface Pending {
  t: number;
  values: Float64Array;
  label: number;
  line: number;
  group: Group;
}

/** Median of positive numbers (upper median: no averaging). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export class Timeline {
  private pending: Pending[] | undefined;
  /** Group of the last row pushed, and of the row being processed (the windows' group). */
  private pushedGroup: Group | undefined;
  current: Group | undefined;
  private maxGap = Infinity;
  /** Last timestamp pushed (order check) and last one processed (gap check). */
  private lastT: number | undefined;
  private lastLine = 0;
  private procT: number | undefined;
  private procFirstT = 0;
  /** First timestamp of the current subject/session, and the time spanned by the finished ones. */
  private firstT: number | undefined;
  private spanned = 0;
  private rowIndex = 0;
  private inSegment = false;
  private segmentRows = 0;
  private readonly resampler?: LinearResampler;

  constructor(
    private readonly file: string,
    private readonly opts: TimelineOptions,
    private readonly windower: Windower,
    private readonly tally: FileTally,
  ) {
    if (opts.resample)
      this.resampler = new LinearResampler(opts.resample, opts.channels, (v, l) => windower.push(v, l));
    if (opts.hasTime) this.pending = [];
    else this.setNominal(opts.rate, 'given');
  }

  private setNominal(rate: number | undefined, from: 'timestamps' | 'given'): void {
    const nominal = this.opts.rate ?? rate;
    this.maxGap = this.opts.maxGap ?? (nominal ? DEFAULT_GAP_INTERVALS / nominal : Infinity);
    this.tally.rateHz = rate ?? this.opts.rate;
    this.tally.rateFrom = rate !== undefined ? from : this.opts.rate ? 'given' : undefined;
  }

  /** A new subject or session starts: its timestamps may start again. */
  private newGroup(): void {
    if (this.firstT !== undefined && this.lastT !== undefined) this.spanned += this.lastT - this.firstT;
    this.firstT = undefined;
    this.lastT = undefined;
  }

  /**
   * One row: timestamp in seconds (undefined without a timestamp column), values, label id, line,
   * and its subject/session group (a new group starts a new segment: no window spans two).
   */
  push(t: number | undefined, values: Float64Array, label: number, line: number, group: Group): void {
    this.tally.rows++;
    if (this.pushedGroup !== undefined && group !== this.pushedGroup) this.newGroup();
    this.pushedGroup = group;
    if (t !== undefined) this.checkOrder(t, line);
    if (this.pending) {
      this.pending.push({ t: t ?? 0, values: values.slice(), label, line, group });
      if (this.pending.length > ESTIMATE_INTERVALS) this.flushPending();
      return;
    }
    this.process(t ?? this.rowIndex / this.opts.rate!, values, label, line, group);
  }

  private checkOrder(t: number, line: number): void {
    if (this.lastT !== undefined && !(t > this.lastT))
      throw new TinyforgeError(
        `${this.file}:${line}: timestamp ${t} s ${t === this.lastT ? 'repeats' : 'is before'} the one on line ${this.lastLine} (${this.lastT} s): timestamps must increase`,
        'input',
        'sort the rows by time and remove duplicated rows',
      );
    this.firstT ??= t;
    this.lastT = t;
    this.lastLine = line;
  }

  /** Estimates the rate from the buffered rows, then processes them. */
  private flushPending(): void {
    const rows = this.pending!;
    this.pending = undefined;
    const intervals: number[] = [];
    for (let i = 1; i < rows.length; i++)
      if (rows[i].group === rows[i - 1].group) intervals.push(rows[i].t - rows[i - 1].t);
    const found = intervals.length ? 1 / median(intervals) : undefined;
    if (found && this.opts.rate && Math.abs(found / this.opts.rate - 1) > RATE_TOLERANCE)
      throw new TinyforgeError(
        `${this.file}: the timestamps give ${found.toPrecision(4)} Hz (median interval of the first ${intervals.length}), time.rate says ${this.opts.rate} Hz`,
        'input',
        'check time.rate and time.unit (s, ms, us, ns) in the description',
      );
    this.setNominal(found, 'timestamps');
    for (const r of rows) this.process(r.t, r.values, r.label, r.line, r.group);
  }

  private process(t: number, values: Float64Array, label: number, line: number, group: Group): void {
    if (group !== this.current) {
      this.endSegment();
      this.procT = undefined;
      this.current = group;
    }
    if (this.procT !== undefined && t - this.procT > this.maxGap) {
      this.tally.gap(line, this.procT - this.procFirstT, t - this.procT);
      this.endSegment();
    }
    if (this.procT === undefined) this.procFirstT = t;
    this.procT = t;
    this.rowIndex++;
    if (!this.inSegment) {
      this.inSegment = true;
      this.segmentRows = 0;
      this.tally.segments++;
      this.windower.startSegment();
      this.resampler?.reset();
    }
    this.segmentRows++;
    if (this.resampler) this.resampler.push(t, values, label);
    else this.windower.push(values, label);
  }

  private endSegment(): void {
    if (!this.inSegment) return;
    this.inSegment = false;
    if (this.windower.segmentWindows === 0) this.tally.dropRows(WHY.shortSegment, this.segmentRows);
  }

  /** The file has ended. */
  finish(): void {
    if (this.pending) this.flushPending();
    this.endSegment();
    if (this.firstT !== undefined && this.lastT !== undefined) this.spanned += this.lastT - this.firstT;
    this.tally.durationS = this.opts.hasTime ? this.spanned : this.rowIndex / this.opts.rate!;
  }
}
