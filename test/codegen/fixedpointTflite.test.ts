// TFLite's int8 arithmetic: tf_fixedpoint_tflite.h (templates/fixedpoint_tflite.h.hbs, the one C
// implementation) against src/fixedpoint/tflite.ts (the definition), bit for bit, and tflite.ts
// against known values. SaturatingRoundingDoublingHighMul on every pair of edge values and random
// pairs and its ties; RoundingDivideByPOT at every exponent 0..31 on edge values, ties and random
// values; MultiplyByQuantizedMultiplier at every shift with edge and random multipliers and inputs;
// the requantization with its zero point and activation clamps; the average pooling division for
// every window size 1..256; Add at parameter sets from random scales on every pair of int8 inputs;
// gemmlowp's exp and reciprocal and whole Softmax rows. Both rounding variants of the requantization
// (TFLite 2.21 rounds Conv2D and DepthwiseConv2D twice, FullyConnected once: tflite.ts
// TFLITE_2_21_ROUNDING), each with its C function. The same check program
// (harness/fixedpoint_tflite_check.c) runs compiled by gcc and clang on the host and cross-compiled
// for the Cortex-M4 on QEMU; on the host it also checks the compile-time float computations
// (QuantizeMultiplier, the Conv2D and FullyConnected multipliers, the RELU6 range) of tflite.ts
// against the same computations written as TFLite writes them, with libm's frexp/round.
import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../src/codegen/templates.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { mulberry32 } from '../../src/data/prng.js';
import {
  INT32_MAX,
  INT32_MIN,
  activationRange,
  add,
  addParams,
  averagePool,
  convMultiplier,
  expOnNegativeValues,
  fastRequant,
  frexp,
  getReciprocal,
  fullyConnectedMultiplier,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  requantize,
  roundHalfAway,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  softmaxParams,
  softmaxRow,
  type FusedActivation,
  type Rounding,
} from '../../src/fixedpoint/tflite.js';
import { parseTfRecords, requireTargetSuccess } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { tempDir } from '../helpers/temp.js';
import { clangPresent, compileClean, STRICT } from './cbuild.js';

const HEADER = 'tf_fixedpoint_tflite.h';
const CHECK_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'harness', 'fixedpoint_tflite_check.c');

/** The operations of fixedpoint_tflite_check.c, by record op code. */
const OP = {
  srdhm: 0,
  rdbpot: 1,
  mbqm: 2,
  mbqmSingle: 16,
  requant: 3,
  requantSingle: 17,
  requantFast: 18,
  requantSingleFast: 19,
  average: 4,
  addParams1: 5,
  addParams2: 6,
  add: 7,
  quantizeMultiplier: 8,
  convMultiplier: 9,
  fcMultiplier: 10,
  relu6Range: 11,
  exp: 12,
  reciprocal: 13,
  softmaxParams: 14,
  softmax: 15,
} as const;

/** One record: op, six operands, and what tflite.ts gives (plus a second result for the float ops). */
type Rec = [op: number, a: number, b: number, c: number, d: number, e: number, f: number, want: number];

/** Records packed as the check program reads them (eight int32 each), grown as they come. */
class Records {
  words = new Int32Array(8 * 65536);
  length = 0;

  push(...r: Rec): void {
    if ((this.length + 1) * 8 > this.words.length) {
      const grown = new Int32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words.set(r, this.length * 8);
    this.length++;
  }

  at(i: number): Rec {
    return Array.from(this.words.subarray(i * 8, i * 8 + 8)) as Rec;
  }

  *[Symbol.iterator](): IterableIterator<Rec> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  append(other: Records): this {
    for (const r of other) this.push(...r);
    return this;
  }

  bytes(): Buffer {
    return Buffer.from(this.words.buffer, 0, this.length * 32);
  }
}

const around = (x: number, d = 2): number[] => Array.from({ length: 2 * d + 1 }, (_, i) => x - d + i);
const inInt32 = (x: number): boolean => Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX;
const unique = (v: number[]): number[] => [...new Set(v)].filter(inInt32);
const uniform = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** int32 values where products, shifts and saturation change behaviour. */
const EDGES = unique([
  ...around(INT32_MIN, 2),
  ...around(INT32_MAX, 2),
  ...around(0, 3),
  ...[15, 16, 30].flatMap((k) => [...around(2 ** k, 1), ...around(-(2 ** k), 1)]),
  ...around(3 * 2 ** 29, 1),
  ...around(-3 * 2 ** 29, 1),
  123456789,
  -987654321,
]);

interface VectorSize {
  randomPairs: number;
  randomPerShift: number;
  averageRandom: number;
  addSets: number;
  /** Add: every pair of int8 inputs, or the first input against these. */
  addSecond: 'all' | number[];
  floatRandom: number;
}

const FULL: VectorSize = {
  randomPairs: 200_000,
  randomPerShift: 4000,
  averageRandom: 40,
  addSets: 10,
  addSecond: 'all',
  floatRandom: 60_000,
};
const REDUCED: VectorSize = {
  randomPairs: 2000,
  randomPerShift: 60,
  averageRandom: 2,
  addSets: 4,
  addSecond: [-128, -127, -64, -1, 0, 1, 63, 126, 127],
  floatRandom: 0,
};

const INT8S = Array.from({ length: 256 }, (_, i) => i - 128);
const ACTIVATIONS: FusedActivation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];
const ROUNDINGS: Rounding[] = ['double', 'single'];
const randomInt32 = (rng: () => number): number => uniform(rng, INT32_MIN, INT32_MAX);
/** A multiplier as TFLite's QuantizeMultiplier makes them: [2^30, 2^31). */
const randomMultiplier = (rng: () => number): number => uniform(rng, 2 ** 30, INT32_MAX);

