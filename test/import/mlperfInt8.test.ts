// The four MLPerf Tiny int8 models kept int8 (scheme 'tflite-int8'): on every recorded input (the
// sample inputs, AD's 196 five-slice windows, three random inputs each) every layer's output of the
// host reference has the CRC-32 of the tensor TFLite's interpreter computed with its reference
// kernels (test/fixtures/import/make_mlperf_int8_expected.py), and the first run's values where the
// fixture keeps them, element by element (so a difference names its place).
import { describe, expect, it } from 'vitest';
import { importModelFile } from '../../src/import/index.js';
import { prepareReference, quantizeWindow, runPrepared } from '../../src/reference/index.js';
import { crc32 } from '../../src/qmodel/crc32.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import {
  MLPERF_MODELS,
  mlperfFile,
  mlperfInt8Expected,
  mlperfInt8Input,
  runMlperf,
  type MlperfName,
} from '../helpers/mlperf.js';

const bytes = (x: Int8Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** The layers that differ from the interpreter, run by run (empty: bit-exact everywhere). */
function differences(
  name: MlperfName,
  model: CompressedModel,
): { runs: number; layers: number; wrong: string[] } {
  const fx = mlperfInt8Expected(name);
  const tensors = model.meta.tfliteTensors as Record<string, number>;
  const p = prepareReference(model);
  const size = model.inputShape[0] * model.inputShape[1];
  const quantize = (x: Float32Array) => quantizeWindow(model, x);
  const wrong: string[] = [];
  let layers = 0;
  fx.runs.forEach((run, r) => {
    const input = mlperfInt8Input(name, run, size, quantize);
    if (crc32(bytes(input)) !== run.crc[String(fx.input)]) wrong.push(`run ${r}: the input differs`);
    const res = runPrepared(p, input, { keepLayerOutputs: true });
    model.layers.forEach((l, i) => {
      const t = tensors[l.name];
      if (t === undefined) return;
      layers++;
      const got = res.layerOutputs![i];
      if (crc32(bytes(got)) === run.crc[String(t)]) return;
      const want = run.values?.[String(t)];
      const first = want ? want.findIndex((v, k) => v !== got[k]) : -1;
      wrong.push(`run ${r} layer ${l.name}: differs${first >= 0 ? ` first at [${first}]` : ''}`);
    });
    expect(Array.from(res.logits), `run ${r}`).toEqual(run.output);
  });
  return { runs: fx.runs.length, layers, wrong };
}

describe.runIf(runMlperf)('MLPerf Tiny int8 models kept int8: every layer equals the interpreter', () => {
  for (const name of MLPERF_MODELS) {
    it(`${name}: every layer of every input, bit-exact on the host`, async () => {
      const fx = mlperfInt8Expected(name);
      const imported = await importModelFile(mlperfFile(fx.file));
      expect(imported.keptQuantization, 'a fully int8 file').toBeDefined();
      const model = imported.keptQuantization!({ coding: 'packed' });
      const r = differences(name, model);
      expect(r.wrong.slice(0, 10)).toEqual([]);
      // Every operator (its RESHAPEs too) has a layer compared, on every run.
      expect(r.layers).toBe(fx.operators.length * r.runs);
      if (name === 'ad') expect(r.runs).toBe(199);
    }, 300_000);
  }
});
