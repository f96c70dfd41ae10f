// A generated example recording set, shaped like what a user brings: a watch on the left wrist
// logging its IMU at ~100 Hz, one CSV per session, subject and session in the file name, one
// activity label per sample. Deterministic from a seed (src/data/prng.ts).
//
// Columns: time (s since the session started), acc_x/y/z (g, gravity included), gyro_x/y/z (rad/s),
// activity (walking, running, sitting, standing, cycling). Sensor frame: x along the forearm towards
// the hand, z out of the watch face.
//
// The physics is a caricature (as in synthetic.ts), but the cues are the real ones and none is
// clean:
//  - the forearm's orientation gives the gravity direction: hanging for walking and (mostly) for
//    standing, bent for running, resting on the lap or a desk for (mostly) sitting, on the handlebar
//    for cycling. Some sitting segments have the arm hanging and some standing segments hold a phone
//    in front: those differ only by the body's sway and fidgets;
//  - walking and running swing the arm at half the step rate and add heel strikes at the step rate;
//    they differ by cadence, swing, impact and elbow angle, each varying per subject and segment;
//  - cycling: pedalling cadence, little arm motion, broadband road vibration;
//  - every subject has their own cadence, amplitude, strap rotation, sensor bias and noise; every
//    device its own clock (100 Hz +- 1%); timestamps jitter by ~1 ms, and some sessions have a gap
//    where the logger dropped samples.
// Sessions chain several activities: labels change inside a file, and the posture and motion
// glide into the next activity over about a second (the label switches at once).
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { Rng } from './prng.js';

export const EXAMPLE_CLASSES = ['walking', 'running', 'sitting', 'standing', 'cycling'] as const;
export const EXAMPLE_CHANNELS = ['acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z'] as const;
/** The CSV header, in order. */
export const EXAMPLE_COLUMNS = ['time', ...EXAMPLE_CHANNELS, 'activity'] as const;
export const EXAMPLE_RATE_HZ = 100;
/** File name of the description written next to the CSV files. */
export const EXAMPLE_DESCRIPTION_FILE = 'recordings.json';

export interface ExampleRecordingOptions {
  /** Subjects s01..sNN (default 24). */
  subjects?: number;
  /** Default 1. */
  seed?: number;
  /** Sessions (files) per subject (default 2). Every subject does every activity at least once. */
  sessionsPerSubject?: number;
  /** Activities per session (default 3): a session is that many segments, one activity each. */
  segmentsPerSession?: number;
  /** Length of one activity segment in seconds, drawn uniformly in [min, max] (default [20, 40]). */
  segmentSeconds?: [number, number];
}

export const EXAMPLE_DEFAULTS: Required<ExampleRecordingOptions> = {
  subjects: 24,
  seed: 1,
  sessionsPerSubject: 2,
  segmentsPerSession: 3,
  segmentSeconds: [20, 40],
};

export interface ExampleSegment {
  /** Class index in EXAMPLE_CLASSES. */
  activity: number;
  seconds: number;
}

export interface ExampleSession {
  subject: number;
  session: number;
  /** File name, e.g. `s07_session2.csv`. */
  file: string;
  segments: ExampleSegment[];
}

const DEG = Math.PI / 180;
const ARM_M = 0.45; // shoulder to wrist
const G = 9.81;

function resolveOptions(opts: ExampleRecordingOptions): Required<ExampleRecordingOptions> {
  // Options given as undefined (e.g. from an absent CLI flag) take the default.
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: Required<ExampleRecordingOptions> = { ...EXAMPLE_DEFAULTS, ...given };
  const int = (v: number, min: number, what: string) => {
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`${what} must be an integer >= ${min}, got ${v}`);
  };
  int(o.subjects, 1, 'subjects');
  int(o.sessionsPerSubject, 1, 'sessionsPerSubject');
  int(o.segmentsPerSession, 1, 'segmentsPerSession');
  if (o.sessionsPerSubject * o.segmentsPerSession < EXAMPLE_CLASSES.length)
    throw new RangeError(
      `sessionsPerSubject x segmentsPerSession must be >= ${EXAMPLE_CLASSES.length} (every subject does every activity)`,
    );
  const [lo, hi] = o.segmentSeconds;
  if (!(lo >= 5 && hi >= lo)) throw new RangeError(`segmentSeconds [${lo}, ${hi}] must have 5 <= min <= max`);
  return o;
}