/** float32 bits of a value (rounded to float32) as an int32. */
function floatBits(x: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x);
  return v.getInt32(0);
}

function doubleBits(x: number): [number, number] {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return [v.getInt32(0), v.getInt32(4)];
}

/** A random float32 scale spanning [2^-lo2, 2^hi2) log-uniformly. */
function randomScale(rng: () => number, lo2 = -16, hi2 = 2): number {
  return Math.fround(2 ** (lo2 + (hi2 - lo2) * rng()));
}

function integerVectors(size: VectorSize, rng: () => number): Records {
  const out = new Records();
  const srdhm = (a: number, b: number): void => {
    out.push(OP.srdhm, a, b, 0, 0, 0, 0, saturatingRoundingDoublingHighMul(a, b));
  };
  for (const a of EDGES) for (const b of EDGES) srdhm(a, b);
  // Ties: a*b = odd * 2^30, exactly half way between two results.
  for (let k = 0; k <= 30; k++)
    for (const j of [0, 1, 2, 7, 1000]) {
      const odd = 2 * j + 1;
      if (odd * 2 ** (30 - k) > INT32_MAX) continue;
      for (const [sa, sb] of [
        [1, 1],
        [1, -1],
        [-1, 1],
        [-1, -1],
      ])
        srdhm(sa * 2 ** k, sb * odd * 2 ** (30 - k));
    }
  for (let i = 0; i < size.randomPairs; i++) {
    srdhm(randomInt32(rng), i % 2 ? randomInt32(rng) : randomMultiplier(rng));
  }

  for (let e = 0; e <= 31; e++) {
    const xs = [...EDGES];
    if (e > 0) {
      const h = 2 ** (e - 1);
      for (const k of [0, 1, 2, 3, 1000])
        xs.push(...around(k * 2 ** e + h, 1), ...around(-(k * 2 ** e) - h, 1));
    }
    for (let i = 0; i < size.randomPerShift / 10; i++) xs.push(randomInt32(rng));
    for (const x of unique(xs)) out.push(OP.rdbpot, x, e, 0, 0, 0, 0, roundingDivideByPOT(x, e));
  }

  for (const rounding of ROUNDINGS) requantVectors(size, rounding, rng, out);
  addVectors(size, rng, out);
  softmaxVectors(size, rng, out);
  return out;
}

/** MultiplyByQuantizedMultiplier and the requantization of one rounding variant. */
function requantVectors(size: VectorSize, rounding: Rounding, rng: () => number, out: Records): void {
  const [mbqmOp, requantOp] =
    rounding === 'double' ? [OP.mbqm, OP.requant] : [OP.mbqmSingle, OP.requantSingle];
  const maxShift = rounding === 'single' ? 30 : 31;
  const multipliers = [0, 1, 2, 2 ** 30, 2 ** 30 + 1, INT32_MAX - 1, INT32_MAX, 1518500250];
  for (let shift = -31; shift <= maxShift; shift++) {
    const recs: [number, number][] = [];
    for (const m of multipliers) for (const x of EDGES) recs.push([x, m]);
    // Ties in the final rounding: with m = 2^30, SRDHM(x) = x / 2 for even x, and x / 2 =
    // odd * 2^(right - 1) sits half way for the right shift.
    const right = Math.max(0, -shift);
    if (right > 0)
      for (const j of [0, 1, 5, 100]) {
        const x = (2 * j + 1) * 2 ** right;
        if (x <= INT32_MAX) recs.push([x, 2 ** 30], [-x, 2 ** 30]);
      }
    for (let i = 0; i < size.randomPerShift; i++) {
      // Accumulators of realistic size half the time: their results are not all saturated or 0.
      const x = i % 2 ? randomInt32(rng) : uniform(rng, -(2 ** 20), 2 ** 20);
      recs.push([x, randomMultiplier(rng)]);
    }
    for (const [x, m] of recs) {
      out.push(mbqmOp, x, m, shift, 0, 0, 0, multiplyByQuantizedMultiplier(x, m, shift, rounding));
    }
  }

  fastRequantVectors(size, rounding, rng, out);

  for (let i = 0; i < size.randomPerShift * 4; i++) {
    const m = i % 7 === 0 ? multipliers[i % multipliers.length] : randomMultiplier(rng);
    const shift = uniform(rng, -14, 1);
    const zp = uniform(rng, -128, 127);
    const range = activationRange(ACTIVATIONS[i % 4], randomScale(rng, -8, 0), zp);
    if (range.min > range.max) continue;
    const acc = [EDGES[i % EDGES.length], randomInt32(rng), uniform(rng, -(2 ** 22), 2 ** 22)][i % 3];
    const want = requantize(acc, m, shift, zp, range, rounding);
    out.push(requantOp, acc, m, shift, zp, range.min, range.max, want);
  }
}

