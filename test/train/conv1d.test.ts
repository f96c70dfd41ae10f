// The hand-written conv1d gradients (used where the backend lacks Conv2DBackpropFilter) against
// tfjs' own gradients on the cpu backend and against finite differences.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv1dCustomGrad } from '../../src/train/conv1d.js';
import { Rng } from '../../src/data/prng.js';

type Case = { L: number; cIn: number; cOut: number; k: number; stride: number; padding: 'same' | 'valid' };

const CASES: Case[] = [];
for (const stride of [1, 2, 3])
  for (const padding of ['same', 'valid'] as const)
    for (const k of [1, 3, 4]) CASES.push({ L: 11, cIn: 3, cOut: 4, k, stride, padding });

function randn(shape: number[], seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal());
}

interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** y and the gradients of L = sum(r * conv1d(x, w)) with respect to x and w. */
function gradsOf(c: Case, custom: boolean): Grads {
  const N = 2;
  const x = tf.tensor3d(randn([N, c.L, c.cIn], 1), [N, c.L, c.cIn]);
  const w = tf.tensor3d(randn([c.k, c.cIn, c.cOut], 2), [c.k, c.cIn, c.cOut]);
  const op = (a: tf.Tensor3D, b: tf.Tensor3D) =>
    custom ? conv1dCustomGrad(a, b, c.stride, c.padding) : tf.conv1d(a, b, c.stride, c.padding);
  const y = op(x, w);
  const r = tf.tensor(randn(y.shape, 3), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(op(a as tf.Tensor3D, b as tf.Tensor3D), r)),
  )([x, w]);
  const out = {
    y: y.dataSync() as Float32Array,
    dx: dx.dataSync() as Float32Array,
    dw: dw.dataSync() as Float32Array,
  };
  tf.dispose([x, w, y, r, dx, dw]);
  return out;
}

function expectClose(a: Float32Array, b: Float32Array, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  expect(worst).toBeLessThan(tol);
}

const name = (c: Case) => `k=${c.k} stride=${c.stride} ${c.padding}`;

describe('conv1d custom gradient', () => {
  let reference: Grads[];
  let saved: string;
  beforeAll(async () => {
    saved = tf.getBackend();
    await tf.setBackend('cpu');
    reference = CASES.map((c) => gradsOf(c, false));
  });
  afterAll(async () => {
    if (saved) await tf.setBackend(saved);
  });

  it.each(CASES.map((c, i) => [name(c), i] as const))('matches tfjs on cpu: %s', async (_n, i) => {
    await tf.setBackend('cpu');
    const g = gradsOf(CASES[i], true);
    expectClose(g.y, reference[i].y);
    expectClose(g.dx, reference[i].dx);
    expectClose(g.dw, reference[i].dw);
  });

  it('matches tfjs-on-cpu when run on the wasm backend (which has no native weight gradient)', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    CASES.forEach((c, i) => {
      const g = gradsOf(c, true);
      expectClose(g.dx, reference[i].dx);
      expectClose(g.dw, reference[i].dw);
    });
  });

  it('agrees with finite differences (the loss is linear in x and w, so differences are exact)', async () => {
    await tf.setBackend('cpu');
    for (const c of [CASES[4], CASES[9], CASES[14]]) {
      const g = gradsOf(c, true);
      const N = 2;
      const xv = randn([N, c.L, c.cIn], 1);
      const wv = randn([c.k, c.cIn, c.cOut], 2);
      const loss = (xa: Float32Array, wa: Float32Array) =>
        tf.tidy(() => {
          const y = tf.conv1d(
            tf.tensor3d(xa, [N, c.L, c.cIn]),
            tf.tensor3d(wa, [c.k, c.cIn, c.cOut]),
            c.stride,
            c.padding,
          );
          return tf.sum(tf.mul(y, tf.tensor(randn(y.shape, 3), y.shape))).dataSync()[0];
        });
      for (const i of [0, 5, xv.length - 1]) {
        const p = xv.slice();
        const m = xv.slice();
        p[i] += 1;
        m[i] -= 1;
        expect(g.dx[i]).toBeCloseTo((loss(p, wv) - loss(m, wv)) / 2, 3);
      }
      for (const i of [0, 7, wv.length - 1]) {
        const p = wv.slice();
        const m = wv.slice();
        p[i] += 1;
        m[i] -= 1;
        expect(g.dw[i]).toBeCloseTo((loss(xv, p) - loss(xv, m)) / 2, 3);
      }
    }
  });
});
