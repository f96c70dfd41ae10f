// The small-RAM kernels' decoders (tf_small_token, packed fields read straight from the bitstream)
// (Conv1D, Dense, DepthwiseConv1D/2D) on damaged bitstreams under AddressSanitizer + UndefinedBehaviorSanitizer: no out-of-bounds read,
// and TF_ERR_CORRUPT exactly when the host decoder (same rules) finds the stream corrupt, else the
// reference logits of the damaged weights (as test/codegen/corrupt.test.ts for the fast kernels).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/index.js';
import type { QDepthwise } from '../../src/ops/depthwise.js';
import { makeRng, randInt, randomInput, randomModel } from '../helpers/randomModel.js';
import { randomOpModel } from '../helpers/randomOps/index.js';
import { CODINGS } from './smallRamModels.js';
import { buildRunner, runRunner, type RunOutput } from './cbuild.js';
import { damage, type Damage, type Variant } from './damage.js';

const TF_ERR_CORRUPT = 1;
const WINDOWS = 3;

function variants(): Variant[] {
  const bases: CompressedModel[] = [];
  for (const coding of CODINGS)
    for (let s = 1; s <= 2; s++) bases.push(randomModel(600 + s * 17, { codings: [coding] }));
  const out: Variant[] = [];
  bases.forEach((b, i) => {
    for (let k = 0; k < 3; k++)
      out.push({ name: `m${i} flip ${k}`, damage: 'flip', model: damage(b, 'flip', i * 71 + k) });
    out.push({ name: `m${i} truncate`, damage: 'truncate', model: damage(b, 'truncate', i * 67 + 30) });
  });
  // Depthwise layers (damage.ts damages Conv1D and Dense only): the first depthwise layer's stream.
  CODINGS.forEach((coding, i) => {
    const kind = i % 2 ? 'depthwise1d' : 'depthwise2d';
    const b = randomOpModel(700 + i, [kind], { codings: [coding] });
    for (let k = 0; k < 2; k++)
      out.push({ name: `dw${i} flip ${k}`, damage: 'flip', model: damageDepthwise(b, 'flip', i * 31 + k) });
    out.push({ name: `dw${i} truncate`, damage: 'truncate', model: damageDepthwise(b, 'truncate', i * 37) });
  });
  return out;
}

/** A copy with the first depthwise layer's bitstream damaged: bits flipped, or the array cut short. */
function damageDepthwise(base: CompressedModel, how: Damage, seed: number): CompressedModel {
  const rng = makeRng(seed);
  const at = base.layers.findIndex((l) => /^depthwise/.test(l.kind));
  const l = base.layers[at] as QDepthwise;
  const w = { ...l.weights, bitstream: l.weights.bitstream.slice() };
  if (how === 'flip') {
    for (let i = randInt(rng, 1, 3); i > 0; i--) {
      const bit = randInt(rng, 0, Math.max(0, w.bitLength - 1));
      w.bitstream[bit >> 3] ^= 0x80 >> (bit & 7);
    }
  } else {
    w.bitstream = w.bitstream.slice(0, randInt(rng, 0, w.bitstream.length - 1));
    w.bitLength = Math.min(w.bitLength, 8 * w.bitstream.length);
  }
  return { ...base, layers: base.layers.map((x, i) => (i === at ? { ...l, weights: w } : x)) };
}

describe('small-RAM kernels on damaged bitstreams under ASan + UBSan', () => {
  const vs = variants();
  const models = vs.map((v) => v.model);
  const inputs = models.map((m, i) =>
    Array.from({ length: WINDOWS }, (_, k) => randomInput(m, 9000 + i * 10 + k)),
  );
  let dir: string;
  let out: RunOutput;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-small-asan-'));
    const built = await buildRunner(dir, models, {
      cflags: ['-O0', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-DTF_NO_SECTIONS'],
      ram: { mode: 'small' },
    });
    out = await runRunner(built, dir, models, inputs);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finishes without any sanitizer report', () => {
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
  });

  it('returns TF_ERR_CORRUPT exactly when the stream is corrupt, else the reference logits', () => {
    const detected: Record<Damage, number> = { flip: 0, truncate: 0 };
    vs.forEach((v, m) => {
      inputs[m].forEach((x, i) => {
        const ref = runReference(v.model, x);
        const got = out.results[m].windows[i];
        expect({ v: v.name, i, rc: got.rc }).toEqual({ v: v.name, i, rc: ref.corrupt ? TF_ERR_CORRUPT : 0 });
        if (!ref.corrupt) expect(Array.from(got.logits)).toEqual(Array.from(ref.logits));
        if (ref.corrupt && i === 0) detected[v.damage]++;
      });
    });
    expect(detected.truncate).toBeGreaterThanOrEqual(vs.filter((v) => v.damage === 'truncate').length - 1);
    expect(detected.flip).toBeGreaterThan(0);
  });
});