/** File name of a session: `s07_session2.csv` (subject numbers zero-padded to at least 2 digits). */
export function sessionFileName(subject: number, session: number, subjects: number): string {
  const width = Math.max(2, String(subjects).length);
  return `s${String(subject).padStart(width, '0')}_session${session}.csv`;
}

/**
 * Which activities each session holds and for how long: per subject, every activity once in a
 * shuffled order, then random ones (never the same twice in a row), cut into sessions.
 */
export function examplePlan(options: ExampleRecordingOptions = {}): ExampleSession[] {
  const o = resolveOptions(options);
  const out: ExampleSession[] = [];
  const K = EXAMPLE_CLASSES.length;
  for (let s = 1; s <= o.subjects; s++) {
    const r = Rng.derive(o.seed, `plan-${s}`);
    const acts = r.shuffle(Array.from({ length: K }, (_, i) => i));
    while (acts.length < o.sessionsPerSubject * o.segmentsPerSession) {
      let a = r.int(K);
      if (a === acts[acts.length - 1]) a = (a + 1 + r.int(K - 1)) % K;
      acts.push(a);
    }
    for (let k = 0; k < o.sessionsPerSubject; k++) {
      const segments = acts
        .slice(k * o.segmentsPerSession, (k + 1) * o.segmentsPerSession)
        .map((activity) => ({ activity, seconds: r.uniform(o.segmentSeconds[0], o.segmentSeconds[1]) }));
      out.push({ subject: s, session: k + 1, file: sessionFileName(s, k + 1, o.subjects), segments });
    }
  }
  return out;
}

interface Subject {
  cadence: number;
  amplitude: number;
  pitch: number; // mounting offsets, rad
  roll: number;
  lapSitting: number; // probability that a sitting segment rests the forearm (else it hangs)
  accScale: number[];
  accBias: number[];
  gyroBias: number[];
  noise: number;
  rateHz: number; // the device's true sample rate
}

function makeSubject(seed: number, id: number): Subject {
  const r = Rng.derive(seed, `rec-subject-${id}`);
  return {
    cadence: r.normal(1, 0.06),
    amplitude: Math.exp(r.normal(0, 0.18)),
    pitch: r.normal(0, 5) * DEG,
    roll: r.normal(0, 10) * DEG,
    lapSitting: r.uniform(0.7, 0.95),
    accScale: [0, 1, 2].map(() => r.normal(1, 0.015)),
    accBias: [0, 1, 2].map(() => r.normal(0, 0.015)),
    gyroBias: [0, 1, 2].map(() => r.normal(0, 0.01)),
    noise: r.uniform(0.8, 1.3),
    rateHz: EXAMPLE_RATE_HZ * (1 + r.uniform(-0.01, 0.01)),
  };
}

/** What a segment's motion converges to; the state glides towards it at a segment change. */
interface Target {
  pitch: number; // forearm elevation, rad (negative: hand below elbow)
  roll: number; // rotation about the forearm, rad
  freq: number; // step or pedal frequency, Hz (0: posture)
  swingPitch: number; // arm swing at freq/2, rad
  swingRoll: number;
  impact: number; // vertical acceleration at the step rate, g
  sharp: number; // heel-strike harmonics
  lateral: number; // side-to-side sway at freq/2, g
  yaw: number; // trunk rotation rate at freq/2, rad/s
  vibAcc: number; // broadband vibration, g
  vibGyro: number; // rad/s
  sway: number; // slow body sway, rad
  swayFreq: number; // Hz
  fidgetRate: number; // small hand movements per second
}

