// A fully int8 .tflite kept as it is (scheme 'tflite-int8'): every layer's output of the host reference
// equals the tensor TFLite's interpreter computed with its reference kernels (tensorflow-cpu 2.21,
// BUILTIN_REF, every intermediate kept: test/fixtures/import/cases_int8.py), on every recorded input of
// every int8 fixture, at every weight coding (lossless: the coding must not change a single value).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importModelFile } from '../../src/import/index.js';
import { runReference } from '../../src/reference/index.js';
import { CODINGS, type CompressedModel } from '../../src/qmodel/model.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');

interface Expected {
  name: string;
  input: number;
  output: number;
  tensors: { index: number; name: string; type: string }[];
  runs: Record<string, number[]>[];
}

const CASES = readdirSync(join(FIX, 'expected'))
  .filter((f) => f.endsWith('.int8.json'))
  .sort()
  .map((f) => f.replace(/\.json$/, ''));

const expectedOf = (c: string): Expected =>
  JSON.parse(readFileSync(join(FIX, 'expected', `${c}.json`), 'utf8')) as Expected;

/** Each layer that computes a TFLite tensor against the interpreter's value; the differences. */
function compareLayers(model: CompressedModel, fx: Expected): { compared: number; wrong: string[] } {
  const tensors = model.meta.tfliteTensors as Record<string, number>;
  let compared = 0;
  const wrong: string[] = [];
  fx.runs.forEach((run, r) => {
    const res = runReference(model, Int8Array.from(run[String(fx.input)]), { keepLayerOutputs: true });
    model.layers.forEach((l, i) => {
      const t = tensors[l.name];
      if (t === undefined) return;
      const want = run[String(t)];
      const got = Array.from(res.layerOutputs![i]);
      compared++;
      const bad = want.flatMap((w, k) => (got[k] === w ? [] : [k]));
      if (got.length !== want.length || bad.length)
        wrong.push(`run ${r} layer ${l.name} (${l.kind}): ${bad.length} of ${want.length} differ`);
    });
    expect(Array.from(res.logits), `run ${r} output`).toEqual(run[String(fx.output)]);
  });
  return { compared, wrong };
}

describe('int8 .tflite kept as int8: the host reference equals the interpreter at every layer', () => {
  it('has the fixtures', () => expect(CASES.length).toBeGreaterThanOrEqual(19));

  for (const c of CASES) {
    it(c, async () => {
      const fx = expectedOf(c);
      const imported = await importModelFile(join(FIX, 'tflite', `${c}.tflite`));
      expect(imported.keptQuantization, 'a fully int8 file').toBeDefined();
      for (const coding of CODINGS) {
        const model = imported.keptQuantization!({ coding });
        expect(model.scheme).toBe('tflite-int8');
        const r = compareLayers(model, fx);
        expect(r.wrong, coding).toEqual([]);
        // Every operator's output tensor except the pure layout ones is compared.
        expect(r.compared).toBeGreaterThanOrEqual(fx.runs.length);
        // Through a .tfm file and back, the same model.
        const back = decodeTfm(encodeTfm(model), `${c}.tfm`);
        expect(compareLayers(back, fx).wrong).toEqual([]);
      }
    });
  }
});
