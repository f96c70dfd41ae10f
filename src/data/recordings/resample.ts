// Resampling to the target rate by linear interpolation, streamed: output sample k of a segment is
// at t0 + k / rate (t0 = the segment's first timestamp), each channel interpolated between the two
// input samples around it; its label is the label of the nearer of the two (the earlier on a tie).
// Only the previous input sample is kept, so memory does not grow with the recording.

/** Receives one output sample: channel values (reused) and label id. */
export type SampleOut = (values: Float64Array, label: number) => void;

export class LinearResampler {
  private readonly prev: Float64Array;
  private readonly cur: Float64Array;
  private prevT = 0;
  private prevLabel = 0;
  private t0 = 0;
  private k = 0;
  private started = false;

  constructor(
    private readonly rate: number,
    channels: number,
    private readonly out: SampleOut,
  ) {
    this.prev = new Float64Array(channels);
    this.cur = new Float64Array(channels);
  }

  /** Starts a new segment: the next sample is its first. */
  reset(): void {
    this.started = false;
  }

  /** One input sample at time t (seconds, increasing within a segment). */
  push(t: number, values: ArrayLike<number>, label: number): void {
    if (!this.started) {
      this.started = true;
      this.t0 = t;
      this.k = 1;
      this.prev.set(values);
      this.prevT = t;
      this.prevLabel = label;
      this.out(this.prev.slice(), label);
      return;
    }
    const span = t - this.prevT;
    // Times computed from k, never accumulated, so rounding does not drift over long recordings.
    for (let tk = this.t0 + this.k / this.rate; tk <= t; tk = this.t0 + this.k / this.rate) {
      const f = (tk - this.prevT) / span;
      for (let c = 0; c < this.cur.length; c++) this.cur[c] = this.prev[c] + f * (values[c] - this.prev[c]);
      this.out(this.cur, f <= 0.5 ? this.prevLabel : label);
      this.k++;
    }
    this.prev.set(values);
    this.prevT = t;
    this.prevLabel = label;
  }
}
