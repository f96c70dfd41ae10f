// The Cortex-M4 kernels (TF_DSP: SMLAD/SMLATB inner loops, inline-assembly decoders, SIMD pooling)
// against the host reference, ON THE TARGET: many random models and the corner cases of
// test/codegen, plus the benchmark networks, linked into a few firmwares for netduinoplus2 and run
// under QEMU on many windows each. Every kernel variant the compiler can choose must appear.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import { buildView } from '../../src/codegen/view.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import {
  calibrationWindows,
  compressVariant,
  harDefaultGraph,
  randomFloatModel,
  referenceGraph,
  VARIANTS,
} from '../../src/measure/seededModels.js';
import { edgeModels } from '../codegen/models.js';
import { generatedKinds, opSuite } from '../helpers/randomOps/index.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { isConvView, isWeightedView } from '../helpers/layers.js';
import { runOnTarget, type KernelRun } from './target.js';

interface Case {
  name: string;
  model: CompressedModel;
  windows: number;
}

function suite(): Case[] {
  const out: Case[] = [];
  for (let s = 1; s <= 16; s++) out.push({ name: `random ${s}`, model: randomModel(s), windows: 12 });
  for (let s = 101; s <= 108; s++)
    out.push({ name: `random sparse-kinds ${s}`, model: randomModel(s, { everyKind: false }), windows: 12 });
  for (const coding of ['packed', 'huffman', 'rle-huffman'] as const) {
    for (let s = 211; s <= 214; s++) {
      out.push({
        name: `${coding} only ${s}`,
        model: randomModel(s * 7, { codings: [coding] }),
        windows: 12,
      });
    }
  }
  for (let s = 301; s <= 303; s++)
    out.push({
      name: `8-bit packed ${s}`,
      model: randomModel(s, { codings: ['packed'], bits: [8] }),
      windows: 12,
    });
  for (const e of edgeModels()) out.push({ ...e, windows: 8 });
  for (const e of opSuite()) out.push({ ...e, windows: 6 });
  return out;
}

/** The benchmark networks (128x9 windows): long rows, aligned and unaligned windows, big tables. */
function benchCases(): Case[] {
  const out: Case[] = [];
  for (const [name, graph] of [
    ['reference', referenceGraph()],
    ['har-default', harDefaultGraph()],
  ] as const) {
    const float = randomFloatModel(graph, 7);
    const cal = calibrationWindows(graph, 8, 8);
    for (const v of VARIANTS) {
      if (name === 'har-default' && v.sparsity === 0 && v.coding === 'packed' && v.bits === 4) continue;
      out.push({ name: `${name} ${v.label}`, model: compressVariant(float, v, cal), windows: 3 });
    }
  }
  return out;
}

/** Random windows plus the extremes (all -128, all 0, all 127). */
function windowsFor(model: CompressedModel, n: number, seed: number): Int8Array[] {
  const size = model.inputShape[0] * model.inputShape[1];
  const ws = Array.from({ length: n }, (_, i) => randomInput(model, seed * 1000 + i));
  return [...ws, new Int8Array(size).fill(-128), new Int8Array(size), new Int8Array(size).fill(127)];
}

function expectBitExact(cases: Case[], inputs: Int8Array[][], run: KernelRun): number {
  let windows = 0;
  cases.forEach((c, m) => {
    const prepared = prepareReference(c.model);
    expect(prepared.corrupt).toBe(false);
    inputs[m].forEach((x, w) => {
      const ref = runPrepared(prepared, x).logits;
      expect({
        model: c.name,
        window: w,
        rc: run.rc[m][w],
        logits: Array.from(run.logits[m][w] ?? []),
      }).toEqual({
        model: c.name,
        window: w,
        rc: 0,
        logits: Array.from(ref),
      });
      windows++;
    });
  });
  return windows;
}

