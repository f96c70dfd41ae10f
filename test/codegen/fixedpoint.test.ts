// tf_fixedpoint.h (templates/fixedpoint.h.hbs, the one C implementation of the integer arithmetic)
// against src/fixedpoint/semantics.ts (the definition), exhaustively at the edges: requantization
// for every shift 0..31 x edge and random accumulators x ReLU on/off, the rounded average for every
// window length 1..256, sat8 and the standalone ReLU; the merges and activations: rescale8 for every
// int8 x every shift 0..31, the two-input Add for every pair of int8 inputs at several shift pairs
// (and random ones), clamp8 for every int8 x every upper bound, each also through the Cortex-M4's
// four-lane variants (tf_rescale8x4, tf_add2x4) with other values in the neighbouring lanes. The same check program
// (harness/fixedpoint_check.c) runs compiled by gcc and clang on the host (portable C) and
// cross-compiled for the Cortex-M4 on QEMU (the SSAT/USAT variant, and the portable C there).
import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../src/codegen/templates.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { mulberry32 } from '../../src/data/prng.js';
import {
  ACC_LIMIT,
  INT32_MAX,
  INT32_MIN,
  INT8_MAX,
  INT8_MIN,
  MAX_SHIFT,
  MIN_SHIFT,
  addRescaled,
  clamp8,
  requantize,
  rescale8,
  roundedAverage,
  sat8,
} from '../../src/fixedpoint/semantics.js';
import { parseTfRecords, requireTargetSuccess } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { tempDir } from '../helpers/temp.js';
import { clangPresent, compileClean, STRICT } from './cbuild.js';

const HEADER = 'tf_fixedpoint.h';
const CHECK_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'harness', 'fixedpoint_check.c');

/** The operations of fixedpoint_check.c, by record op code. */
const OP = {
  req: 0,
  reqRelu: 1,
  average: 2,
  sat8: 3,
  relu8: 4,
  rescale: 5,
  add2: 6,
  clamp: 7,
  rescaleX4: 8,
  add2X4: 9,
} as const;
type Op = (typeof OP)[keyof typeof OP];
const OP_NAMES = [
  'requantize',
  'requantize+relu',
  'roundedAverage',
  'sat8',
  'relu8',
  'rescale8',
  'add2',
  'clamp8',
  'rescale8x4',
  'add2x4',
];

interface Case {
  op: Op;
  a: number;
  b: number;
  /** Third operand (Add: the two shifts as sa | sb << 8; clamp: the upper bound). */
  c?: number;
}

function expected(c: Case): number {
  switch (c.op) {
    case OP.req:
      return requantize(c.a, c.b, false);
    case OP.reqRelu:
      return requantize(c.a, c.b, true);
    case OP.average:
      return roundedAverage(c.a, c.b);
    case OP.sat8:
      return sat8(c.a);
    case OP.relu8:
      return Math.max(c.a, 0);
    case OP.rescale:
    case OP.rescaleX4:
      return rescale8(c.a, c.b);
    case OP.add2:
    case OP.add2X4:
      return addRescaled([c.a, c.b], [c.c! & 255, c.c! >> 8]);
    case OP.clamp:
      return clamp8(c.a, c.b, c.c!);
  }
}

const around = (x: number, d = 2): number[] => Array.from({ length: 2 * d + 1 }, (_, i) => x - d + i);
const unique = (v: number[]): number[] => [...new Set(v)];
/** Uniform integer in [lo, hi]. */
const uniform = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** Largest accumulator magnitude the compiler lets through: |acc| < 2^30. */
const ACC_MAX = ACC_LIMIT - 1;

/**
 * Accumulators where requantization with `shift` changes behaviour: 0, +-1, the rounding ties
 * +-2^(s-1) (and +-3 * 2^(s-1)) and their neighbours, +-2^s, the int8 saturation boundaries
 * 127.5 * 2^s and -128.5 * 2^s (and 127 * 2^s, -128 * 2^s), the largest accumulators.
 */
function edgeAccumulators(shift: number): number[] {
  const p = 2 ** shift;
  const v = [0, ...around(1), ...around(-1), ...around(ACC_MAX), ...around(-ACC_MAX)];
  if (shift > 0) {
    const h = 2 ** (shift - 1);
    v.push(...around(h), ...around(-h), ...around(3 * h), ...around(-3 * h));
  }
  v.push(...around(p), ...around(-p), ...around(127 * p), ...around(-128 * p));
  v.push(...around(Math.floor(127.5 * p)), ...around(Math.ceil(-128.5 * p)));
  return unique(v).filter((x) => Math.abs(x) <= ACC_MAX);
}

