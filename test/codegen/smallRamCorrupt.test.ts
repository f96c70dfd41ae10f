// The small-RAM kernels' decoders (tf_small_token, packed fields read straight from the bitstream)
// on damaged bitstreams under AddressSanitizer + UndefinedBehaviorSanitizer: no out-of-bounds read,
// and TF_ERR_CORRUPT exactly when the host decoder (same rules) finds the stream corrupt, else the
// reference logits of the damaged weights (as test/codegen/corrupt.test.ts for the fast kernels).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/index.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { buildRunner, runRunner, type RunOutput } from './cbuild.js';
import { damage, type Damage, type Variant } from './damage.js';

const TF_ERR_CORRUPT = 1;
const WINDOWS = 3;

function variants(): Variant[] {
  const bases: CompressedModel[] = [];
  for (const coding of ['packed', 'huffman', 'rle-huffman'] as const)
    for (let s = 1; s <= 2; s++) bases.push(randomModel(600 + s * 17, { codings: [coding] }));
  const out: Variant[] = [];
  bases.forEach((b, i) => {
    for (let k = 0; k < 3; k++)
      out.push({ name: `m${i} flip ${k}`, damage: 'flip', model: damage(b, 'flip', i * 71 + k) });
    out.push({ name: `m${i} truncate`, damage: 'truncate', model: damage(b, 'truncate', i * 67 + 30) });
  });
  return out;
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
