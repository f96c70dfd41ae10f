// Damaged weight bitstreams under AddressSanitizer + UndefinedBehaviorSanitizer: flipped bits and
// truncated arrays never read out of bounds or overflow, and tf_model_run reports TF_ERR_CORRUPT
// exactly when the host decoder (same rules) finds the stream corrupt; otherwise the logits are
// the reference's for the damaged weights.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/index.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { buildRunner, runRunner, type RunOutput } from './cbuild.js';
import { coded, damage, type Damage, type Variant } from './damage.js';
import { edgeModels } from './models.js';

const TF_ERR_CORRUPT = 1;
const WINDOWS = 4;

function variants(): Variant[] {
  const bases: CompressedModel[] = [];
  for (let s = 1; s <= 6; s++) bases.push(randomModel(400 + s));
  for (const coding of ['packed', 'huffman', 'rle-huffman'] as const) {
    for (let s = 1; s <= 3; s++) bases.push(randomModel(500 + s * 13, { codings: [coding] }));
  }
  for (const e of edgeModels()) if (coded(e.model).length) bases.push(e.model);
  const out: Variant[] = [];
  bases.forEach((b, i) => {
    for (let k = 0; k < 3; k++)
      out.push({ name: `m${i} flip ${k}`, damage: 'flip', model: damage(b, 'flip', i * 97 + k) });
    for (let k = 0; k < 2; k++) {
      out.push({
        name: `m${i} truncate ${k}`,
        damage: 'truncate',
        model: damage(b, 'truncate', i * 89 + k + 50),
      });
    }
  });
  return out;
}

describe('damaged bitstreams under ASan + UBSan', () => {
  const vs = variants();
  const models = vs.map((v) => v.model);
  const inputs = models.map((m, i) =>
    Array.from({ length: WINDOWS }, (_, k) => randomInput(m, 7000 + i * 10 + k)),
  );
  let dir: string;
  let out: RunOutput;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-codegen-asan-'));
    // TF_NO_SECTIONS: GCC does not put redzones around globals in named sections.
    const built = await buildRunner(dir, models, {
      cflags: [
        '-O0',
        '-g',
        '-fsanitize=address,undefined',
        '-fno-sanitize-recover=all',
        '-fno-omit-frame-pointer',
        '-DTF_NO_SECTIONS',
      ],
    });
    out = await runRunner(built, dir, models, inputs);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finishes without any sanitizer report', () => {
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
    expect(out.results).toHaveLength(models.length);
  });

  it('returns TF_ERR_CORRUPT exactly when the stream is corrupt, else the reference logits', () => {
    const detected: Record<Damage, number> = { flip: 0, truncate: 0 };
    vs.forEach((v, m) => {
      inputs[m].forEach((x, i) => {
        const ref = runReference(v.model, x);
        const got = out.results[m].windows[i];
        expect({ v: v.name, i, rc: got.rc }).toEqual({ v: v.name, i, rc: ref.corrupt ? TF_ERR_CORRUPT : 0 });
        expect(got.predict).toBe(ref.corrupt ? -TF_ERR_CORRUPT : ref.classIndex);
        if (!ref.corrupt) expect(Array.from(got.logits)).toEqual(Array.from(ref.logits));
        if (ref.corrupt && i === 0) detected[v.damage]++;
      });
    });
    const count = (d: Damage): number => vs.filter((v) => v.damage === d).length;
    // A truncated stream is (almost) always caught; flips in a Huffman stream mostly desynchronize it.
    expect(detected.truncate).toBeGreaterThanOrEqual(count('truncate') - 1);
    expect(detected.flip).toBeGreaterThan(0);
  });

  it('refuses to compile a bitstream shorter than its bit length', () => {
    const m = damage(randomModel(401), 'truncate', 1);
    const l = coded(m).find((c) => c.weights.bitstream.length > 0) ?? coded(m)[0];
    l.weights.bitLength = 8 * l.weights.bitstream.length + 1;
    expect(() => generateC(m)).toThrow(TinyforgeError);
  });
});
