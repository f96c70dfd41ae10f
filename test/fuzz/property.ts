// The property every reader of outside input must have (issue 20): any input either parses or
// raises a TinyforgeError with a category and a message; never a raw TypeError / RangeError / other
// exception, never a hang (each case is timed), and never an allocation beyond the documented
// bounds (the bounds are schema limits, tested where they are defined).
//
// A normal run (CI) tries a modest number of generated cases per reader; the long mode
// (FUZZ_LONG=1, `make fuzz`) tries FUZZ_CASES (default 100,000) per reader and prints the count.
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { EXIT_CODES, TinyforgeError } from '../../src/util/errors.js';

export const FUZZ_LONG = process.env.FUZZ_LONG === '1';
export const LONG_CASES = Number(process.env.FUZZ_CASES ?? 100_000);

/**
 * Cases of one property: `normal` in a normal run; in the long mode its `share` of LONG_CASES (the
 * properties of one reader have shares that add up to 1 or more, so each reader sees >= LONG_CASES).
 */
export function cases(normal: number, share = 1): number {
  return FUZZ_LONG ? Math.ceil(LONG_CASES * share) : normal;
}

/** Test timeout for a property of `normal` cases (`share` in the long mode) of up to `msPerCase` each. */
export function timeoutFor(normal: number, msPerCase: number, share = 1): number {
  return Math.max(60_000, cases(normal, share) * msPerCase * 3 + 30_000);
}

/** One case may take this long before it counts as a hang. */
export const CASE_LIMIT_MS = 5_000;

/** Whether an exception is the project's error, properly formed. */
export function isProperError(e: unknown): e is TinyforgeError {
  return (
    e instanceof TinyforgeError &&
    Object.hasOwn(EXIT_CODES, e.category) &&
    typeof e.message === 'string' &&
    e.message.trim().length > 0
  );
}

function verdict(e: unknown, started: number, what: string, limitMs = CASE_LIMIT_MS): void {
  const ms = Date.now() - started;
  if (ms > limitMs) throw new Error(`${what}: one input took ${ms} ms (a hang)`);
  if (e !== undefined && !isProperError(e)) {
    const err = e as Error;
    throw new Error(
      `${what} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}`,
    );
  }
}

/** Runs a synchronous reader on one input: returns normally for a parse or a proper refusal. */
export function parsesOrRefuses(what: string, read: () => unknown): 'parsed' | 'refused' {
  const t0 = Date.now();
  try {
    read();
  } catch (e) {
    verdict(e, t0, what);
    return 'refused';
  }
  verdict(undefined, t0, what);
  return 'parsed';
}

/** As parsesOrRefuses, for an async reader; `limitMs`: a reader's own time limit, plus slack. */
export async function parsesOrRefusesAsync(
  what: string,
  read: () => Promise<unknown>,
  limitMs = CASE_LIMIT_MS,
): Promise<'parsed' | 'refused'> {
  const t0 = Date.now();
  try {
    await read();
  } catch (e) {
    verdict(e, t0, what, limitMs);
    return 'refused';
  }
  verdict(undefined, t0, what, limitMs);
  return 'parsed';
}

/** A line of the long mode: printed, and appended to $FUZZ_LOG when set (the test runner's output is batched). */
function longLog(line: string): void {
  console.log(line);
  if (process.env.FUZZ_LOG) appendFileSync(process.env.FUZZ_LOG, `${new Date().toISOString()} ${line}\n`);
}

/** Tally of outcomes, printed in the long mode (the README's figures). */
export class Tally {
  parsed = 0;
  refused = 0;
  constructor(readonly reader: string) {}
  add(r: 'parsed' | 'refused'): void {
    this[r]++;
    // Progress of a long run (hours on a shared machine), with the time since the first case.
    this.t0 ??= Date.now();
    if (FUZZ_LONG && this.total % 10_000 === 0)
      longLog(
        `fuzz ${this.reader}: ${this.total} cases after ${Math.round((Date.now() - this.t0) / 1000)} s`,
      );
  }
  private t0: number | undefined;
  report(): void {
    const s = this.t0 === undefined ? 0 : Math.round((Date.now() - this.t0) / 1000);
    if (FUZZ_LONG)
      longLog(
        `fuzz ${this.reader}: ${this.parsed + this.refused} cases, ${this.parsed} parsed, ${this.refused} refused, no raw exception, ${s} s`,
      );
  }
  get total(): number {
    return this.parsed + this.refused;
  }
}

/**
 * Asserts `pred` for generated values, with the run count of the mode; fast-check prints the seed
 * and the shrunk counterexample of a failure. The event loop gets a turn every 50 cases (a long
 * synchronous loop would starve the test runner's own messages).
 */
export async function forAll<T>(
  normal: number | { normal: number; share: number; seed?: number },
  arb: fc.Arbitrary<T>,
  pred: (v: T) => void | Promise<void>,
): Promise<void> {
  const runs = typeof normal === 'number' ? cases(normal) : cases(normal.normal, normal.share);
  // A fixed seed (normal mode only) replays the same cases: for a reader with a known open hang.
  const seed = typeof normal === 'number' || FUZZ_LONG ? undefined : normal.seed;
  let n = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      if (++n % 50 === 0) await new Promise((r) => setImmediate(r));
      await pred(v);
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
}

// ---- Mutations of a known-good input ---------------------------------------------------------

