// Damaged weight bitstreams on the target: the Cortex-M4 decoders (inline-assembly Huffman and
// zero-run loops, their slow paths and the bounded tail) report TF_ERR_CORRUPT exactly when the host
// decoder finds the stream corrupt, and otherwise give the reference logits of the damaged weights.
// The benchmark networks have rows long enough for the assembly loops; small random models cover
// the bounded C path near the end of a stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  calibrationWindows,
  compressVariant,
  harDefaultGraph,
  randomFloatModel,
  referenceGraph,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { runReference } from '../../src/reference/index.js';
import { damage, type Damage, type Variant } from '../codegen/damage.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { runOnTarget, type KernelRun } from './target.js';

const TF_ERR_CORRUPT = 1;
const WINDOWS = 2;

function variants(): Variant[] {
  const bases: CompressedModel[] = [];
  const coded = VARIANTS.filter((v) => v.coding !== 'packed');
  for (const [seed, graph] of [
    [11, referenceGraph()],
    [12, harDefaultGraph()],
  ] as const) {
    const float = randomFloatModel(graph, seed);
    const cal = calibrationWindows(graph, 8, seed);
    for (const v of coded) bases.push(compressVariant(float, v, cal));
  }
  for (let s = 1; s <= 4; s++) bases.push(randomModel(700 + s, { codings: ['huffman', 'rle-huffman'] }));
  const out: Variant[] = [];
  bases.forEach((b, i) => {
    const big = b.inputShape[0] >= 100;
    const only = big ? (l: { kind: string }) => l.kind === 'conv1d' : undefined;
    for (let k = 0; k < 2; k++)
      out.push({ name: `m${i} flip ${k}`, damage: 'flip', model: damage(b, 'flip', i * 97 + k, only) });
    out.push({ name: `m${i} truncate`, damage: 'truncate', model: damage(b, 'truncate', i * 89 + 50, only) });
  });
  return out;
}

describe('damaged bitstreams on the target', () => {
  const vs = variants();
  const inputs = vs.map((v, i) =>
    Array.from({ length: WINDOWS }, (_, k) => randomInput(v.model, 8000 + i * 10 + k)),
  );
  let dir: string;
  let run: KernelRun;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-kernels-corrupt-'));
    run = await runOnTarget(
      dir,
      vs.map((v) => v.model),
      inputs,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns TF_ERR_CORRUPT exactly when the stream is corrupt, else the reference logits', () => {
    expect(run.dsp).toEqual(vs.map(() => 1));
    const detected: Record<Damage, number> = { flip: 0, truncate: 0 };
    vs.forEach((v, m) => {
      inputs[m].forEach((x, i) => {
        const ref = runReference(v.model, x);
        expect({ v: v.name, i, rc: run.rc[m][i] }).toEqual({
          v: v.name,
          i,
          rc: ref.corrupt ? TF_ERR_CORRUPT : 0,
        });
        if (!ref.corrupt) expect(Array.from(run.logits[m][i])).toEqual(Array.from(ref.logits));
        if (ref.corrupt && i === 0) detected[v.damage]++;
      });
    });
    const count = (d: Damage): number => vs.filter((v) => v.damage === d).length;
    expect(detected.truncate).toBeGreaterThanOrEqual(count('truncate') - 1);
    expect(detected.flip).toBeGreaterThan(0);
  });
});
