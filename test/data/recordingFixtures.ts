// Recordings the data tests generate: per-sample labels in runs, timestamps with jitter and gaps, and
// channel values that make the result checkable. `ramp` is linear in time (2t + 1), so after linear
// resampling consecutive samples of a window differ by exactly 2 / rate and a window spanning a gap
// would show a jump; `code` is the index of the sample's label in CODES, so every window can be
// checked against its label. `down` is the recorder's own clock, -(t - time lost in gaps): linear in
// t within a segment, but not across a gap, so a window interpolated over a gap would show it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Rng } from '../../src/data/prng.js';
import { writeRecordingCsv, type CsvField } from '../../src/data/recordings/writeCsv.js';
import { TinyforgeError } from '../../src/util/errors.js';

export const CODES = ['walk', 'run', 'sit', 'stand', 'jog', 'transition'];

export interface RecordingSpec {
  rate: number;
  /** Label runs: [label, seconds]. */
  runs: [string, number][];
  /** Timestamp jitter as a fraction of the interval (uniform +-). */
  jitter?: number;
  /** Gaps: after this many seconds of recording, nothing for `seconds`. */
  gaps?: { after: number; seconds: number }[];
  /** Extra channels beyond ramp, down, flat, code (names x4, x5, ...). */
  extra?: number;
  seed?: number;
  t0?: number;
}

export const ramp = (t: number) => 2 * t + 1;

export function recordingHeader(spec: RecordingSpec): string[] {
  const extra = Array.from({ length: spec.extra ?? 0 }, (_, i) => `x${i + 4}`);
  return ['t', 'ramp', 'down', 'flat', 'code', ...extra, 'label'];
}

/** The rows of a recording: t, ramp, down, flat, code, extra..., label. */
export function recordingRows(spec: RecordingSpec): CsvField[][] {
  const rng = new Rng(spec.seed ?? 1);
  const rows: CsvField[][] = [];
  const dt = 1 / spec.rate;
  let elapsed = 0;
  let shift = spec.t0 ?? 0;
  const gaps = [...(spec.gaps ?? [])];
  for (const [label, seconds] of spec.runs) {
    const n = Math.round(seconds * spec.rate);
    for (let i = 0; i < n; i++, elapsed += dt) {
      if (gaps.length && elapsed >= gaps[0].after) shift += gaps.shift()!.seconds;
      const t = shift + elapsed + (spec.jitter ? rng.uniform(-spec.jitter, spec.jitter) * dt : 0);
      const extra = Array.from({ length: spec.extra ?? 0 }, (_, k) =>
        Number(Math.sin(t * (k + 1)).toFixed(6)),
      );
      rows.push([
        Number(t.toFixed(6)),
        Number(ramp(t).toFixed(6)),
        Number((shift - t).toFixed(6)),
        0.5,
        CODES.indexOf(label),
        ...extra,
        label,
      ]);
    }
  }
  return rows;
}

export function writeRecording(path: string, spec: RecordingSpec): void {
  writeRecordingCsv(path, recordingHeader(spec), recordingRows(spec));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value, null, 2));
  return p;
}

/** The TinyforgeError('input') `f` throws; fails when it throws nothing or something else. */
export function inputError(f: () => unknown, ...parts: (string | RegExp)[]): TinyforgeError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TinyforgeError').toBeInstanceOf(TinyforgeError);
  expect((err as TinyforgeError).category).toBe('input');
  for (const p of parts) expect((err as Error).message).toMatch(p);
  return err as TinyforgeError;
}

/** Escapes a path for use in a RegExp. */
export const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
