// Test support for apiTwo.test.ts: the two models, their windows, the host's logits and the host's
// quantization of raw windows built to hit the rounding ties and the clamps, written as api_data.c/.h
// for harness/api_two.c.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cArrayBody, cHexFloat } from '../../src/codegen/cformat.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { quantizeWindow } from '../../src/reference/input.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { makeRng } from '../helpers/randomModel.js';

/** TF_ERR_INPUT of model.h: what tf_quantize_input returns where the host refuses a window. */
export const ERR_INPUT = 3;

/**
 * Per-channel normalization that exercises the double arithmetic: channel 0 is exact (a dyadic mean
 * and std, so constructed values land exactly on the ties), the others are awkward decimals (one
 * std negative), so values near a tie depend on every rounding of (raw - mean) / std.
 */
export function awkwardNormalization(channels: number): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: channels }, (_, c) => (c === 0 ? 0.5 : 0.1234567891 * c - 0.3));
  const std = Array.from({ length: channels }, (_, c) =>
    c === 0 ? 0.25 : (c % 2 ? 1 : -1) * (0.98765432109 + 0.37 * c),
  );
  return { mean, std };
}

/** The float32 n steps of one ulp away from v (towards +infinity for n > 0 on positive values). */
function ulps(v: number, n: number): number {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0] += n;
  return f[0];
}

/** The model's int8 value of a normalized x before rounding: x * 2^frac, or float(x) / scale. */
function preRound(model: CompressedModel, x: number): number {
  const a = model.affine?.input;
  return a ? Math.fround(Math.fround(x) / Math.fround(a.scale)) : x * 2 ** model.inputFrac;
}

/** A raw value whose normalized, scaled value is near `target` (exactly on it for channel 0 ties). */
function rawFor(model: CompressedModel, c: number, target: number): number {
  const { mean, std } = model.normalization;
  const a = model.affine?.input;
  const x = a ? target * Math.fround(a.scale) : target / 2 ** model.inputFrac;
  return Math.fround(mean[c] + std[c] * x);
}

const SPECIALS = [3.4028234663852886e38, -3.4028234663852886e38, 1e30, -1e30, 1e-45, -1e-45, 0, -0];

/**
 * n raw windows: ties k + 1/2 for k across and beyond the int8 range (and the float32 neighbours of
 * each), random values, huge and tiny values; the last three windows hold a NaN, +inf and -inf.
 */
export function rawWindows(model: CompressedModel, n: number, seed: number): Float32Array {
  const [T, C] = model.inputShape;
  const rng = makeRng(seed);
  const raw = new Float32Array(n * T * C);
  for (let i = 0; i < raw.length; i++) {
    const c = i % C;
    const r = rng();
    const k = Math.floor(rng() * 300) - 150;
    // Half of them on the tie itself, the rest one or two float32 steps away.
    if (r < 0.6) raw[i] = ulps(rawFor(model, c, k + 0.5), rng() < 0.5 ? 0 : Math.floor(rng() * 5) - 2);
    else if (r < 0.9) raw[i] = rawFor(model, c, (rng() - 0.5) * 300);
    else raw[i] = SPECIALS[Math.floor(rng() * SPECIALS.length)];
  }
  const at = (w: number) => w * T * C + Math.floor(rng() * T * C);
  raw[at(n - 3)] = NaN;
  raw[at(n - 2)] = Infinity;
  raw[at(n - 1)] = -Infinity;
  return raw;
}

export interface Quantized {
  q: Int8Array;
  rc: number[];
  /** Values exactly on a tie before rounding (x * 2^frac or float(x) / scale ends in .5). */
  ties: number;
  /** Values the host clamps (below -128 or above 127 before clamping). */
  clamped: number;
}

/** The host's quantization of each window (src/reference/input.ts), with what it covered. */
export function hostQuantize(model: CompressedModel, raw: Float32Array, n: number): Quantized {
  const [T, C] = model.inputShape;
  const size = T * C;
  const q = new Int8Array(n * size);
  const rc: number[] = [];
  let ties = 0;
  let clamped = 0;
  const zp = model.affine?.input.zeroPoint ?? 0;
  for (let w = 0; w < n; w++) {
    const window = raw.subarray(w * size, (w + 1) * size);
    try {
      q.set(quantizeWindow(model, window), w * size);
      rc.push(0);
    } catch (e) {
      if (!(e instanceof TinyforgeError)) throw e;
      rc.push(ERR_INPUT);
      continue;
    }
    window.forEach((v, i) => {
      const { mean, std } = model.normalization;
      const y = preRound(model, (v - mean[i % C]) / std[i % C]);
      if (Math.abs(y % 1) === 0.5) ties++;
      if (Math.round(y) + zp < -128 || Math.round(y) + zp > 127) clamped++;
    });
  }
  return { q, rc, ties, clamped };
}

export interface ModelData {
  /** C name of the model in api_data (har, kws). */
  tag: string;
  model: CompressedModel;
  inputs: Int8Array[];
  raw: Float32Array;
  quantized: Quantized;
}

export function referenceLogits(model: CompressedModel, inputs: Int8Array[]): Int8Array[] {
  const p = prepareReference(model);
  return inputs.map((x) => runPrepared(p, x).logits);
}

function cFloats(values: Float32Array): string {
  const lit = (v: number) =>
    Number.isNaN(v)
      ? '__builtin_nanf("")'
      : v === Infinity
        ? '__builtin_inff()'
        : v === -Infinity
          ? '(-__builtin_inff())'
          : cHexFloat(v, true);
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 6)
    lines.push('    ' + Array.from(values.subarray(i, i + 6), lit).join(', ') + ',');
  return lines.join('\n');
}

/** Writes api_data.c and api_data.h into dir. */
export function writeApiData(dir: string, models: ModelData[]): void {
  const h = ['/* Generated by test/codegen/apiData.ts. */', '#include <stdint.h>'];
  const c = ['/* Generated by test/codegen/apiData.ts. */', '#include "api_data.h"'];
  for (const m of models) {
    const up = m.tag.toUpperCase();
    const logits = referenceLogits(m.model, m.inputs);
    const flat = (xs: Int8Array[]) => Int8Array.from(xs.flatMap((x) => Array.from(x)));
    h.push(
      `#define API_${up}_N ${m.inputs.length}`,
      `#define API_${up}_QN ${m.quantized.rc.length}`,
      `extern const int8_t api_${m.tag}_in[], api_${m.tag}_logits[], api_${m.tag}_q[], api_${m.tag}_qrc[];`,
      `extern const float api_${m.tag}_raw[];`,
    );
    c.push(
      `const int8_t api_${m.tag}_in[] = {\n${cArrayBody(flat(m.inputs))}\n};`,
      `const int8_t api_${m.tag}_logits[] = {\n${cArrayBody(flat(logits))}\n};`,
      `const int8_t api_${m.tag}_q[] = {\n${cArrayBody(m.quantized.q)}\n};`,
      `const int8_t api_${m.tag}_qrc[] = {\n${cArrayBody(m.quantized.rc)}\n};`,
      `const float api_${m.tag}_raw[] = {\n${cFloats(m.raw)}\n};`,
    );
  }
  writeFileSync(join(dir, 'api_data.h'), h.join('\n') + '\n');
  writeFileSync(join(dir, 'api_data.c'), c.join('\n') + '\n');
}