interface VectorSize {
  /** Shift pairs at which Add sees every pair of int8 inputs; random pairs at random shifts. */
  addShifts: [number, number][];
  addSecond: 'all' | number[];
  randomAdd: number;
  /** Random accumulators per shift. */
  randomAcc: number;
  /** Random sums per window length. */
  randomSums: number;
  /** Random int32 for sat8. */
  randomSat: number;
}

const INT8S = Array.from({ length: 256 }, (_, i) => i - 128);
const FULL: VectorSize = {
  randomAcc: 3000,
  randomSums: 24,
  randomSat: 2000,
  addShifts: [
    [0, 0],
    [1, 0],
    [0, 2],
    [1, 1],
    [3, 5],
    [8, 0],
    [7, 31],
  ],
  addSecond: 'all',
  randomAdd: 20000,
};
/** On QEMU: every edge, fewer random values; Add sees every first input against edge values. */
const REDUCED: VectorSize = {
  randomAcc: 48,
  randomSums: 2,
  randomSat: 64,
  addShifts: [0, 1, 2, 3, 8].flatMap((a) => [0, 1, 2, 3, 8].map((b): [number, number] => [a, b])),
  addSecond: [-128, -127, -65, -64, -63, -2, -1, 0, 1, 2, 63, 64, 65, 126, 127],
  randomAdd: 2000,
};

/** The merge and activation primitives: rescale8, the two-input Add, clamp8 (and the x4 variants). */
function mergeVectors(size: VectorSize, rng: () => number): Case[] {
  const cases: Case[] = [];
  for (let s = MIN_SHIFT; s <= MAX_SHIFT; s++)
    for (const a of INT8S) cases.push({ op: OP.rescale, a, b: s }, { op: OP.rescaleX4, a, b: s });
  const second = size.addSecond === 'all' ? INT8S : size.addSecond;
  const add = (a: number, b: number, sa: number, sb: number): void => {
    const c = sa | (sb << 8);
    cases.push({ op: OP.add2, a, b, c }, { op: OP.add2X4, a, b, c });
  };
  for (const [sa, sb] of size.addShifts) for (const a of INT8S) for (const b of second) add(a, b, sa, sb);
  for (let i = 0; i < size.randomAdd; i++)
    add(uniform(rng, -128, 127), uniform(rng, -128, 127), uniform(rng, 0, 31), uniform(rng, 0, 31));
  for (let hi = 0; hi <= INT8_MAX; hi++) for (const a of INT8S) cases.push({ op: OP.clamp, a, b: 0, c: hi });
  for (const lo of [-128, -5]) for (const a of INT8S) cases.push({ op: OP.clamp, a, b: lo, c: 100 });
  return cases;
}

function vectors(size: VectorSize, seed = 20240607): Case[] {
  const rng = mulberry32(seed);
  const cases: Case[] = [];
  for (let s = MIN_SHIFT; s <= MAX_SHIFT; s++) {
    const accs = edgeAccumulators(s);
    // Half over the whole range, half where the result is not saturated (|acc| up to 256 * 2^s).
    const near = Math.min(ACC_MAX, 256 * 2 ** s);
    for (let i = 0; i < size.randomAcc; i++) {
      accs.push(i % 2 === 0 ? uniform(rng, -ACC_MAX, ACC_MAX) : uniform(rng, -near, near));
    }
    for (const a of accs) {
      cases.push({ op: OP.req, a, b: s }, { op: OP.reqRelu, a, b: s });
    }
  }
  // Sums of n int8 values lie in [-128n, 127n]; the result changes where 2 * sum + n crosses a
  // multiple of 2n, i.e. sum = (k - 1/2) * n.
  for (let n = 1; n <= 256; n++) {
    const lo = INT8_MIN * n;
    const hi = INT8_MAX * n;
    const sums = [lo, lo + 1, -127 * n, hi - 1, hi, ...around(0)];
    for (const k of [INT8_MIN + 1, -1, 0, 1, INT8_MAX]) sums.push(...around(Math.floor((k - 0.5) * n)));
    for (let i = 0; i < size.randomSums; i++) sums.push(uniform(rng, lo, hi));
    for (const a of unique(sums)) if (a >= lo && a <= hi) cases.push({ op: OP.average, a, b: n });
  }
  const sats = [INT32_MIN, INT32_MIN + 1, INT32_MAX - 1, INT32_MAX];
  for (let v = -300; v <= 300; v++) sats.push(v);
  for (let k = 7; k <= 31; k++) sats.push(...around(2 ** k, 1), ...around(-(2 ** k), 1));
  for (let i = 0; i < size.randomSat; i++) sats.push(uniform(rng, INT32_MIN, INT32_MAX));
  for (const a of unique(sats)) if (a >= INT32_MIN && a <= INT32_MAX) cases.push({ op: OP.sat8, a, b: 0 });
  for (let v = INT8_MIN; v <= INT8_MAX; v++) cases.push({ op: OP.relu8, a: v, b: 0 });
  return cases.concat(mergeVectors(size, rng));
}