/**
 * The Cortex-M4 form of the requantization (tfl_requant_*_fast) at every right shift it takes, on
 * accumulators where tflite.ts fastRequant says it applies (double rounding: |acc| < 2^30):
 * edges, ties of both roundings, random values; random zero points and activation clamps.
 */
function fastRequantVectors(size: VectorSize, rounding: Rounding, rng: () => number, out: Records): void {
  const op = rounding === 'double' ? OP.requantFast : OP.requantSingleFast;
  const bound = rounding === 'double' ? 2 ** 30 - 1 : INT32_MAX;
  const lastRight = rounding === 'double' ? 31 : 30;
  const inRange = (x: number): boolean => Math.abs(x) <= bound && x >= INT32_MIN;
  const edges = unique([
    ...EDGES.filter(inRange),
    ...around(bound, 2).filter(inRange),
    ...around(-bound, 2).filter(inRange),
  ]);
  const multipliers = [2 ** 30, 2 ** 30 + 1, INT32_MAX - 1, INT32_MAX, 1518500250];
  for (let right = 1; right <= lastRight; right++) {
    const shift = rounding === 'double' ? -right : -right - 1;
    const recs: [number, number][] = [];
    for (const m of multipliers) for (const x of edges) recs.push([x, m]);
    if (right === 1) for (const x of edges) recs.push([x, 0]);
    // Ties: SaturatingRoundingDoublingHighMul's (odd x times 2^30), RoundingDivideByPOT's (x / 2 =
    // odd * 2^(right - 1)), the single rounding's (x * 2^30 = odd * 2^(31 + right)).
    for (const j of [0, 1, 5, 100, 12345]) {
      for (const x of [2 * j + 1, (2 * j + 1) * 2 ** right, (2 * j + 1) * 2 ** (right + 1)])
        if (inRange(x)) recs.push([x, 2 ** 30], [-x, 2 ** 30], [x + 1, 2 ** 30], [-x - 1, 2 ** 30]);
    }
    for (let i = 0; i < size.randomPerShift; i++) {
      const x = i % 2 ? uniform(rng, -bound, bound) : uniform(rng, -(2 ** 20), 2 ** 20);
      recs.push([x, randomMultiplier(rng)]);
    }
    let taken = 0;
    recs.forEach(([x, m], i) => {
      const q = { multiplier: m, shift: m === 0 ? 0 : shift };
      // A zero point whose offset fits (near right 31, only the small ones do).
      let zp = i % 3 === 0 ? 0 : uniform(rng, -128, 127);
      if (fastRequant(q, rounding, Math.abs(x), zp) === null) zp = 0;
      const form = fastRequant(q, rounding, Math.abs(x), zp);
      // Its bound is conservative: the largest accumulators at right 31 are left to the other form.
      if (form === null) return;
      if (form.right !== right) throw new Error(`right shift ${form.right} for ${x} ${m} ${right}`);
      taken++;
      const range = activationRange(ACTIVATIONS[i % 4], randomScale(rng, -8, 0), zp);
      if (range.min > range.max) return;
      out.push(
        op,
        x,
        m,
        right,
        zp,
        range.min,
        range.max,
        requantize(x, q.multiplier, q.shift, zp, range, rounding),
      );
    });
    if (taken < recs.length / 2)
      throw new Error(`only ${taken} of ${recs.length} fast cases at right ${right}`);
  }
}

/** The average pooling division and Add (which round as the reference source: twice). */
function addVectors(size: VectorSize, rng: () => number, out: Records): void {
  // Sums of n int8 values: every result changes where sum = (k +- 1/2) n; ties for even n.
  for (let n = 1; n <= 256; n++) {
    const lo = -128 * n;
    const hi = 127 * n;
    const sums = [lo, lo + 1, hi - 1, hi, ...around(0, 2)];
    for (const k of [-128, -100, -1, 0, 1, 99, 127]) sums.push(...around(Math.trunc((k + 0.5) * n), 1));
    for (const k of [-128, -1, 1, 127]) sums.push(...around(Math.trunc((k - 0.5) * n), 1));
    for (let i = 0; i < size.averageRandom; i++) sums.push(uniform(rng, lo, hi));
    for (const s of unique(sums)) {
      if (s < lo || s > hi) continue;
      const range = s % 5 === 0 ? { min: -3, max: 100 } : { min: -128, max: 127 };
      out.push(OP.average, s, n, range.min, range.max, 0, 0, averagePool(s, n, range));
    }
  }

  const second = size.addSecond === 'all' ? INT8S : size.addSecond;
  for (let k = 0; k < size.addSets; k++) {
    // Scales of the same order (as in a residual block) and far apart; the output may be coarser.
    const s1 = randomScale(rng, -10, 0);
    const s2 = k % 3 === 0 ? s1 : k % 3 === 1 ? Math.fround(s1 * (0.5 + rng())) : randomScale(rng, -10, 0);
    const sOut = Math.fround(Math.max(s1, s2) * (0.5 + 2 * rng()));
    const p = addParams(
      s1,
      uniform(rng, -128, 127),
      s2,
      uniform(rng, -128, 127),
      sOut,
      uniform(rng, -128, 127),
      ACTIVATIONS[k % 3],
    );
    out.push(
      OP.addParams1,
      p.input1Offset,
      p.input2Offset,
      p.leftShift,
      p.input1.multiplier,
      p.input1.shift,
      p.input2.multiplier,
      0,
    );
    out.push(
      OP.addParams2,
      p.input2.shift,
      p.output.multiplier,
      p.output.shift,
      p.outputOffset,
      p.range.min,
      p.range.max,
      0,
    );
    for (const a of INT8S) for (const b of second) out.push(OP.add, a, b, 0, 0, 0, 0, add(a, b, p));
  }
}

