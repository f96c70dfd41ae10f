// generateC without a compiler: refusals that name the layer, reproducible output, unique names.
import { describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { randomModel } from '../helpers/randomModel.js';
import { isDense } from '../helpers/layers.js';
import type { QDense } from '../../src/ops/dense.js';

describe('generateC', () => {
  it('is reproducible: the same model gives the same files', () => {
    const a = generateC(randomModel(8), { sourceName: 'x.tfm' });
    const b = generateC(randomModel(8), { sourceName: 'x.tfm' });
    expect(a.files).toEqual(b.files);
  });

  it('refuses a requantization shift outside 0..31, naming the layer', () => {
    const m = randomModel(8);
    const i = m.layers.findIndex((l) => l.kind === 'dense');
    const l = m.layers[i];
    if (!isDense(l)) throw new Error('no dense layer');
    const bad: QDense = { ...l, outFrac: l.inFrac + Math.max(...l.wFrac) + 1 };
    m.layers[i] = bad;
    expect(() => generateC(m)).toThrow(TinyforgeError);
    expect(() => generateC(m)).toThrow(new RegExp(l.name));
  });

  it('refuses class names that do not match the output size', () => {
    const m = randomModel(8);
    m.classNames = [...m.classNames, 'extra'];
    expect(() => generateC(m)).toThrow(TinyforgeError);
  });

  it('gives layers whose names clash after sanitizing distinct identifiers and sections', () => {
    const m = randomModel(8);
    m.layers = m.layers.map((l, i) => ({ ...l, name: i === 0 ? 'a-b' : i === 1 ? 'a_b' : l.name }));
    const c = generateC(m).files.find((f) => f.name === 'model.c')!.content;
    expect(c).toContain('".text.tf_kernels.a_b"');
    expect(c).toContain('".text.tf_kernels.a_b_2"');
  });

  it('keeps floats out of the integer path: model.c has no float or double before tf_quantize_input', () => {
    for (let s = 1; s <= 5; s++) {
      const all = generateC(randomModel(s)).files.find((f) => f.name === 'model.c')!.content;
      // The input quantization (floating point by nature) closes the file; nothing calls it.
      const [c, quantize] = all.split('/* ==== Input quantization (floating point');
      expect(quantize).toMatch(/\bdouble\b/);
      expect(quantize).not.toMatch(/tf_model_run|tf_layer_/);
      expect(c).not.toMatch(/\b(float|double)\b/);
      expect(c).not.toMatch(/\bmalloc\b/);
    }
  });
});