function encode(cases: Case[]): Buffer {
  const words = new Int32Array(cases.length * 4);
  cases.forEach((c, i) => words.set([c.op, c.a, c.b, c.c ?? 0], i * 4));
  return Buffer.from(words.buffer);
}

interface CheckRun {
  dsp: number;
  results: Int8Array;
}

function parseRun(stdout: string): CheckRun {
  const records = parseTfRecords(stdout);
  const hex = records
    .filter((r) => r.key === 'r')
    .map((r) => r.fields[0])
    .join('');
  const n = Number(records.find((r) => r.key === 'n')?.fields[0]);
  const results = Int8Array.from(Buffer.from(hex, 'hex'));
  expect(results.length, 'results printed').toBe(n);
  return { dsp: Number(records.find((r) => r.key === 'dsp')?.fields[0]), results };
}

/** The first few disagreements between C and semantics.ts, readable. */
function mismatches(cases: Case[], results: Int8Array, limit = 20): string[] {
  expect(results.length).toBe(cases.length);
  const out: string[] = [];
  let count = 0;
  cases.forEach((c, i) => {
    const want = expected(c);
    if (results[i] === want) return;
    if (++count <= limit)
      out.push(`${OP_NAMES[c.op]}(${c.a}, ${c.b}): C ${results[i]}, semantics.ts ${want}`);
  });
  if (count > limit) out.push(`... ${count - limit} more`);
  return out;
}

const dir = tempDir('tf-fixedpoint-');
const full = vectors(FULL);
const reduced = vectors(REDUCED);
let clang = false;

beforeAll(async () => {
  // Rendered as generateC renders tf_fixedpoint.h: the template uses only these two view fields.
  writeFileSync(join(dir, HEADER), render('fixedpoint.h', { fixedpointHeader: HEADER, version: 'test' }));
  copyFileSync(CHECK_SOURCE, join(dir, 'fixedpoint_check.c'));
  writeFileSync(join(dir, 'full.bin'), encode(full));
  writeFileSync(join(dir, 'reduced.bin'), encode(reduced));
  clang = await clangPresent();
});

describe('the test vectors', () => {
  it('reach every int8 result and every kind of edge', () => {
    const outputs = (op: Op) => new Set(full.filter((c) => c.op === op).map(expected));
    expect(outputs(OP.req).size).toBe(256);
    expect(outputs(OP.reqRelu).size).toBe(128);
    expect(outputs(OP.average).size).toBe(256);
    expect(outputs(OP.sat8).size).toBe(256);
    for (let s = MIN_SHIFT; s <= MAX_SHIFT; s++) {
      const accs = new Set(full.filter((c) => c.op === OP.req && c.b === s).map((c) => c.a));
      expect(accs.size, `shift ${s}`).toBeGreaterThan(FULL.randomAcc / 2);
      if (s > 0 && 2 ** (s - 1) <= ACC_MAX) expect(accs.has(-(2 ** (s - 1))), `tie at shift ${s}`).toBe(true);
      // The int8 saturation boundaries, where they are accumulators the compiler accepts.
      for (const edge of [127.5 * 2 ** s, -128.5 * 2 ** s]) {
        if (s > 0 && Math.abs(edge) <= ACC_MAX) expect(accs.has(edge), `${edge} at shift ${s}`).toBe(true);
      }
      for (const a of accs) expect(Math.abs(a)).toBeLessThan(ACC_LIMIT);
    }
    // The merge primitives: every int8 at every shift, every Add pair at the listed shifts.
    for (const op of [OP.rescale, OP.rescaleX4])
      expect(full.filter((c) => c.op === op).length).toBe(256 * 32);
    for (const op of [OP.add2, OP.add2X4]) {
      expect(outputs(op).size).toBe(256);
      expect(full.filter((c) => c.op === op).length).toBe(FULL.addShifts.length * 65536 + FULL.randomAdd);
    }
    expect(outputs(OP.clamp).size).toBe(256);
    for (let n = 1; n <= 256; n++) {
      const sums = full.filter((c) => c.op === OP.average && c.b === n).map((c) => c.a);
      expect(sums).toContain(INT8_MIN * n);
      expect(sums).toContain(INT8_MAX * n);
    }
  });
});

