// Fake quantization (fine-tuning, src/compress/finetune.ts) puts every weight exactly where the
// integer quantizer will: fakeQuantKernel's forward value is quantizeValue(w, f, bits) / 2^f with
// f = fracBitsFor(max |w|, bits) of the layer or of the output channel (src/fixedpoint/semantics.ts),
// element by element and bit for bit, on seeded random kernels salted with the edge cases: rounding
// ties and their float32 neighbours, channels whose max |w| sits on a fractional-bit boundary,
// all-zero, tiny (denormal) and huge channels.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeQuantKernel } from '../../src/compress/finetune.js';
import { mulberry32 } from '../../src/data/prng.js';
import { fracBitsFor, quantizeValue, weightRange } from '../../src/fixedpoint/semantics.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 next to `x` (x finite and non-zero) away from zero (+1) or towards it (-1). */
function nextF32(x: number, dir: 1 | -1): number {
  f32[0] = x;
  u32[0] += dir;
  return f32[0];
}

/** Kernel layouts of the fine-tuning forward pass: Conv1D [k, Cin, Co], Dense [F, Co]. */
const SHAPES: number[][] = [
  [3, 8, 12],
  [5, 4, 6],
  [1, 3, 5],
  [40, 10],
  [7, 1],
];

/** How a channel's values are drawn (before the ties are salted in). */
type Kind = 'normal' | 'boundary' | 'zero' | 'tiny' | 'huge' | 'uniform';
const KINDS: Kind[] = ['normal', 'normal', 'uniform', 'boundary', 'boundary', 'zero', 'tiny', 'huge'];

/**
 * A random kernel [..., Co]: per output channel a scale, values, and for every `boundary` channel
 * a maximum |w| of hi * 2^-j or a float32 neighbour of it (where fracBitsFor changes its answer).
 */
function randomKernel(rng: () => number, shape: number[], bits: number): Float32Array {
  const Co = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  const w = new Float32Array(n);
  const hi = weightRange(bits)[1];
  const gauss = (): number => {
    const u = Math.max(rng(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  };
  for (let o = 0; o < Co; o++) {
    const kind = KINDS[Math.floor(rng() * KINDS.length)];
    const scale = 2 ** (Math.floor(rng() * 24) - 16);
    for (let i = o; i < n; i += Co) {
      switch (kind) {
        case 'zero':
          w[i] = rng() < 0.5 ? 0 : -0;
          break;
        case 'tiny':
          w[i] = gauss() * 1e-41; // denormal float32
          break;
        case 'huge':
          w[i] = gauss() * 1e5;
          break;
        case 'uniform':
          w[i] = (2 * rng() - 1) * scale;
          break;
        default:
          w[i] = gauss() * scale;
      }
    }
    if (kind === 'boundary') {
      const j = Math.floor(rng() * 30) - 8;
      let m = Math.fround(hi * 2 ** -j);
      const r = rng();
      if (r < 0.3) m = nextF32(m, 1);
      else if (r < 0.6) m = nextF32(m, -1);
      // The channel's maximum is m (scale the rest below it), at a random position and sign.
      let max = 0;
      for (let i = o; i < n; i += Co) max = Math.max(max, Math.abs(w[i]));
      for (let i = o; i < n; i += Co) w[i] = max > 0 ? Math.fround((w[i] / max) * m * 0.999) : 0;
      const at = o + Co * Math.floor(rng() * (n / Co));
      w[at] = rng() < 0.5 ? m : -m;
    }
  }
  return w;
}

/** fracBitsFor of the whole kernel or of each output channel (the last axis). */
function fracs(w: Float32Array, Co: number, bits: number, perChannel: boolean): number[] {
  const maxAbs = new Array<number>(perChannel ? Co : 1).fill(0);
  w.forEach((v, i) => {
    const c = perChannel ? i % Co : 0;
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(v));
  });
  return maxAbs.map((m) => fracBitsFor(m, bits));
}

/**
 * Replaces some values by rounding ties of their channel's grid, (q + 1/2) * 2^-f, and the float32
 * values on either side, keeping every channel's maximum (so its fractional bits stay f).
 */
function saltTies(rng: () => number, w: Float32Array, Co: number, bits: number, perChannel: boolean): void {
  const f = fracs(w, Co, bits, perChannel);
  const [lo, hi] = weightRange(bits);
  const maxAbs = new Array<number>(Co).fill(0);
  w.forEach((v, i) => (maxAbs[i % Co] = Math.max(maxAbs[i % Co], Math.abs(v))));
  for (let i = 0; i < w.length; i++) {
    if (rng() < 0.5) continue;
    const c = i % Co;
    const fc = perChannel ? f[c] : f[0];
    const q = lo + Math.floor(rng() * (hi - lo + 1));
    let t = Math.fround((q + 0.5) * 2 ** -fc);
    if (t !== 0 && rng() < 0.6) t = nextF32(t, rng() < 0.5 ? 1 : -1);
    // Never a new maximum, never the maximum itself (that one stays where randomKernel put it).
    if (Math.abs(t) < maxAbs[c]) w[i] = t;
  }
}

function expected(w: Float32Array, Co: number, bits: number, perChannel: boolean): Float32Array {
  const f = fracs(w, Co, bits, perChannel);
  return w.map((v, i) => {
    const fc = perChannel ? f[i % Co] : f[0];
    return quantizeValue(v, fc, bits) / 2 ** fc;
  });
}

function fakeQuant(w: Float32Array, shape: number[], bits: number, perChannel: boolean): Float32Array {
  return tf.tidy(
    () => fakeQuantKernel(tf.tensor(w, shape, 'float32'), bits, perChannel).dataSync() as Float32Array,
  );
}

function mismatches(w: Float32Array, got: Float32Array, want: Float32Array, limit = 10): string[] {
  const out: string[] = [];
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    if (got[i] === want[i]) continue;
    if (++count <= limit) out.push(`w[${i}] = ${w[i]}: fake quant ${got[i]}, quantizer ${want[i]}`);
  }
  if (count > limit) out.push(`... ${count - limit} more`);
  return out;
}