/** gemmlowp's exp and reciprocal on edge and random values, and whole Softmax rows of 1..4 values. */
function softmaxVectors(size: VectorSize, rng: () => number, out: Records): void {
  const exps = [0, -1, -2, INT32_MIN, INT32_MIN + 1, -(2 ** 24), -(2 ** 24) - 1, -(2 ** 26), -(2 ** 30)];
  for (let k = 0; k <= 30; k++) exps.push(-(2 ** k), -(2 ** k) + 1, -(2 ** k) - 1);
  for (let i = 0; i < size.randomPerShift * 10; i++)
    exps.push(i % 2 ? -uniform(rng, 0, 2 ** 31) : -uniform(rng, 0, 2 ** 28));
  for (const a of unique(exps)) out.push(OP.exp, a, 0, 0, 0, 0, 0, expOnNegativeValues(a));
  // Sums of exps in Q12.19: from one exp of 1.0 (2^19) up to thousands of them.
  const sums = [1, 2, 2 ** 19, 2 ** 19 + 1, 2 ** 20 - 1, 2 ** 20, 2 ** 30, INT32_MAX];
  for (let i = 0; i < size.randomPerShift * 5; i++)
    sums.push(uniform(rng, 2 ** 19, i % 2 ? 2 ** 26 : 2 ** 31 - 1));
  for (const x of unique(sums)) {
    const r = getReciprocal(x, 12);
    out.push(OP.reciprocal, x, r.bitsOverUnit, 0, 0, 0, 0, r.reciprocal);
  }
  const scales = [1 / 16, 0.05, 0.1, 0.25, 0.5, 1, 4, 2 ** -10, 0.0039];
  for (let k = 0; k < size.addSets * 2; k++) scales.push(randomScale(rng, -10, 3));
  for (const scale of scales) {
    const p = softmaxParams(scale, 1);
    out.push(OP.softmaxParams, p.multiplier, p.leftShift, p.diffMin, 0, 0, 0, 0);
    for (let i = 0; i < size.randomPerShift / 4; i++) {
      const n = 1 + (i % 4);
      const row = Array.from({ length: 4 }, (_, j) => (j < n ? uniform(rng, -128, 127) : 0));
      if (i % 5 === 0) row.fill(row[0], 0, n); // ties: all equal
      if (i % 7 === 0) row[0] = 127; // one far above the rest
      const y = softmaxRow(row.slice(0, n), p);
      const packed = y.reduce((acc, v, j) => acc | ((v & 255) << (8 * j)), 0);
      out.push(OP.softmax, row[0], row[1], row[2], row[3], n, 0, packed);
    }
  }
}

/** Doubles where QuantizeMultiplier changes behaviour, and random ones of every magnitude. */
function multiplierDoubles(size: VectorSize, rng: () => number): number[] {
  const v = [
    0,
    1,
    0.5,
    0.75,
    2,
    1e-3,
    2 ** -31,
    2 ** -32,
    2 ** -33,
    2 ** -31 * 0.75,
    2 ** 30,
    2 ** 31,
    2 ** 40,
  ];
  v.push(
    1 - 2 ** -33,
    1 - 2 ** -32,
    1 - 2 ** -31,
    0.5 - 2 ** -34,
    2 ** -32 * (1 - 2 ** -33),
    5e-324,
    2 ** -1030,
  );
  // Fractions whose Q0.31 value is exactly k + 1/2: std::round takes them away from zero.
  for (const k of [2 ** 30, 2 ** 30 + 1, 1518500249, INT32_MAX - 1]) v.push(((k + 0.5) / 2 ** 31) * 2 ** -5);
  for (let i = 0; i < size.floatRandom; i++) v.push((0.5 + rng() / 2) * 2 ** uniform(rng, -40, 33));
  return [...v, ...v.map((x) => -x)];
}