describe('Cortex-M4 kernels vs host reference (netduinoplus2 under QEMU)', () => {
  const small = suite();
  const bench = benchCases();
  const smallInputs = small.map((c, i) => windowsFor(c.model, c.windows, i + 1));
  const benchInputs = bench.map((c, i) => windowsFor(c.model, c.windows, 500 + i));
  const dirs: string[] = [];
  let smallRun: KernelRun;
  let benchRun: KernelRun;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-kernels-'));
    dirs.push(dir);
    const all = await runOnTarget(
      dir,
      [...small, ...bench].map((c) => c.model),
      [...smallInputs, ...benchInputs],
    );
    const part = (from: number, to: number): KernelRun => ({
      logits: all.logits.slice(from, to),
      rc: all.rc.slice(from, to),
      instructions: all.instructions.slice(from, to),
      layers: all.layers.slice(from, to),
      dsp: all.dsp.slice(from, to),
      layerCrcs: all.layerCrcs.slice(from, to),
      wallMs: all.wallMs,
    });
    smallRun = part(0, small.length);
    benchRun = part(small.length, small.length + bench.length);
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('covers every kernel variant', () => {
    const seen = new Set<string>();
    for (const c of [...small, ...bench]) {
      if (c.model.layers.some((l) => l.inputs)) seen.add('branch');
      const { view } = buildView(c.model);
      for (const l of view.layers) {
        seen.add(l.kind);
        if (isWeightedView(l)) {
          const { mac, decode, sparse } = l;
          seen.add(`${l.kind}:${l.weights.coding}`);
          seen.add(`bits:${l.weights.bits}`);
          seen.add(mac.dense ? 'mac:dense' : 'mac:sparse');
          if (mac.dense) seen.add(mac.aligned ? 'mac:aligned' : 'mac:unaligned');
          if (mac.dense && mac.groups4 > 0) seen.add('mac:loop');
          if (mac.dense && mac.remPairs.length > 0) seen.add('mac:remainder');
          if (mac.partial) seen.add('mac:partial-block');
          if (sparse) seen.add(`sparse:tb${sparse.tb}`);
          if (sparse && sparse.lastStart % sparse.tb !== 0) seen.add('sparse:overlap');
          if (decode.direct8) seen.add('decode:direct8');
          if (mac.rowsDirect) seen.add(mac.tail.length ? 'mac:rows+tail' : 'mac:rows');
          if (mac.rowsDirect && mac.partial) seen.add('mac:rows-partial');
          if (decode.lut) seen.add(decode.checked ? 'decode:checked' : 'decode:fast');
          if (l.weights.rle) seen.add(mac.dense ? 'rle:dense' : 'rle:sparse');
          // Long rows run the inline-assembly decoders (short streams stay in the bounded C).
          if (decode.lut && mac.n >= 40) {
            const kind = decode.huffman ? 'huffman-rows' : mac.dense ? 'rle-rows' : 'rle-list';
            seen.add(`asm:${kind}:${decode.checked ? 'checked' : 'fast'}`);
          }
          if (l.requant.shiftArray) seen.add('shift:per-channel');
          if (l.requant.relu) seen.add('relu');
        }
        if (isConvView(l)) {
          seen.add(`conv:stride${l.stride}`);
          seen.add(l.padLeft > 0 || l.mac.zr > 1 ? 'conv:padded' : 'conv:valid');
        }
        if (l.kind === 'gap1d') seen.add(l.simd ? 'gap:simd' : 'gap:scalar');
        if (l.kind === 'maxpool1d' && l.inC >= 4) seen.add('maxpool:simd');
        if (l.kind === 'gmp1d' && l.inC >= 4) seen.add('gmp:simd');
      }
    }
    const want = [...generatedKinds(), 'branch'];
    for (const k of ['conv1d', 'dense'])
      for (const c of ['packed', 'huffman', 'rle-huffman']) want.push(`${k}:${c}`);
    for (let b = 2; b <= 8; b++) want.push(`bits:${b}`);
    want.push('mac:dense', 'mac:sparse', 'mac:aligned', 'mac:unaligned', 'mac:loop', 'mac:remainder');
    want.push('mac:partial-block', 'sparse:overlap', 'decode:direct8', 'decode:checked', 'decode:fast');
    want.push('mac:rows', 'mac:rows+tail', 'mac:rows-partial');
    want.push('shift:per-channel', 'relu', 'conv:stride1', 'conv:stride2', 'conv:padded', 'conv:valid');
    want.push('gap:simd', 'maxpool:simd', 'gmp:simd', 'rle:dense', 'rle:sparse');
    for (const k of ['huffman-rows', 'rle-list']) want.push(`asm:${k}:checked`, `asm:${k}:fast`);
    for (let tb = 1; tb <= 6; tb++) if (tb !== 6) want.push(`sparse:tb${tb}`);
    for (const w of want) expect(seen, `no model has ${w}`).toContain(w);
  });

  it('runs the DSP kernels (TF_DSP) on the target, not the portable C', () => {
    expect(smallRun.dsp).toEqual(small.map(() => 1));
    expect(benchRun.dsp).toEqual(bench.map(() => 1));
    const c = [...small, ...bench].map((x) => generateC(x.model).files[0].content).join('\n');
    expect(c).toContain('smlad');
    expect(c).toContain('smlatb');
  });

  it('gives the reference logits bit for bit on small random and corner-case models', () => {
    const n = expectBitExact(small, smallInputs, smallRun);
    expect(n).toBe(small.reduce((s, c) => s + c.windows + 3, 0));
  });

  it('gives the reference logits bit for bit on the benchmark networks', () => {
    const n = expectBitExact(bench, benchInputs, benchRun);
    expect(n).toBe(bench.reduce((s, c) => s + c.windows + 3, 0));
  });
});