const BACKENDS = ['cpu', 'wasm'];
let previous: string;
beforeAll(() => {
  previous = tf.getBackend();
});
afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

describe.each(BACKENDS)('fakeQuantKernel on the %s backend == the integer quantizer', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
  });

  for (let bits = 2; bits <= 8; bits++) {
    for (const perChannel of [false, true]) {
      it(`${bits} bits, ${perChannel ? 'per channel' : 'per layer'}`, () => {
        const rng = mulberry32(1000 * bits + (perChannel ? 1 : 0));
        const problems: string[] = [];
        let ties = 0;
        for (let k = 0; k < 40; k++) {
          const shape = SHAPES[k % SHAPES.length];
          const Co = shape[shape.length - 1];
          const w = randomKernel(rng, shape, bits);
          saltTies(rng, w, Co, bits, perChannel);
          const want = expected(w, Co, bits, perChannel);
          const got = fakeQuant(w, shape, bits, perChannel);
          const f = fracs(w, Co, bits, perChannel);
          w.forEach((v, i) => {
            const fc = perChannel ? f[i % Co] : f[0];
            if ((v * 2 ** fc) % 1 === 0.5 || (v * 2 ** fc) % 1 === -0.5) ties++;
          });
          problems.push(...mismatches(w, got, want).map((m) => `kernel ${k} [${shape.join(', ')}] ${m}`));
        }
        expect(problems.slice(0, 20)).toEqual([]);
        expect(ties, 'exact rounding ties tested').toBeGreaterThan(50);
      });
    }
  }

  it('keeps zero at zero and the straight-through gradient', () => {
    const w = tf.tensor2d([0, -0, 0, 0], [2, 2]);
    expect(Array.from(tf.tidy(() => fakeQuantKernel(w, 4, true).dataSync()))).toEqual([0, 0, 0, 0]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuantKernel(x, 3, false), 2)));
    expect(Array.from(g(tf.tensor2d([0.1, -0.3, 0.25, 7], [2, 2])).dataSync())).toEqual([2, 2, 2, 2]);
    w.dispose();
  });
});