/** QuantizeMultiplier and the multipliers as TFLite 2.21 computes them (the default build: no cap). */
function floatVectors(size: VectorSize, rng: () => number, out: Records): Records {
  for (const m of multiplierDoubles(size, rng)) {
    const q = quantizeMultiplier(m);
    out.push(OP.quantizeMultiplier, ...doubleBits(m), q.shift, 0, 0, 0, q.multiplier);
  }
  for (let i = 0; i < size.floatRandom / 4; i++) {
    const [a, b, c] = [randomScale(rng, -12, 0), randomScale(rng, -10, -4), randomScale(rng, -8, 0)];
    const conv = quantizeMultiplier(convMultiplier(a, b, c));
    const fc = quantizeMultiplier(fullyConnectedMultiplier(a, b, c));
    const bits = [floatBits(a), floatBits(b), floatBits(c)] as const;
    out.push(OP.convMultiplier, ...bits, conv.shift, 0, 0, conv.multiplier);
    out.push(OP.fcMultiplier, ...bits, fc.shift, 0, 0, fc.multiplier);
  }
  // 6 / scale near k + 1/2 (float32 scales 6 / (k + 1/2) and their neighbours), and random scales.
  const scales: number[] = [];
  for (let k = 1; k <= 300; k++) {
    const s = Math.fround(6 / (k + 0.5));
    scales.push(s, Math.fround(s * (1 + 2 ** -23)), Math.fround(s * (1 - 2 ** -23)));
  }
  for (let i = 0; i < size.floatRandom / 10; i++) scales.push(randomScale(rng, -10, 0));
  scales.forEach((s, i) => {
    const zp = ((i * 37) % 256) - 128;
    const r = activationRange('RELU6', s, zp);
    out.push(OP.relu6Range, floatBits(s), zp, r.min, 0, 0, 0, r.max);
  });
  return out;
}

interface CheckRun {
  n: number;
  bad: number;
  /** TFL_DSP as compiled: 1 where the *_fast functions are the Cortex-M4 instructions. */
  dsp: number;
  /** The first disagreements, readable. */
  first: string[];
}

function parseRun(stdout: string, recs: Records): CheckRun {
  const records = parseTfRecords(stdout);
  const names = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));
  const first = records
    .filter((r) => r.key === 'bad')
    .map((r) => {
      const rec = recs.at(Number(r.fields[0]));
      return `${names[rec[0]]}(${rec.slice(1, 7).join(', ')}): C ${r.fields[1]} / ${r.fields[2]}, tflite.ts ${rec[7]}`;
    });
  const total = records.find((r) => r.key === 'n')?.fields ?? [];
  return {
    n: Number(total[0]),
    bad: Number(total[1]),
    dsp: Number(records.find((r) => r.key === 'dsp')?.fields[0] ?? -1),
    first,
  };
}

const dir = tempDir('tf-fixedpoint-tflite-');
let full = new Records();
let reduced = new Records();
let clang = false;

beforeAll(async () => {
  writeFileSync(
    join(dir, HEADER),
    render('fixedpoint_tflite.h', { fixedpointHeader: HEADER, version: 'test' }),
  );
  copyFileSync(CHECK_SOURCE, join(dir, 'fixedpoint_tflite_check.c'));
  const rng = mulberry32(20261205);
  full = floatVectors(FULL, rng, integerVectors(FULL, rng));
  reduced = integerVectors(REDUCED, mulberry32(7));
  writeFileSync(join(dir, 'full.bin'), full.bytes());
  writeFileSync(join(dir, 'reduced.bin'), reduced.bytes());
  clang = await clangPresent();
});

