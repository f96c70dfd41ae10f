// Synthetic human-activity windows shaped like UCI HAR: 50 Hz, 128 steps, 9 channels in the same
// order and units (body_acc g, body_gyro rad/s, total_acc g), the same six activities. Fully
// deterministic from a seed. The physics is a caricature, but the cues are the real ones:
//  - postures differ by the gravity direction in the sensor frame: LAYING clearly (gravity moves to
//    the z axis), SITTING vs STANDING only by a ~12 degree tilt, blurred by per-subject mounting offsets;
//  - walking activities differ by cadence, vertical amplitude, impact sharpness and forward lean;
//  - every subject has their own cadence, amplitude, gyro scale and sensor tilt; every window adds noise.
import { HAR_CHANNELS, HAR_CLASSES, type HarDataset, type WindowSet } from './dataset.js';
import { Rng } from './prng.js';

export const SYNTHETIC_RATE_HZ = 50;
export const SYNTHETIC_STEPS = 128;

export interface SyntheticOptions {
  seed: number;
  train: number;
  test: number;
  /** Subjects 1..subjects; the first 70% are training subjects, the rest test subjects. */
  subjects: number;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = { seed: 1, train: 2000, test: 600, subjects: 30 };

interface Subject {
  cadence: number;
  amplitude: number;
  gyro: number;
  pitch: number; // sensor mounting tilt, radians
  roll: number;
  noise: number;
}

interface Activity {
  /** Step frequency (Hz); 0 for postures. */
  freq: number;
  vert: number; // vertical acceleration amplitude (g)
  fore: number; // fore-aft amplitude (g)
  lat: number; // lateral amplitude (g)
  impact: number; // strength of the heel-strike harmonics
  gyro: number; // rad/s
  pitch: number; // body tilt, degrees
  roll: number;
}

const DEG = Math.PI / 180;

// Index = class index in HAR_CLASSES.
const ACTIVITIES: Activity[] = [
  { freq: 1.85, vert: 0.3, fore: 0.14, lat: 0.08, impact: 0.35, gyro: 0.6, pitch: 4, roll: 0 }, // WALKING
  { freq: 1.55, vert: 0.22, fore: 0.2, lat: 0.1, impact: 0.2, gyro: 0.45, pitch: 13, roll: 0 }, // UPSTAIRS
  { freq: 2.05, vert: 0.42, fore: 0.11, lat: 0.12, impact: 0.7, gyro: 0.8, pitch: -5, roll: 0 }, // DOWNSTAIRS
  { freq: 0, vert: 0.008, fore: 0.006, lat: 0.006, impact: 0, gyro: 0.03, pitch: 14, roll: 0 }, // SITTING
  { freq: 0, vert: 0.012, fore: 0.01, lat: 0.01, impact: 0, gyro: 0.045, pitch: 2, roll: 0 }, // STANDING
  { freq: 0, vert: 0.006, fore: 0.005, lat: 0.005, impact: 0, gyro: 0.025, pitch: 82, roll: 0 }, // LAYING
];

function makeSubject(seed: number, id: number): Subject {
  const r = Rng.derive(seed, `subject-${id}`);
  return {
    cadence: r.normal(1, 0.07),
    amplitude: Math.exp(r.normal(0, 0.2)),
    gyro: Math.exp(r.normal(0, 0.15)),
    pitch: r.normal(0, 4) * DEG,
    roll: r.normal(0, 5) * DEG,
    noise: r.uniform(0.8, 1.25),
  };
}

type Vec3 = [number, number, number];

function normalize3(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Writes one window (T x 9, channels last) for activity `a` of subject `s` into x at offset. */
function renderWindow(x: Float32Array, offset: number, a: number, s: Subject, r: Rng): void {
  const act = ACTIVITIES[a];
  const T = SYNTHETIC_STEPS;
  const C = HAR_CHANNELS.length;
  const pitch = act.pitch * DEG + s.pitch + r.normal(0, 3) * DEG;
  const roll = act.roll * DEG + s.roll + r.normal(0, a === 5 ? 15 : 3) * DEG;
  // Gravity in the sensor frame (x is vertical when upright, as for the waist-worn phone).
  const up = normalize3([
    Math.cos(pitch) * Math.cos(roll),
    Math.cos(pitch) * Math.sin(roll),
    Math.sin(pitch),
  ]);
  const fore = normalize3([-Math.sin(pitch), 0, Math.cos(pitch)]);
  const side: Vec3 = normalize3([
    up[1] * fore[2] - up[2] * fore[1],
    up[2] * fore[0] - up[0] * fore[2],
    up[0] * fore[1] - up[1] * fore[0],
  ]);
  const walking = act.freq > 0;
  const f = walking ? act.freq * s.cadence * r.normal(1, 0.03) : r.uniform(0.15, 0.5); // sway for postures
  const amp = s.amplitude * r.normal(1, 0.1);
  const ph = r.uniform(0, 2 * Math.PI);
  const ph2 = r.uniform(0, 2 * Math.PI);
  const ph3 = r.uniform(0, 2 * Math.PI);
  const accNoise = 0.012 * s.noise;
  const gyroNoise = 0.02 * s.noise;
  const g = act.gyro * s.gyro * r.normal(1, 0.1);
  for (let t = 0; t < T; t++) {
    const w = 2 * Math.PI * f * (t / SYNTHETIC_RATE_HZ);
    let v: number;
    let fa: number;
    let la: number;
    if (walking) {
      // Heel strikes: sharper peaks via harmonics, strongest going downstairs.
      v =
        act.vert *
        amp *
        (Math.sin(w + ph) + act.impact * (0.6 * Math.sin(2 * (w + ph)) + 0.35 * Math.sin(3 * (w + ph))));
      fa = act.fore * amp * Math.sin(w + ph + Math.PI / 2);
      la = act.lat * amp * Math.sin(0.5 * w + ph2);
    } else {
      v = act.vert * amp * Math.sin(w + ph);
      fa = act.fore * amp * Math.sin(0.7 * w + ph2);
      la = act.lat * amp * Math.sin(1.3 * w + ph3);
    }
    const i = offset + t * C;
    for (let k = 0; k < 3; k++) {
      const body = v * up[k] + fa * fore[k] + la * side[k] + r.normal(0, accNoise);
      x[i + k] = body; // body_acc
      x[i + 6 + k] = body + up[k]; // total_acc = body + gravity (1 g)
    }
    const half = walking ? 0.5 * w : 0.8 * w;
    x[i + 3] = g * 0.5 * Math.sin(half + ph3) + r.normal(0, gyroNoise);
    x[i + 4] = g * Math.sin(w + ph + 0.3) + r.normal(0, gyroNoise);
    x[i + 5] = g * 0.7 * Math.sin(half + ph2) + r.normal(0, gyroNoise);
  }
}

function generateSplit(opts: SyntheticOptions, n: number, subjectIds: number[], label: string): WindowSet {
  const T = SYNTHETIC_STEPS;
  const C = HAR_CHANNELS.length;
  const r = Rng.derive(opts.seed, label);
  const subjects = subjectIds.map((id) => makeSubject(opts.seed, id));
  const x = new Float32Array(n * T * C);
  const y = new Int32Array(n);
  const sid = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % ACTIVITIES.length;
    const k = r.int(subjectIds.length);
    y[i] = a;
    sid[i] = subjectIds[k];
    renderWindow(x, i * T * C, a, subjects[k], r);
  }
  return { x, y, subjects: sid, n, steps: T, channels: C };
}

/** Canonical spec string, e.g. `synthetic:seed=1,train=2000,test=600,subjects=30`. */
export function syntheticSpec(o: SyntheticOptions): string {
  return `synthetic:seed=${o.seed},train=${o.train},test=${o.test},subjects=${o.subjects}`;
}

export function generateSynthetic(options: Partial<SyntheticOptions> = {}): HarDataset {
  const opts = { ...SYNTHETIC_DEFAULTS, ...options };
  const nTrainSubjects = Math.max(1, Math.round(opts.subjects * 0.7));
  const ids = Array.from({ length: opts.subjects }, (_, i) => i + 1);
  const trainIds = ids.slice(0, nTrainSubjects);
  const testIds = ids.length > nTrainSubjects ? ids.slice(nTrainSubjects) : trainIds;
  return {
    kind: 'synthetic',
    spec: syntheticSpec(opts),
    source: `synthetic HAR (${syntheticSpec(opts)})`,
    classNames: [...HAR_CLASSES],
    channelNames: [...HAR_CHANNELS],
    train: generateSplit(opts, opts.train, trainIds, 'train'),
    test: generateSplit(opts, opts.test, testIds, 'test'),
  };
}