/** One edit of a byte array: flip bits, overwrite, insert, delete, duplicate a span, truncate. */
export type ByteEdit =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; n: number }
  | { op: 'dup'; at: number; n: number }
  | { op: 'truncate'; at: number }
  | { op: 'interesting'; at: number; value: number; width: 1 | 2 | 4 };

const INTERESTING = [
  0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 16, 64, 256, 1024,
  65536,
];

/** Where an edit lands, as a fraction of the length: mostly uniform, sometimes biased to the ends. */
const position: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.noBias(fc.integer({ min: 0, max: 2 ** 24 - 1 })).map((v) => v / 2 ** 24) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }) },
);

export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      at: position.map((p) => p),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      at: position,
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: position,
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at: position,
      n: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('dup' as const),
      at: position,
      n: fc.integer({ min: 1, max: 64 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('interesting' as const),
      at: position,
      value: fc.constantFrom(...INTERESTING),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const),
    }),
  },
);

/** Applies edits to a copy of `base` (positions are fractions of the current length). */
export function applyEdits(base: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Uint8Array.from(base);
  for (const e of edits) {
    const at = Math.floor(e.at * (b.length + 1));
    const inside = Math.min(at, Math.max(0, b.length - 1));
    switch (e.op) {
      case 'flip':
        if (b.length) b[inside] ^= e.mask;
        break;
      case 'set':
        if (b.length) b[inside] = e.value;
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.n)]);
        break;
      case 'dup':
        b = Uint8Array.from([
          ...b.subarray(0, at + e.n),
          ...b.subarray(at, at + e.n),
          ...b.subarray(at + e.n),
        ]);
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'interesting':
        for (let k = 0; k < e.width && inside + k < b.length; k++)
          b[inside + k] = (e.value >>> (8 * k)) & 0xff;
        break;
    }
  }
  return b;
}

export const byteEdits = (max = 6): fc.Arbitrary<ByteEdit[]> =>
  fc.array(byteEdit, { minLength: 1, maxLength: max });

/** Text edits: the byte edits on the UTF-8 bytes, plus tokens spliced in (numbers, NaN, huge values). */
const TOKENS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '0x10',
  '',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '9007199254740993',
  '1e-400',
  '-1',
  '4294967296',
  '"',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  'null',
  'true',
  '\u0000',
  '\u2028',
  '💥',
];

export type TextEdit =
  { op: 'bytes'; edits: ByteEdit[] } | { op: 'token'; at: number; token: string; replace: number };

export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('bytes' as const), edits: byteEdits(3) }),
  fc.record({
    op: fc.constant('token' as const),
    at: position,
    token: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })),
    replace: fc.integer({ min: 0, max: 12 }),
  }),
);

export function applyTextEdits(base: string, edits: readonly TextEdit[]): string {
  let s = base;
  for (const e of edits) {
    if (e.op === 'bytes') s = Buffer.from(applyEdits(Buffer.from(s, 'utf8'), e.edits)).toString('utf8');
    else {
      const at = Math.floor(e.at * (s.length + 1));
      s = s.slice(0, at) + e.token + s.slice(at + e.replace);
    }
  }
  return s;
}

export const textEdits = (max = 4): fc.Arbitrary<TextEdit[]> =>
  fc.array(textEdit, { minLength: 1, maxLength: max });

// ---- Structural JSON mutations ---------------------------------------------------------------

/** A JSON value a hostile file could hold where another was expected. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e9,
    2 ** 31,
    2 ** 53,
    -(2 ** 53),
    1e308,
    0.5,
    '',
    'x',
    [],
    {},
    [0],
    [1e9, 1e9],
    [1e9, 1e9, 1e9],
    [0, 0],
    { offset: 0, bytes: 0 },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

export type JsonEdit = { path: number[]; op: 'set' | 'delete' | 'add'; value: unknown; key: string };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  path: fc.array(fc.nat(), { minLength: 0, maxLength: 6 }),
  op: fc.constantFrom('set' as const, 'set' as const, 'set' as const, 'delete' as const, 'add' as const),
  value: hostileJson,
  key: fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'extra', 'kind', 'name'),
    fc.string({ maxLength: 6 }),
  ),
});

/** Applies edits to a deep copy: each path step picks a child by index (modulo the child count). */
export function applyJsonEdits(base: unknown, edits: readonly JsonEdit[]): unknown {
  const root = { v: structuredClone(base) as unknown };
  for (const e of edits) {
    let parent: Record<string, unknown> | unknown[] = root as Record<string, unknown>;
    let key: string | number = 'v';
    for (const step of e.path) {
      const cur: unknown = (parent as Record<string | number, unknown>)[key];
      if (cur === null || typeof cur !== 'object') break;
      const keys: (string | number)[] = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
      if (keys.length === 0) break;
      parent = cur as Record<string, unknown>;
      key = keys[step % keys.length];
    }
    const target = parent as Record<string | number, unknown>;
    if (e.op === 'set') target[key] = structuredClone(e.value);
    else if (e.op === 'delete') {
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete target[key];
    } else {
      const cur = target[key];
      if (Array.isArray(cur)) cur.push(structuredClone(e.value));
      else if (cur !== null && typeof cur === 'object')
        Object.defineProperty(cur, e.key, {
          value: structuredClone(e.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  }
  return root.v;
}

export const jsonEdits = (max = 4): fc.Arbitrary<JsonEdit[]> =>
  fc.array(jsonEdit, { minLength: 1, maxLength: max });
