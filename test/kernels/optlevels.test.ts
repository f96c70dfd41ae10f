// The Cortex-M4 kernels at other optimization levels: the inline assembly pins its registers and
// the C around it is allocated differently at -Os and -O3 (and -O1); every level must keep the DSP
// path and the reference logits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  calibrationWindows,
  compressVariant,
  randomFloatModel,
  referenceGraph,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { edgeModels } from '../codegen/models.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { runOnTarget } from './target.js';

function models(): CompressedModel[] {
  const out: CompressedModel[] = [];
  for (let s = 1; s <= 6; s++) out.push(randomModel(900 + s));
  out.push(...edgeModels().map((e) => e.model));
  const graph = referenceGraph();
  const float = randomFloatModel(graph, 3);
  const cal = calibrationWindows(graph, 4, 3);
  for (const label of ['packed 8-bit', 'huffman 4-bit', 'rle-huffman 8-bit, 80% pruned']) {
    out.push(
      compressVariant(
        float,
        VARIANTS.find((v) => v.label === label)!,
        cal,
      ),
    );
  }
  return out;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('Cortex-M4 kernels at other optimization levels', () => {
  const ms = models();
  const inputs = ms.map((m, i) => Array.from({ length: 3 }, (_, k) => randomInput(m, 4000 + i * 10 + k)));
  for (const opt of ['-Os', '-O1', '-O3']) {
    it(`${opt}: DSP kernels, reference logits`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tf-kernels-opt-'));
      dirs.push(dir);
      const run = await runOnTarget(dir, ms, inputs, { optLevel: opt });
      expect(run.dsp).toEqual(ms.map(() => 1));
      ms.forEach((m, i) => {
        const p = prepareReference(m);
        inputs[i].forEach((x, k) => {
          expect({ model: i, window: k, rc: run.rc[i][k], logits: Array.from(run.logits[i][k]) }).toEqual({
            model: i,
            window: k,
            rc: 0,
            logits: Array.from(runPrepared(p, x).logits),
          });
        });
      });
    });
  }
});
