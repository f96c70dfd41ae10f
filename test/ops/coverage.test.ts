// Every quantized operator has a random-model generator (test/helpers/randomOps), so the
// bit-exactness suites (test/codegen/bitexact, test/kernels/bitexact) run it at every coding; and
// the generated models are valid and run in the host reference.
import { describe, expect, it } from 'vitest';
import { registeredOps } from '../../src/ops/registry.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { generatedKinds, mixedKinds, opSuite, randomOpModel } from '../helpers/randomOps/index.js';
import { randomInput } from '../helpers/randomModel.js';

describe('random-model coverage of the operators', () => {
  it('has a generator for every operator with a quantized form, and for no other kind', () => {
    const quantized = registeredOps()
      .filter((op) => op.quantized)
      .map((op) => op.kind)
      .sort();
    expect([...generatedKinds()].sort()).toEqual(quantized);
  });

  it('draws valid models that put the kind in the graph and run in the reference', () => {
    for (const { name, model } of opSuite()) {
      const kinds = new Set(model.layers.map((l) => l.kind));
      const wanted = name.startsWith('every') ? generatedKinds() : [name.split(' ')[0]];
      for (const k of wanted) expect(kinds, `${name} lacks ${k}`).toContain(k);
      const prepared = prepareReference(model);
      expect(prepared.corrupt).toBe(false);
      expect(runPrepared(prepared, randomInput(model, 1)).logits.length).toBe(model.classNames.length);
    }
  });

  it('is deterministic in the seed', () => {
    const a = randomOpModel(5, mixedKinds(5));
    const b = randomOpModel(5, mixedKinds(5));
    expect(JSON.stringify(a, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int8Array) : v))).toBe(
      JSON.stringify(b, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int8Array) : v)),
    );
  });
});