describe('tflite.ts on known values', () => {
  it('SaturatingRoundingDoublingHighMul: to nearest, ties up (the nudge 1 - 2^30), the one saturation', () => {
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX)).toBe(-INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    // 2 * a * b / 2^32 = 0.5 -> 1 and -0.5 -> 0: the negative nudge is one short of 2^30, so a
    // negative tie goes towards zero (every tie up); -0.75 -> -1; 0.25 -> 0.
    expect(saturatingRoundingDoublingHighMul(2 ** 15, 2 ** 15)).toBe(1);
    expect(saturatingRoundingDoublingHighMul(-(2 ** 15), 2 ** 15)).toBe(0);
    expect(saturatingRoundingDoublingHighMul(-3 * 2 ** 14, 2 ** 15)).toBe(-1);
    expect(saturatingRoundingDoublingHighMul(2 ** 14, 2 ** 15)).toBe(0);
    expect(saturatingRoundingDoublingHighMul(3 * 2 ** 14, 2 ** 15)).toBe(1);
    expect(saturatingRoundingDoublingHighMul(1000, 2 ** 30)).toBe(500);
  });

  it('RoundingDivideByPOT: ties away from zero at every exponent', () => {
    expect(roundingDivideByPOT(3, 1)).toBe(2);
    expect(roundingDivideByPOT(-3, 1)).toBe(-2);
    expect(roundingDivideByPOT(-5, 2)).toBe(-1);
    expect(roundingDivideByPOT(-6, 2)).toBe(-2);
    expect(roundingDivideByPOT(7, 0)).toBe(7);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(2 ** 30, 31)).toBe(1);
    expect(roundingDivideByPOT(-(2 ** 30), 31)).toBe(-1);
    expect(roundingDivideByPOT(2 ** 30 - 1, 31)).toBe(0);
  });

  it('MultiplyByQuantizedMultiplier: the two variants, and where they differ', () => {
    // 0.75 * 2^-1 applied to 5: 1.875 -> 2 either way.
    expect(multiplyByQuantizedMultiplier(5, 3 * 2 ** 29, -1, 'double')).toBe(2);
    expect(multiplyByQuantizedMultiplier(5, 3 * 2 ** 29, -1, 'single')).toBe(2);
    // x = -3, m = 2^30 (0.5), shift -1: -0.75 exactly; double: SRDHM(-3, 2^30) = -1.5 -> -2, then
    // -2 / 2 = -1; single: floor(-0.75 + 0.5) = -1.
    expect(multiplyByQuantizedMultiplier(-3, 2 ** 30, -1, 'double')).toBe(-1);
    expect(multiplyByQuantizedMultiplier(-3, 2 ** 30, -1, 'single')).toBe(-1);
    // x = 1, m = 0.75 * 2^31, shift -1: 0.375; double: SRDHM = 0.75 -> 1, then 1 / 2 = 0.5 -> 1;
    // single: floor(0.375 + 0.5) = 0. Double rounding's off-by-one.
    expect(multiplyByQuantizedMultiplier(1, 3 * 2 ** 29, -1, 'double')).toBe(1);
    expect(multiplyByQuantizedMultiplier(1, 3 * 2 ** 29, -1, 'single')).toBe(0);
    // A tie: -2 * 0.5 * 2^-1 = -0.5: SRDHM gives -1 exactly, RoundingDivideByPOT takes -0.5 away
    // from zero (double); single rounding takes it up.
    expect(multiplyByQuantizedMultiplier(-2, 2 ** 30, -1, 'double')).toBe(-1);
    expect(multiplyByQuantizedMultiplier(-2, 2 ** 30, -1, 'single')).toBe(0);
    // A left shift: 100 * 0.5 * 2^3 = 400.
    expect(multiplyByQuantizedMultiplier(100, 2 ** 30, 3, 'double')).toBe(400);
    expect(multiplyByQuantizedMultiplier(100, 2 ** 30, 3, 'single')).toBe(400);
  });

  it('the Cortex-M4 form of the requantization: where it applies, its shift and offset', () => {
    const m = { multiplier: 1518500250, shift: -7 };
    expect(fastRequant(m, 'double', 2 ** 30 - 1, -3)).toEqual({ right: 7, offset: 64 - 3 * 128 });
    expect(fastRequant(m, 'single', INT32_MAX, 5)).toEqual({ right: 6, offset: 32 + 5 * 64 });
    // Two roundings need 2 * acc to fit; neither form shifts left; one rounding needs a shift <= -2.
    expect(fastRequant(m, 'double', 2 ** 30, 0)).toBeNull();
    expect(fastRequant({ multiplier: 2 ** 30, shift: 0 }, 'double', 100, 0)).toBeNull();
    expect(fastRequant({ multiplier: 2 ** 30, shift: -1 }, 'single', 100, 0)).toBeNull();
    expect(fastRequant({ multiplier: 2 ** 30, shift: -1 }, 'double', 100, 0)).toEqual({
      right: 1,
      offset: 1,
    });
    // A flushed channel (0/0) gives the zero point either way; an offset that overflows does not apply.
    expect(fastRequant({ multiplier: 0, shift: 0 }, 'double', 2 ** 29, 9)).toEqual({ right: 1, offset: 19 });
    expect(fastRequant({ multiplier: 2 ** 30, shift: -31 }, 'double', 100, 5)).toBeNull();
    // The form itself, in exact arithmetic: (round(2 acc m / 2^32) + offset - (acc < 0)) >> right.
    for (const acc of [-1000001, -640, -64, -1, 0, 63, 64, 65, 999999]) {
      const f = fastRequant(m, 'double', 2 ** 29, -3)!;
      const v = Math.floor((2 * acc * m.multiplier + 2 ** 31) / 2 ** 32);
      const y = Math.floor((v + f.offset - (acc < 0 ? 1 : 0)) / 2 ** f.right);
      expect(Math.max(-128, Math.min(127, y))).toBe(
        requantize(acc, m.multiplier, m.shift, -3, { min: -128, max: 127 }),
      );
    }
  });

  it('QuantizeMultiplier: frexp, rounding to Q0.31, renormalizing, flushing, capping', () => {
    expect(frexp(1)).toEqual({ fraction: 0.5, exponent: 1 });
    expect(frexp(0.75)).toEqual({ fraction: 0.75, exponent: 0 });
    expect(frexp(-3)).toEqual({ fraction: -0.75, exponent: 2 });
    expect(frexp(5e-324)).toEqual({ fraction: 0.5, exponent: -1073 });
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 3 * 2 ** 29, shift: 0 });
    // The fraction rounds up to 2^31: halved, the exponent one up.
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    // Q0.31 value k + 1/2 goes away from zero.
    expect(quantizeMultiplier((2 ** 30 + 0.5) / 2 ** 31)).toEqual({ multiplier: 2 ** 30 + 1, shift: 0 });
    expect(quantizeMultiplier(2 ** 40, 'double')).toEqual({ multiplier: 2 ** 30, shift: 41 });
    expect(quantizeMultiplier(2 ** 40, 'single')).toEqual({ multiplier: INT32_MAX, shift: 30 });
    expect(roundHalfAway(0.49999999999999994)).toBe(0);
    expect(roundHalfAway(-2.5)).toBe(-3);
    expect(roundHalfAway(2.5)).toBe(3);
  });

  it('the fused activation ranges and the average pooling division', () => {
    expect(activationRange('NONE', 0.1, 5)).toEqual({ min: -128, max: 127 });
    expect(activationRange('RELU', 0.1, -20)).toEqual({ min: -20, max: 127 });
    expect(activationRange('RELU6', 0.05, -128)).toEqual({ min: -128, max: -8 });
    expect(activationRange('RELU6', 0.01, -128)).toEqual({ min: -128, max: 127 });
    expect(activationRange('RELU_N1_TO_1', 0.01, 0)).toEqual({ min: -100, max: 100 });
    const all = { min: -128, max: 127 };
    expect(averagePool(5, 2, all)).toBe(3); // 2.5 -> 3
    expect(averagePool(-5, 2, all)).toBe(-3); // -2.5 -> -3
    expect(averagePool(-4, 3, all)).toBe(-1); // -1.33 -> -1
    expect(averagePool(5, 3, all)).toBe(2); // 1.67 -> 2
    expect(averagePool(300, 2, { min: 0, max: 100 })).toBe(100);
  });

  it('Add: the multipliers of equal scales, and adding zeros', () => {
    const p = addParams(0.5, 3, 0.5, -7, 1, 0);
    expect(p.leftShift).toBe(20);
    expect(p.input1).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(p.input2).toEqual({ multiplier: 2 ** 30, shift: 0 });
    // 2 * 0.5 / (2^20 * 1) = 2^-20: fraction 0.5, exponent -19.
    expect(p.output).toEqual({ multiplier: 2 ** 30, shift: -19 });
    // (3 - 3) * 0.5 + (-7 + 7) * 0.5 = 0; (13 - 3) * 0.5 + (-7 + 7) * 0.5 = 5.
    expect(add(3, -7, p)).toBe(0);
    expect(add(13, -7, p)).toBe(5);
    // (20 - 3) * 0.5 + (-1 + 7) * 0.5 = 11.5: away from zero; the sum saturates at 127.
    expect(add(20, -1, p)).toBe(12);
    expect(add(127, 127, p)).toBe(127);
  });
});

