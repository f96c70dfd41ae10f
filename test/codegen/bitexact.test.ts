// The generated C, compiled for the host with strict flags, against the host reference interpreter:
// bit-for-bit logits on many random models (every layer kind, widths 2..8, every coding, per-layer
// and per-channel formats, odd sizes, both paddings, strides 1 and 2) and hand-built corner cases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildView } from '../../src/codegen/view.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { argmax } from '../../src/fixedpoint/semantics.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { isConv, isPool, isWeighted, isWeightedView } from '../helpers/layers.js';
import { buildRunner, runRunner, type RunOutput } from './cbuild.js';
import { edgeModels } from './models.js';
import { generatedKinds, opSuite } from '../helpers/randomOps/index.js';

const WINDOWS = 24;

function suite(): { name: string; model: CompressedModel }[] {
  const out: { name: string; model: CompressedModel }[] = [];
  for (let s = 1; s <= 16; s++) out.push({ name: `random ${s}`, model: randomModel(s) });
  for (let s = 101; s <= 112; s++)
    out.push({ name: `random sparse-kinds ${s}`, model: randomModel(s, { everyKind: false }) });
  for (const coding of ['packed', 'huffman', 'rle-huffman'] as const) {
    for (let s = 201; s <= 204; s++) {
      out.push({ name: `${coding} only ${s}`, model: randomModel(s * 7, { codings: [coding] }) });
    }
  }
  out.push({ name: '8-bit packed', model: randomModel(301, { codings: ['packed'], bits: [8] }) });
  for (const e of edgeModels()) out.push(e);
  for (const e of opSuite()) out.push(e);
  return out;
}

/** Random windows plus the extremes (all -128, all 0, all 127). */
function windowsFor(model: CompressedModel, seed: number): Int8Array[] {
  const size = model.inputShape[0] * model.inputShape[1];
  const ws = Array.from({ length: WINDOWS }, (_, i) => randomInput(model, seed * 1000 + i));
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

describe('generated C vs host reference (gcc, host)', () => {
  const cases = suite();
  const models = cases.map((c) => c.model);
  const inputs = models.map((m, i) => windowsFor(m, i + 1));
  let dir: string;
  let out: RunOutput;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-codegen-'));
    const built = await buildRunner(dir, models, { cflags: ['-O2'] });
    out = await runRunner(built, dir, models, inputs);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('covers what it claims to cover', () => {
    const seen = new Set<string>();
    for (const m of models) {
      if (m.layers.some((l) => l.inputs)) seen.add('branch');
      for (const l of m.layers) {
        seen.add(l.kind);
        if (isWeighted(l)) {
          seen.add(`${l.kind}:${l.weights.coding}`);
          seen.add(`bits:${l.weights.bits}`);
          seen.add(l.wFrac.length === 1 ? 'per-layer' : 'per-channel');
        }
        if (isConv(l) || isPool(l)) {
          seen.add(`${l.kind}:${l.padding}`);
          seen.add(`${l.kind}:stride${l.stride}`);
        }
      }
      // The kernel variants the compiler chose (templates/kernels/weighted.c.hbs, portable path here).
      for (const l of buildView(m).view.layers) {
        if (!isWeightedView(l)) continue;
        seen.add(l.mac.dense ? 'mac:dense' : 'mac:sparse');
        seen.add(l.mac.aligned ? 'mac:aligned' : 'mac:unaligned');
        if (l.mac.partial) seen.add('mac:partial-block');
        if (l.mac.rowsDirect) seen.add(l.mac.tail.length ? 'mac:rows+tail' : 'mac:rows');
        if (l.decode.lut) seen.add(l.decode.checked ? 'decode:checked' : 'decode:fast');
        if (l.sparse && l.sparse.tb > 1) seen.add('sparse:blocked');
        if (l.weights.rle) seen.add(l.mac.dense ? 'rle:dense' : 'rle:sparse');
      }
      const [T, C] = m.inputShape;
      if (T % 2 === 1) seen.add('odd T');
      if (C % 2 === 1 && C > 1) seen.add('odd C');
    }
    const want = [...generatedKinds(), 'branch'];
    for (const k of ['conv1d', 'dense'])
      for (const c of ['packed', 'huffman', 'rle-huffman']) want.push(`${k}:${c}`);
    for (let b = 2; b <= 8; b++) want.push(`bits:${b}`);
    want.push('per-layer', 'per-channel', 'odd T', 'odd C');
    want.push('mac:dense', 'mac:sparse', 'mac:aligned', 'mac:unaligned', 'mac:partial-block');
    want.push('mac:rows', 'mac:rows+tail');
    want.push('decode:checked', 'decode:fast', 'sparse:blocked', 'rle:dense', 'rle:sparse');
    for (const k of ['conv1d', 'maxpool1d', 'avgpool1d']) {
      want.push(`${k}:same`, `${k}:valid`, `${k}:stride1`, `${k}:stride2`);
    }
    for (const w of want) expect(seen, `no model has ${w}`).toContain(w);
  });

  it('compiles cleanly and runs without errors', () => {
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
    expect(out.results).toHaveLength(models.length);
  });

  it('rejects NULL arguments with TF_ERR_ARG', () => {
    for (const r of out.results) expect(r.argChecks).toEqual([2, 2, 1]);
  });

  it('gives the reference logits bit for bit, and predict gives their argmax', () => {
    let windows = 0;
    cases.forEach((c, m) => {
      const prepared = prepareReference(c.model);
      expect(prepared.corrupt).toBe(false);
      const res = out.results[m];
      expect(res.windows).toHaveLength(inputs[m].length);
      inputs[m].forEach((x, i) => {
        const ref = runPrepared(prepared, x).logits;
        const got = res.windows[i];
        expect({ model: c.name, window: i, rc: got.rc, logits: Array.from(got.logits) }).toEqual({
          model: c.name,
          window: i,
          rc: 0,
          logits: Array.from(ref),
        });
        expect(got.predict).toBe(argmax(ref));
        windows++;
      });
    });
    expect(windows).toBe(models.length * (WINDOWS + 3));
  });
});