describe('tf_fixedpoint.h compiles on its own (self-contained C99, strict warnings)', () => {
  // Compiled as it is used: included (twice, the guard must hold) by a file with nothing else.
  beforeAll(() => {
    writeFileSync(join(dir, 'header_only.c'), `#include "${HEADER}"\n#include "${HEADER}"\n`);
  });
  for (const cc of ['gcc', 'clang']) {
    for (const flags of [['-O0'], ['-O2'], ['-O2', '-DTF_PORTABLE'], ['-O2', '-DTF_NO_SECTIONS']]) {
      it(`${cc} ${flags.join(' ')}`, async ({ skip }) => {
        if (cc === 'clang' && !clang) skip('clang is not installed');
        await compileClean(cc, [...STRICT, ...flags, '-c', 'header_only.c', '-o', 'header.o'], dir);
      });
    }
  }

  it('arm-none-eabi-gcc -mcpu=cortex-m4 -O2 selects the DSP variant and builds it (SSAT, USAT, SHADD8, QADD8)', async () => {
    const m4 = ['-mcpu=cortex-m4', '-mthumb', '-O2', '-Wall', '-Wextra', '-Werror'];
    await compileClean(
      'arm-none-eabi-gcc',
      [...m4, '-std=c99', '-pedantic', '-c', 'header_only.c', '-o', 'm4.o'],
      dir,
    );
    writeFileSync(
      join(dir, 'dsp.c'),
      [
        `#include "${HEADER}"`,
        '#if !TF_DSP',
        '#error "the Cortex-M4 at -O2 should get the DSP variant"',
        '#endif',
        'int8_t tf_req(int32_t acc, uint32_t shift);',
        'int8_t tf_req_relu(int32_t acc, uint32_t shift);',
        'int8_t tf_req(int32_t acc, uint32_t shift) { return TF_REQ(acc + tf_round_of(shift), shift); }',
        'int8_t tf_req_relu(int32_t acc, uint32_t shift) { return TF_REQ_RELU(acc + tf_round_of(shift), shift); }',
        'uint32_t tf_add(uint32_t a, uint32_t b);',
        'uint32_t tf_add(uint32_t a, uint32_t b) { return tf_add2x4(a, 2, b, 0); }',
        '',
      ].join('\n'),
    );
    await compileClean('arm-none-eabi-gcc', [...m4, '-c', 'dsp.c', '-o', 'dsp.o'], dir);
    const dis = (await execa('arm-none-eabi-objdump', ['-d', 'dsp.o'], { cwd: dir })).stdout;
    expect(dis).toMatch(/\bssat\b/);
    expect(dis).toMatch(/\busat\b/);
    expect(dis).toMatch(/\bshadd8\b/);
    expect(dis).toMatch(/\bqadd8\b/);
  });
});

describe('C == semantics.ts on the host', () => {
  const builds: { cc: string; flags: string[] }[] = [
    { cc: 'gcc', flags: ['-O0'] },
    { cc: 'gcc', flags: ['-O2'] },
    { cc: 'gcc', flags: ['-O2', '-DTF_PORTABLE'] },
    // Signed overflow or an out-of-range shift anywhere would be reported (and fail the run).
    { cc: 'gcc', flags: ['-O1', '-fsanitize=undefined', '-fno-sanitize-recover=all'] },
    { cc: 'clang', flags: ['-O0'] },
    { cc: 'clang', flags: ['-O2'] },
  ];
  for (const [i, b] of builds.entries()) {
    it(`${b.cc} ${b.flags.join(' ')}: ${full.length} vectors`, async ({ skip }) => {
      if (b.cc === 'clang' && !clang) skip('clang is not installed');
      const exe = `check${i}`;
      await compileClean(b.cc, [...STRICT, ...b.flags, '-I', '.', 'fixedpoint_check.c', '-o', exe], dir);
      const r = await execa(join(dir, exe), ['full.bin'], { cwd: dir, reject: false, all: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const run = parseRun(r.stdout);
      expect(run.dsp).toBe(0);
      expect(mismatches(full, run.results)).toEqual([]);
    });
  }
});

describe('C == semantics.ts on the Cortex-M4 (netduinoplus2 on QEMU)', () => {
  for (const variant of ['dsp', 'portable'] as const) {
    it(`${variant === 'dsp' ? 'SSAT/USAT (TF_DSP)' : 'portable C (-DTF_PORTABLE)'}: ${reduced.length} vectors`, async () => {
      const build = await buildFirmware({
        board: 'netduinoplus2',
        sources: [join(dir, 'fixedpoint_check.c')],
        includeDirs: [dir],
        optLevel: '-O2',
        extraCFlags: variant === 'portable' ? ['-DTF_PORTABLE'] : [],
        outDir: join(dir, `fw-${variant}`),
        name: `fixedpoint-${variant}`,
      });
      const run = await runOnQemu({
        board: 'netduinoplus2',
        elf: build.elf,
        cwd: dir,
        args: ['reduced.bin'],
        timeoutMs: 120_000,
      });
      requireTargetSuccess(run, 'the fixed-point check firmware');
      const out = parseRun(run.stdout);
      expect(out.dsp).toBe(variant === 'dsp' ? 1 : 0);
      expect(mismatches(reduced, out.results)).toEqual([]);
    });
  }
});