describe('the test vectors', () => {
  it('reach every int8 output of the operator steps, and every op', () => {
    const recs = [...full];
    const outputs = (op: number) => new Set(recs.filter((x) => x[0] === op).map((x) => x[7]));
    expect(outputs(OP.requant).size).toBe(256);
    expect(outputs(OP.requantSingle).size).toBe(256);
    expect(outputs(OP.requantFast).size).toBe(256);
    expect(outputs(OP.requantSingleFast).size).toBe(256);
    expect(outputs(OP.average).size).toBe(256);
    expect(outputs(OP.add).size).toBeGreaterThan(200);
    for (const op of Object.values(OP)) expect(recs.some((x) => x[0] === op)).toBe(true);
    expect(recs.length).toBeGreaterThan(1_500_000);
  });

  it('include inputs where the two rounding variants differ (or they would not be told apart)', () => {
    const recs = [...full].filter((x) => x[0] === OP.mbqm && x[3] <= 30);
    const differ = recs.filter((x) => multiplyByQuantizedMultiplier(x[1], x[2], x[3], 'single') !== x[7]);
    expect(differ.length).toBeGreaterThan(100);
  });
});

describe('tf_fixedpoint_tflite.h compiles on its own (self-contained C99, strict warnings)', () => {
  beforeAll(() => {
    writeFileSync(
      join(dir, 'header_only.c'),
      `#include "${HEADER}"\n#include "${HEADER}"\n#include "tf_fixedpoint.h"\n`,
    );
    writeFileSync(
      join(dir, 'tf_fixedpoint.h'),
      render('fixedpoint.h', { fixedpointHeader: 'x', version: 'test' }),
    );
  });
  for (const cc of ['gcc', 'clang']) {
    for (const flags of [['-O0'], ['-O2'], ['-Os'], ['-O2', '-DTF_NO_SECTIONS']]) {
      it(`${cc} ${flags.join(' ')} (with tf_fixedpoint.h beside it)`, async ({ skip }) => {
        if (cc === 'clang' && !clang) skip('clang is not installed');
        await compileClean(cc, [...STRICT, ...flags, '-c', 'header_only.c', '-o', 'header.o'], dir);
      });
    }
  }

  it('arm-none-eabi-gcc -mcpu=cortex-m4 -O2: integer only (no floating-point or 64-bit division calls)', async () => {
    writeFileSync(
      join(dir, 'm4.c'),
      [
        `#include "${HEADER}"`,
        'int8_t req(int32_t acc, int32_t m, int32_t s);',
        'int8_t req(int32_t acc, int32_t m, int32_t s) { return tfl_requant_double(acc, m, s, -3, -128, 127); }',
        'int8_t req1(int32_t acc, int32_t m, int32_t s);',
        'int8_t req1(int32_t acc, int32_t m, int32_t s) { return tfl_requant_single(acc, m, s, -3, 0, 127); }',
        'int8_t reqf(int32_t acc, int32_t m, int32_t r, int32_t k);',
        'int8_t reqf(int32_t acc, int32_t m, int32_t r, int32_t k) { return tfl_requant_double_fast(acc, m, r, k, -3, -128, 127); }',
        'int8_t reqf1(int32_t acc, int32_t m, int32_t r, int32_t k);',
        'int8_t reqf1(int32_t acc, int32_t m, int32_t r, int32_t k) { return tfl_requant_single_fast(acc, m, r, k, 5, 0, 127); }',
        'int8_t sum2(int8_t a, int8_t b, const tfl_add_params *p);',
        'int8_t sum2(int8_t a, int8_t b, const tfl_add_params *p) { return tfl_add(a, b, p); }',
        'int8_t avg(int32_t s, int32_t n);',
        'int8_t avg(int32_t s, int32_t n) { return tfl_average(s, n, -128, 127); }',
        'void row(const int8_t *x, int8_t *y, const tfl_softmax_params *p);',
        'void row(const int8_t *x, int8_t *y, const tfl_softmax_params *p) { tfl_softmax_row(x, y, 10, p); }',
        '',
      ].join('\n'),
    );
    const m4 = ['-mcpu=cortex-m4', '-mthumb', '-O2', '-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror'];
    await compileClean('arm-none-eabi-gcc', [...m4, '-c', 'm4.c', '-o', 'm4.o'], dir);
    const dis = (await execa('arm-none-eabi-objdump', ['-d', 'm4.o'], { cwd: dir })).stdout;
    // The 32x32 -> 64 products are SMULL (SMLAL with the rounding constant) instructions, the 64-bit
    // shifts inline; nothing calls a helper (no 64-bit division, no floating point).
    expect(dis).toMatch(/\bsmull\b/);
    expect(dis).toMatch(/\bsmlal\b/);
    // The Cortex-M4 forms: SMMLAR (two roundings) and SMMLA (one), then SSAT.
    expect(dis).toMatch(/\bsmmlar\b/);
    expect(dis).toMatch(/\bsmmla\b/);
    expect(dis).toMatch(/\bssat\b/);
    expect(dis).not.toMatch(/\bbl\b/);
  });
});

