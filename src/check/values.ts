// The values a check configuration (and its flags) takes, as people write them: accuracies as a
// fraction or in percent ("0.92", "92%"), sizes in bytes or kB ("8316", "10 kB"), instruction counts
// plain or with k/M ("650k"), and baseline tolerances absolute or relative to the baseline ("2%").
// Flags arrive as strings, a JSON file gives numbers: both go through these zod schemas.
import { z } from 'zod';
import { KB } from '../sweep/budget.js';

/** A number, or a string of one (how flag values arrive). */
function asNumber(v: string): number | undefined {
  const t = v.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : undefined;
}

/** Accuracy (or accuracy points): a fraction 0..1, or "92%" / "0.5pt" (hundredths). */
export const AccuracySchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let x: number | undefined;
  if (typeof v === 'number') x = v;
  else {
    const m = /^\s*([0-9.]+)\s*(%|pt|pts)?\s*$/.exec(v);
    const n = m ? asNumber(m[1]) : undefined;
    x = n === undefined ? undefined : m?.[2] ? n / 100 : n;
  }
  if (x === undefined || !(x >= 0 && x <= 1)) {
    ctx.addIssue({
      code: 'custom',
      message: `'${v}' is not an accuracy: a fraction 0..1 or a percentage like 92%`,
    });
    return z.NEVER;
  }
  return x;
});

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KB,
  kb: KB,
  kib: KB,
  m: KB * KB,
  mb: KB * KB,
  mib: KB * KB,
};

/** Bytes: a number, or "10 kB" / "10KiB" / "1 MB" (1 kB = 1024 B, as datasheets quote memory). */
export const BytesSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let x: number | undefined;
  if (typeof v === 'number') x = v;
  else {
    const m = /^\s*([0-9.]+)\s*([a-z]*)\s*$/i.exec(v);
    const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
    const n = m ? asNumber(m[1]) : undefined;
    x = n === undefined || unit === undefined ? undefined : Math.round(n * unit);
  }
  if (x === undefined || !(x >= 0)) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a size: bytes, or a number with B, kB or MB` });
    return z.NEVER;
  }
  return x;
});

const COUNT_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6 };

/** A count (instructions per inference): a number, or "650k" / "1.2M". */
export const CountSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let x: number | undefined;
  if (typeof v === 'number') x = v;
  else {
    const m = /^\s*([0-9.]+)\s*([km]?)\s*$/i.exec(v);
    const n = m ? asNumber(m[1]) : undefined;
    x = n === undefined ? undefined : n * COUNT_UNITS[m![2].toLowerCase()];
  }
  if (x === undefined || !(x >= 0)) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a count: a number, or with k or M` });
    return z.NEVER;
  }
  return x;
});

/**
 * How much worse than the baseline a figure may get: an absolute amount in the figure's unit
 * (points of accuracy, bytes, instructions) or a share of the baseline value ("2%").
 */
export type Tolerance = { absolute: number } | { relative: number };

/** Tolerance of a size or count figure: "64" / "64 B" / "1 kB" (absolute) or "2%" (relative). */
export function toleranceSchema(absolute: z.ZodType<number, string | number>) {
  return z.union([z.number(), z.string()]).transform((v, ctx): Tolerance => {
    if (typeof v === 'string' && /%\s*$/.test(v)) {
      const n = asNumber(v.replace(/%\s*$/, ''));
      if (n !== undefined && n >= 0) return { relative: n / 100 };
      ctx.addIssue({ code: 'custom', message: `'${v}' is not a percentage` });
      return z.NEVER;
    }
    const r = absolute.safeParse(v);
    if (r.success) return { absolute: r.data };
    ctx.addIssue({ code: 'custom', message: r.error.issues[0]?.message ?? `'${v}' is not a tolerance` });
    return z.NEVER;
  });
}

/** Accuracy tolerance: always points ("0.5pt", "0.5%" or 0.005). */
export const AccuracyToleranceSchema = AccuracySchema.transform((x): Tolerance => ({ absolute: x }));