const TARGET_KEYS = [
  'pitch',
  'roll',
  'freq',
  'swingPitch',
  'swingRoll',
  'impact',
  'sharp',
  'lateral',
  'yaw',
  'vibAcc',
  'vibGyro',
  'sway',
  'swayFreq',
  'fidgetRate',
] as const;

function still(pitchDeg: number, rollDeg: number, sway: number, swayFreq: number, fidgetRate: number) {
  return {
    pitch: pitchDeg * DEG,
    roll: rollDeg * DEG,
    freq: 0,
    swingPitch: 0,
    swingRoll: 0,
    impact: 0,
    sharp: 0,
    lateral: 0,
    yaw: 0,
    vibAcc: 0,
    vibGyro: 0,
    sway: sway * DEG,
    swayFreq,
    fidgetRate,
  };
}

/** Walking and running: arm posture (mean, sd in degrees), step rate (Hz), arm swing (degrees), impacts. */
interface Gait {
  pitch: [number, number];
  roll: [number, number];
  freq: number;
  swingPitch: number;
  swingRoll: number;
  impact: number; // g
  sharp: number;
  lateral: number; // g
  yaw: number; // rad/s
}

// prettier-ignore
const GAITS: Record<'walking' | 'running', Gait> = {
  // Arm hanging and swinging.
  walking: { pitch: [-66, 7], roll: [75, 10], freq: 1.8, swingPitch: 20, swingRoll: 6, impact: 0.22, sharp: 0.5, lateral: 0.05, yaw: 0.35 },
  // Elbow bent, faster and harder steps.
  running: { pitch: [-8, 10], roll: [60, 12], freq: 2.65, swingPitch: 28, swingRoll: 9, impact: 0.85, sharp: 0.8, lateral: 0.09, yaw: 0.6 },
};

function gait(g: Gait, cadence: number, amp: number, r: Rng): Target {
  return {
    ...still(r.normal(...g.pitch), r.normal(...g.roll), 0, 0.2, 0),
    freq: g.freq * cadence,
    swingPitch: g.swingPitch * DEG * amp,
    swingRoll: g.swingRoll * DEG * amp,
    impact: g.impact * amp,
    sharp: g.sharp,
    lateral: g.lateral * amp,
    yaw: g.yaw * amp,
  };
}

function segmentTarget(activity: number, s: Subject, r: Rng): Target {
  const amp = s.amplitude * r.normal(1, 0.1);
  const cad = s.cadence * r.normal(1, 0.04);
  let t: Target;
  switch (EXAMPLE_CLASSES[activity]) {
    case 'walking':
    case 'running':
      t = gait(GAITS[EXAMPLE_CLASSES[activity] as keyof typeof GAITS], cad, amp, r);
      break;
    case 'sitting':
      t =
        r.next() < s.lapSitting
          ? still(r.normal(-8, 8), r.normal(15, 15), 1.2, r.uniform(0.1, 0.3), 0.05) // forearm on lap/desk
          : still(r.normal(-72, 6), r.normal(78, 10), 1.2, r.uniform(0.1, 0.3), 0.03); // arm hanging
      break;
    case 'standing':
      t =
        r.next() < 0.78
          ? still(r.normal(-72, 6), r.normal(78, 10), 3.5, r.uniform(0.2, 0.45), 0.04) // arm hanging
          : still(r.normal(-14, 9), r.normal(20, 14), 3.5, r.uniform(0.2, 0.45), 0.06); // phone in hand
      break;
    default: // cycling
      t = {
        ...still(r.normal(-24, 8), r.normal(14, 12), 0.8, 0.2, 0),
        freq: 1.35 * r.normal(1, 0.1), // pedalling, ~80 rpm
        swingPitch: 2.5 * DEG * amp,
        swingRoll: 2 * DEG * amp,
        impact: 0.05 * amp,
        sharp: 0.2,
        lateral: 0.04 * amp,
        yaw: 0.05,
        vibAcc: 0.05 * r.uniform(0.6, 1.6),
        vibGyro: 0.1 * r.uniform(0.6, 1.6),
      };
  }
  t.pitch += s.pitch;
  t.roll += s.roll;
  return t;
}