describe('C == tflite.ts on the host', () => {
  const builds: { cc: string; flags: string[] }[] = [
    { cc: 'gcc', flags: ['-O0'] },
    { cc: 'gcc', flags: ['-O2'] },
    // Signed overflow or an out-of-range shift anywhere would be reported (and fail the run).
    { cc: 'gcc', flags: ['-O1', '-fsanitize=undefined', '-fno-sanitize-recover=all'] },
    { cc: 'clang', flags: ['-O0'] },
    { cc: 'clang', flags: ['-O2'] },
  ];
  for (const [i, b] of builds.entries()) {
    it(`${b.cc} ${b.flags.join(' ')}`, async ({ skip }) => {
      if (b.cc === 'clang' && !clang) skip('clang is not installed');
      const exe = `check${i}`;
      const flags = [...STRICT, ...b.flags, '-DTFL_CHECK_FLOAT', '-I', '.'];
      await compileClean(b.cc, [...flags, 'fixedpoint_tflite_check.c', '-o', exe, '-lm'], dir);
      const r = await execa(join(dir, exe), ['full.bin'], { cwd: dir, reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const run = parseRun(r.stdout, full);
      expect(run.n).toBe(full.length);
      expect(run.first).toEqual([]);
      expect(run.bad).toBe(0);
      expect(run.dsp).toBe(0);
    });
  }
});

describe('C == tflite.ts on the Cortex-M4 (netduinoplus2 on QEMU)', () => {
  for (const optLevel of ['-O2', '-O0']) {
    it(`arm-none-eabi-gcc ${optLevel}`, async () => {
      const build = await buildFirmware({
        board: 'netduinoplus2',
        sources: [join(dir, 'fixedpoint_tflite_check.c')],
        includeDirs: [dir],
        optLevel,
        outDir: join(dir, `fw${optLevel}`),
        name: `fixedpoint-tflite${optLevel}`,
      });
      const run = await runOnQemu({
        board: 'netduinoplus2',
        elf: build.elf,
        cwd: dir,
        args: ['reduced.bin'],
        timeoutMs: 120_000,
      });
      requireTargetSuccess(run, 'the TFLite fixed-point check firmware');
      const out = parseRun(run.stdout, reduced);
      expect(out.n).toBe(reduced.length);
      expect(out.first).toEqual([]);
      expect(out.bad).toBe(0);
      // -O2: the Cortex-M4 forms of tfl_requant_*_fast (SMMLAR, SMMLA); -O0: the portable C.
      expect(out.dsp).toBe(optLevel === '-O2' ? 1 : 0);
    });
  }
});