interface Fidget {
  start: number;
  dur: number;
  freq: number;
  pitch: number;
  roll: number;
}

/** Writes a CSV file in 1 MB chunks of ASCII bytes, through a temporary name renamed at the end. */
class ChunkedCsvWriter {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private readonly tmp: string;
  bytes = 0;

  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.tmp`;
    this.fd = openSync(this.tmp, 'w');
  }

  /** Room for one more field (fields are far shorter than 256 bytes). */
  private reserve(): void {
    if (this.pos > this.buf.length - 256) this.flush();
  }

  private flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.bytes += this.pos;
    this.pos = 0;
  }

  text(s: string): void {
    this.reserve();
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  raw(b: Uint8Array): void {
    this.reserve();
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** `v` with exactly 4 decimals ("-0.0191", "12.3456"), then the byte `sep`. */
  fixed4(v: number, sep: number): void {
    this.reserve();
    const buf = this.buf;
    let k = Math.round(v * 1e4);
    if (k < 0) {
      buf[this.pos++] = 45; // '-'
      k = -k;
    }
    const int = Math.floor(k / 1e4);
    let frac = k - int * 1e4;
    if (int < 10) buf[this.pos++] = 48 + int;
    else this.pos += buf.write(String(int), this.pos, 'latin1');
    buf[this.pos++] = 46; // '.'
    for (let d = 3; d >= 0; d--) {
      buf[this.pos + d] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    this.pos += 4;
    buf[this.pos++] = sep;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }
}

const COMMA = 44;
const LABEL_BYTES = EXAMPLE_CLASSES.map((c) => Buffer.from(`${c}\n`, 'latin1'));

/** Renders one session's samples as CSV lines; returns the number of rows. */
function renderSession(plan: ExampleSession, seed: number, subject: Subject, out: ChunkedCsvWriter): number {
  const r = Rng.derive(seed, `rec-${plan.subject}-${plan.session}`);
  const targets = plan.segments.map((g) => segmentTarget(g.activity, subject, r));
  const ends: number[] = [];
  let total = 0;
  for (const g of plan.segments) ends.push((total += g.seconds));
  // One gap in about a third of the sessions, away from the ends.
  const gap =
    r.next() < 0.35 && total > 30
      ? (() => {
          const start = r.uniform(10, total - 10);
          return { start, end: start + r.uniform(0.3, 2.5) };
        })()
      : undefined;
  const period = 1 / subject.rateHz;
  const state: Target = { ...targets[0] };
  const tau = 0.45; // seconds: how fast posture and motion settle into a new activity
  const settle = 40 * tau;
  const phase = r.uniform(0, 2 * Math.PI);
  let ph = phase; // step phase, 2 pi per step
  const swayPh = [r.uniform(0, 2 * Math.PI), r.uniform(0, 2 * Math.PI)];
  let fidget: Fidget | undefined;
  const { accScale: sc, accBias: ab, gyroBias: gb } = subject;
  const accNoise = 0.008 * subject.noise;
  const gyroNoise = 0.006 * subject.noise;
  let prevT = -period;
  let prevPitch = NaN;
  let prevRoll = NaN;
  let seg = 0;
  let rows = 0;
  let lastTime = -Infinity;
  const n = Math.floor(total * subject.rateHz);
  for (let k = 0; k < n; k++) {
    // Device clock: nominal period plus jitter (< 3 ms, the period is ~10 ms: always increasing).
    const t = 0.003 + k * period + Math.max(-0.003, Math.min(0.003, r.normal(0, 0.0008)));
    while (seg < ends.length - 1 && t >= ends[seg]) seg++;
    const dt = t - prevT;
    prevT = t;
    const target = targets[seg];
    if (seg > 0 && t - ends[seg - 1] < settle) {
      const a = 1 - Math.exp(-dt / tau);
      for (const key of TARGET_KEYS) state[key] += (target[key] - state[key]) * a;
    } else if (state !== target) Object.assign(state, target); // settled (within e-18)
    ph += 2 * Math.PI * state.freq * dt * (1 + 0.03 * Math.sin((2 * Math.PI * t) / 23 + phase));
    const half = 0.5 * ph;
    // Fidgets: short hand movements while still.
    if (!fidget && r.next() < state.fidgetRate * dt)
      fidget = {
        start: t,
        dur: r.uniform(0.8, 2),
        freq: r.uniform(1.2, 3),
        pitch: r.normal(0, 10) * DEG,
        roll: r.normal(0, 12) * DEG,
      };
    let fp = 0;
    let fr = 0;
    if (fidget) {
      const u = (t - fidget.start) / fidget.dur;
      if (u >= 1) fidget = undefined;
      else {
        const env = 0.5 - 0.5 * Math.cos(2 * Math.PI * u);
        const w = Math.sin(2 * Math.PI * fidget.freq * (t - fidget.start));
        fp = fidget.pitch * env * w;
        fr = fidget.roll * env * (1 - Math.cos(2 * Math.PI * fidget.freq * (t - fidget.start)));
      }
    }
    const sw = state.swayFreq * 2 * Math.PI * t;
    const swayP = state.sway * (Math.sin(sw + swayPh[0]) + 0.5 * Math.sin(2.3 * sw + swayPh[1]));
    const swayR = state.sway * (Math.sin(0.8 * sw + swayPh[1]) + 0.4 * Math.sin(1.9 * sw + swayPh[0]));
    const pitch = state.pitch + state.swingPitch * Math.sin(half) + swayP + fp;
    const roll = state.roll + state.swingRoll * Math.sin(half + 0.6) + swayR + fr;
    // Arm swing as a pendulum: tangential and centripetal acceleration at the wrist.
    const w2 = Math.PI * state.freq; // angular frequency of the swing (half the step rate)
    const thetaDot = state.swingPitch * w2 * Math.cos(half);
    const thetaDdot = -state.swingPitch * w2 * w2 * Math.sin(half);
    // Gravity (the accelerometer's 1 g reaction) in the sensor frame.
    const cp = Math.cos(pitch);
    const up0 = Math.sin(pitch);
    const up1 = -cp * Math.sin(roll);
    const up2 = cp * Math.cos(roll);
    const vert =
      state.impact * (Math.cos(ph) + state.sharp * (0.5 * Math.cos(2 * ph) + 0.25 * Math.cos(3 * ph)));
    const lat = state.lateral * Math.sin(half + 1.1);
    const vib = state.vibAcc;
    const ax = up0 * (1 + vert) - (ARM_M * thetaDot * thetaDot) / G + r.normal(0, vib + accNoise);
    const ay = up1 * (1 + vert) + lat + r.normal(0, vib + accNoise);
    const az = up2 * (1 + vert) + (ARM_M * thetaDdot) / G + r.normal(0, vib + accNoise);
    // Angular rate from the orientation's change (the first sample of a file or after a gap has none).
    const fresh = !(dt < 3 * period) || Number.isNaN(prevPitch);
    const rollRate = fresh ? 0 : (roll - prevRoll) / dt;
    const pitchRate = fresh ? 0 : (pitch - prevPitch) / dt;
    prevPitch = pitch;
    prevRoll = roll;
    const gv = state.vibGyro;
    const gx = rollRate + r.normal(0, gv + gyroNoise);
    const gy = pitchRate + r.normal(0, gv + gyroNoise);
    const gz = state.yaw * Math.sin(half + 2.2) + r.normal(0, gv + gyroNoise);
    if (gap && t >= gap.start && t < gap.end) continue; // the logger dropped these samples
    const time = Math.round(t * 1e4);
    if (time <= lastTime) continue; // never happens with < 3 ms jitter; kept as a guarantee
    lastTime = time;
    out.fixed4(time / 1e4, COMMA);
    out.fixed4(ax * sc[0] + ab[0], COMMA);
    out.fixed4(ay * sc[1] + ab[1], COMMA);
    out.fixed4(az * sc[2] + ab[2], COMMA);
    out.fixed4(gx + gb[0], COMMA);
    out.fixed4(gy + gb[1], COMMA);
    out.fixed4(gz + gb[2], COMMA);
    out.raw(LABEL_BYTES[plan.segments[seg].activity]);
    rows++;
  }
  return rows;
}

/**
 * The description (docs/data.md) that windows the example set: timestamps in seconds, resampled
 * (linear interpolation) from the devices' ~100 Hz to exactly 50 Hz; 2 s windows (100 samples) every
 * second, those that straddle an activity change dropped; subjects from the file names, split by
 * subject: 20% test, 15% validation.
 */
export function exampleDescription(): Record<string, unknown> {
  return {
    format: 'tinyforge-data/1',
    description: 'Generated example: a watch IMU at ~100 Hz, 5 activities (tinyforge data example)',
    sources: '*.csv',
    fileName: 's(?<subject>\\d+)_session(?<session>\\d+)\\.csv$',
    columns: { time: 'time', label: 'activity' },
    channels: EXAMPLE_CHANNELS.map((name) => ({ name, unit: name.startsWith('acc') ? 'g' : 'rad/s' })),
    time: { unit: 's', resample: 50 },
    windows: { length: 100, hop: 50, mixed: 'drop' },
    classes: [...EXAMPLE_CLASSES],
    split: { by: 'subject', test: 0.2, val: 0.15, seed: 1 },
  };
}

/** Compact JSON: `{ "a": 1 }` and `[1, 2]` on one line each. */
function inlineJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inlineJson).join(', ')}]`;
  if (v !== null && typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${inlineJson(x)}`)
      .join(', ')} }`;
  return JSON.stringify(v);
}

/** The description as a short file: one line per key, one per channel. */
export function descriptionText(d: Record<string, unknown>): string {
  const lines = Object.entries(d).map(([k, v]) => {
    const key = JSON.stringify(k);
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object'))
      return `  ${key}: [\n${v.map((x) => `    ${inlineJson(x)}`).join(',\n')}\n  ]`;
    return `  ${key}: ${inlineJson(v)}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

/**
 * Writes the example recording set into `dir` (created if needed): one CSV per session, streamed to
 * disk in chunks, and the description `recordings.json` that windows it. Deterministic for a seed.
 * Returns the description's path and the CSV paths (in subject, session order).
 */
export function writeExampleRecordings(
  dir: string,
  opts: ExampleRecordingOptions = {},
): { description: string; files: string[] } {
  const o = resolveOptions(opts);
  const plans = examplePlan(o);
  mkdirSync(dir, { recursive: true });
  // The description reads every *.csv of the folder: other CSV files would join the data set.
  const ours = new Set(plans.map((p) => p.file));
  const others = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.csv') && !ours.has(f));
  if (others.length)
    throw new TinyforgeError(
      `${dir} holds CSV files that are not part of this example set (${others.slice(0, 3).join(', ')}${others.length > 3 ? `, ... ${others.length} in all` : ''}); its description would read them too`,
      'usage',
      'write the example set into an empty folder, or remove those files',
    );
  const files: string[] = [];
  const subjects = new Map<number, Subject>();
  for (const plan of plans) {
    let subject = subjects.get(plan.subject);
    if (!subject) subjects.set(plan.subject, (subject = makeSubject(o.seed, plan.subject)));
    const path = join(dir, plan.file);
    const w = new ChunkedCsvWriter(path);
    try {
      w.text(`${EXAMPLE_COLUMNS.join(',')}\n`);
      renderSession(plan, o.seed, subject, w);
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
    files.push(path);
  }
  const description = join(dir, EXAMPLE_DESCRIPTION_FILE);
  writeFileAtomic(description, descriptionText(exampleDescription()));
  return { description, files };
}
