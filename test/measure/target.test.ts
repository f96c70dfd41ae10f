// End to end on the emulated Cortex-M4: a small model trained on synthetic data, compressed three
// ways, built with the measurement harness and run on QEMU. The target's logits must equal an
// independent host-reference run window by window; damaged weights in the flashed image must be
// reported with the first differing window and layer.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands/run.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { WindowSet } from '../../src/data/dataset.js';
import { deployableGraph } from '../../src/graph/fold.js';
import { totalMacs } from '../../src/graph/ir.js';
import {
  prepareReference,
  quantizeWindow,
  runPrepared,
  runReference,
  runReferenceBatch,
} from '../../src/reference/index.js';
import { parseTfRecords, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { loadSize } from '../../src/size/index.js';
import {
  buildModelFirmware,
  encodeWindowsFile,
  measureOnTarget,
  modelCrc,
  parseHarnessOutput,
  readBuildInfo,
  type TargetResult,
} from '../../src/measure/index.js';
import { readTfm } from '../../src/qmodel/index.js';
import type { TrainedModel } from '../../src/train/trainer.js';
import { TinyforgeError } from '../../src/util/errors.js';
import {
  compressTrained,
  flipInElf,
  flipInModel,
  runCli,
  symbolInFile,
  SYNTH,
  tempDir,
  trainSmall,
} from './helpers.js';
import { isWeighted } from '../helpers/layers.js';

let trained: TrainedModel;
let raw: WindowSet;
const models: Record<'p8' | 'h4' | 'r4', CompressedModel> = {} as never;
let dir: string;

/** The host reference, computed here independently of measureOnTarget. */
function reference(model: CompressedModel, set: WindowSet, n = set.n) {
  const size = set.steps * set.channels;
  const inputs = new Int8Array(n * size);
  for (let i = 0; i < n; i++)
    inputs.set(quantizeWindow(model, set.x.subarray(i * size, (i + 1) * size)), i * size);
  const r = runReferenceBatch(model, inputs, n);
  let correct = 0;
  for (let i = 0; i < n; i++) if (r.classIndex[i] === set.y[i]) correct++;
  return { ...r, inputs, accuracy: correct / n };
}

function ident(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

beforeAll(async () => {
  dir = tempDir();
  trained = await trainSmall();
  raw = trained.prepared.dataset.test;
  models.p8 = await compressTrained(trained, { bits: 8, coding: 'packed' });
  models.h4 = await compressTrained(trained, { bits: 4, coding: 'huffman' });
  models.r4 = await compressTrained(trained, { bits: 4, coding: 'rle-huffman', prune: 0.8 });
});

describe('a small synthetic-data model on the emulated Cortex-M4', () => {
  let r8: TargetResult;
  let p8dir: string;

  it("8-bit packed: every window's logits equal the host reference, and so does the accuracy", async () => {
    p8dir = join(dir, 'p8');
    const fw = await buildModelFirmware({ model: models.p8, outDir: p8dir });
    r8 = await measureOnTarget({ buildDir: p8dir, model: models.p8, windows: raw.x, labels: raw.y });
    const ref = reference(models.p8, raw);

    expect(r8.windows).toBe(raw.n);
    expect(Buffer.compare(Buffer.from(r8.targetLogits.buffer), Buffer.from(ref.logits.buffer))).toBe(0);
    expect(r8.agreement).toMatchObject({ equal: true, matching: raw.n, mismatching: 0, firstMismatch: null });
    expect(r8.accuracy).toBe(ref.accuracy);
    expect(r8.hostAccuracy).toBe(ref.accuracy);
    expect(Array.from(r8.predictions)).toEqual(Array.from(ref.classIndex));
    // The model learned something, so the comparison is not between constant outputs.
    expect(new Set(r8.predictions).size).toBeGreaterThan(2);

    // Per class and confusion add up to the windows and the labels.
    const labelCounts = trained.prepared.dataset.classNames.map(
      (_, c) => raw.y.filter((y) => y === c).length,
    );
    expect(r8.perClass.map((c) => c.windows)).toEqual(labelCounts);
    expect(r8.perClass.reduce((s, c) => s + c.correct, 0)).toBe(Math.round(r8.accuracy * raw.n));
    expect(r8.confusion.flat().reduce((s, v) => s + v, 0)).toBe(raw.n);

    // MACs from the float graph (src/graph/ir.ts), independently of the compressed layers.
    expect(r8.macs).toBe(totalMacs(deployableGraph(trained.model).graph));
    const ins = r8.instructions;
    expect(ins.min).toBeGreaterThan(r8.macs); // at least one instruction per MAC
    expect(ins.min).toBeLessThanOrEqual(ins.mean);
    expect(ins.mean).toBeLessThanOrEqual(ins.max);
    expect(ins.perMac).toBeCloseTo(ins.mean / r8.macs, 10);
    // Layers are measured inside the inference: together most of it, never more.
    const layerSum = r8.layers.reduce((s, l) => s + (l.instructions?.mean ?? 0), 0);
    expect(layerSum).toBeLessThan(ins.mean);
    expect(layerSum).toBeGreaterThan(0.95 * ins.mean);
    for (const l of r8.layers) {
      expect(l.instructions, l.name).not.toBeNull();
      if (l.kind === 'conv1d' || l.kind === 'dense') expect(l.perMac, l.name).toBeGreaterThan(1);
    }

    // Stack: the inference uses some, the whole firmware more, both within the reserve.
    expect(r8.stack.inference).toBeGreaterThan(0);
    expect(r8.stack.peak).toBeGreaterThanOrEqual(r8.stack.inference);
    expect(r8.stack.peak).toBeLessThan(r8.stack.reserved);

    // Flash and RAM from the map: the BIN is the flash image; model flash is its three categories.
    expect(r8.flash.total).toBe(statSync(fw.bin).size);
    expect(r8.flash.model).toBe(r8.flash.weights + r8.flash.tables + r8.flash.kernels);
    expect(r8.flash.weights).toBe(fw.codegen.weightBytes);
    expect(r8.ram.arena).toBe(fw.codegen.arenaBytes);
    expect(r8.ram.staticWithStack).toBe(r8.ram.static + r8.stack.peak);

    // run.json beside the map feeds the size report.
    const runJson = JSON.parse(readFileSync(join(p8dir, 'run.json'), 'utf8'));
    expect(runJson.peakStackBytes).toBe(r8.stack.peak);
    const size = await loadSize(fw.elf);
    expect(size.report.ram.peakStack).toBe(r8.stack.peak);
    // The build folder keeps the model it was built from, and the flags.
    expect(modelCrc(await readTfm(join(p8dir, 'model.tfm')))).toBe(modelCrc(models.p8));
    const info = readBuildInfo(p8dir);
    expect(info.optLevel).toBe('-O2');
    expect(info.commands.compileModel).toContain('-O2');
    expect(JSON.parse(readFileSync(join(p8dir, 'size.json'), 'utf8')).schema).toBe('tinyforge.size/1');
  });

  it('4-bit Huffman and 80%-pruned 4-bit zero-run Huffman agree bit for bit too', async () => {
    for (const key of ['h4', 'r4'] as const) {
      const out = join(dir, key);
      await buildModelFirmware({ model: models[key], outDir: out, optLevel: '-Os' });
      const r = await measureOnTarget({
        buildDir: out,
        model: models[key],
        windows: raw.x,
        labels: raw.y,
        n: 60,
      });
      const ref = reference(models[key], raw, 60);
      expect(Buffer.compare(Buffer.from(r.targetLogits.buffer), Buffer.from(ref.logits.buffer)), key).toBe(0);
      expect(r.agreement.equal, key).toBe(true);
      expect(r.accuracy, key).toBe(ref.accuracy);
      expect(r.flash.weights, key).toBeLessThan(r8.flash.weights);
    }
  });

  it('the trace of one window equals the host reference layer by layer', async () => {
    const w = 7;
    const ref = reference(models.p8, raw, 10);
    const size = raw.steps * raw.channels;
    writeFileSync(join(p8dir, 'trace-test.bin'), encodeWindowsFile(ref.inputs, 10, raw.steps, raw.channels));
    const run = await runOnQemu({
      board: 'netduinoplus2',
      elf: join(p8dir, 'firmware.elf'),
      args: ['trace-test.bin', `trace=${w}`],
    });
    expect(run.exitCode).toBe(0);
    const out = parseHarnessOutput(run.stdout);
    const host = runReference(models.p8, ref.inputs.subarray(w * size, (w + 1) * size), {
      keepLayerOutputs: true,
    });
    expect(out.index).toEqual(Int32Array.of(w));
    expect(out.trace.size).toBe(models.p8.layers.length);
    host.layerOutputs!.forEach((h, i) =>
      expect(Array.from(out.trace.get(i)!), `layer ${i}`).toEqual(Array.from(h)),
    );
  });

  it('a silent weight change in the flashed image: the first differing window and layer are named, run exits 8', async () => {
    const out = join(dir, 'p8-flipped');
    const fw = await buildModelFirmware({ model: models.p8, outDir: out });
    const layer = 2; // the second Conv1D
    const name = models.p8.layers[layer].name;
    await flipInElf(fw.elf, `tf_w_${ident(name)}`, 5, 0x80);

    // What the damaged firmware must compute: the same flip in the model, run on the host.
    const damaged = flipInModel(models.p8, layer, 5, 0x80);
    const good = reference(models.p8, raw);
    const bad = reference(damaged, raw);
    const K = models.p8.classNames.length;
    const differs = (i: number) =>
      good.logits.subarray(i * K, (i + 1) * K).some((v, k) => v !== bad.logits[i * K + k]);
    const expected = Array.from({ length: raw.n }, (_, i) => i).filter(differs);
    expect(expected.length).toBeGreaterThan(0);

    const r = await measureOnTarget({ buildDir: out, model: models.p8, windows: raw.x, labels: raw.y });
    expect(r.agreement.equal).toBe(false);
    expect(r.agreement.mismatching).toBe(expected.length);
    expect(r.agreement.firstMismatch?.window).toBe(expected[0]);
    expect(Array.from(r.targetLogits)).toEqual(Array.from(bad.logits));
    expect(r.agreement.firstMismatch?.layer).toMatchObject({ index: layer, name, kind: 'conv1d' });

    const cli = await runCli(runCommand, ['run', out, '--data', SYNTH]);
    expect(cli.code).toBe(8);
    expect(cli.out).toContain('MISMATCH');
    expect(cli.err).toContain(`the first is window ${expected[0]}`);
    expect(cli.err).toContain(`layer ${layer} '${name}'`);
  });

  it('--layers compares every layer of every window: a window whose layers differ counts, even with equal logits', async () => {
    const goodDir = join(dir, 'p8-layers');
    await buildModelFirmware({ model: models.p8, outDir: goodDir, layers: true });
    // Without --layers the harness has no per-layer CRCs: run --layers says to rebuild.
    const refused = await measureOnTarget({
      buildDir: p8dir,
      model: models.p8,
      windows: raw.x,
      labels: raw.y,
      layers: true,
    }).catch((e: unknown) => e);
    expect((refused as TinyforgeError).message).toContain('built with --layers');
    const out = join(dir, 'p8-flipped-layers');
    const fw = await buildModelFirmware({ model: models.p8, outDir: out, layers: true });
    const layer = 2;
    await flipInElf(fw.elf, `tf_w_${ident(models.p8.layers[layer].name)}`, 5, 0x80);
    const damaged = flipInModel(models.p8, layer, 5, 0x80);
    const inputs = reference(models.p8, raw).inputs;
    const size = raw.steps * raw.channels;
    const pGood = prepareReference(models.p8);
    const pBad = prepareReference(damaged);
    const layersDiffer = Array.from({ length: raw.n }, (_, i) => {
      const x = inputs.subarray(i * size, (i + 1) * size);
      const a = runPrepared(pGood, x, { keepLayerOutputs: true }).layerOutputs!;
      const b = runPrepared(pBad, x, { keepLayerOutputs: true }).layerOutputs!;
      return a.some((o, l) => o.some((v, k) => v !== b[l][k]));
    });
    const r = await measureOnTarget({
      buildDir: out,
      model: models.p8,
      windows: raw.x,
      labels: raw.y,
      layers: true,
    });
    expect(r.agreement.layers).toBe(true);
    expect(r.agreement.mismatching).toBe(layersDiffer.filter(Boolean).length);
    expect(r.agreement.firstMismatch?.window).toBe(layersDiffer.indexOf(true));
    // The flip reaches more windows' layers than their logits.
    const plain = await measureOnTarget({ buildDir: out, model: models.p8, windows: raw.x, labels: raw.y });
    expect(r.agreement.mismatching).toBeGreaterThan(plain.agreement.mismatching);
    // An intact firmware agrees at every layer.
    const good = await measureOnTarget({
      buildDir: goodDir,
      model: models.p8,
      windows: raw.x,
      labels: raw.y,
      layers: true,
    });
    expect(good.agreement).toMatchObject({ equal: true, layers: true, mismatching: 0 });
  });

  it('a damaged Huffman stream: the firmware stops with its corrupt exit code; run names window and layer, exits 8', async () => {
    const m = models.h4;
    const layer = m.layers.findIndex((l) => isWeighted(l) && l.weights.coding === 'huffman');
    expect(layer).toBeGreaterThanOrEqual(0);
    // The first bit flip the host decoder itself rejects (most are: the stream length is checked).
    let flip: { byte: number; mask: number } | undefined;
    for (let byte = 0; byte < 64 && !flip; byte++) {
      for (const mask of [0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01]) {
        if (prepareReference(flipInModel(m, layer, byte, mask), { skipCheck: true }).corrupt) {
          flip = { byte, mask };
          break;
        }
      }
    }
    expect(flip).toBeDefined();
    const out = join(dir, 'h4-corrupt');
    const fw = await buildModelFirmware({ model: m, outDir: out });
    const name = m.layers[layer].name;
    await flipInElf(fw.elf, `tf_w_${ident(name)}`, flip!.byte, flip!.mask);

    // The firmware itself: exit TF_EXIT_CORRUPT with the window and layer.
    const size = raw.steps * raw.channels;
    const inputs = reference(m, raw, 4).inputs;
    writeFileSync(
      join(out, 'w.bin'),
      encodeWindowsFile(inputs.subarray(0, 4 * size), 4, raw.steps, raw.channels),
    );
    const run = await runOnQemu({ board: 'netduinoplus2', elf: fw.elf, args: ['w.bin'] });
    expect(run.exitCode).toBe(TARGET_EXIT.CORRUPT);
    const error = parseTfRecords(run.stdout).find((r) => r.key === 'error');
    expect(error?.fields.join(' ')).toBe(`${TARGET_EXIT.CORRUPT} corrupt-weights window=0 layer=${layer}`);

    const err = await measureOnTarget({ buildDir: out, model: m, windows: raw.x, labels: raw.y, n: 8 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).category).toBe('mismatch');
    expect((err as TinyforgeError).message).toContain(`layer ${layer} '${name}'`);
    expect((err as TinyforgeError).message).toContain('at window 0');
    const cli = await runCli(runCommand, ['run', out, '--data', SYNTH, '--limit', '8']);
    expect(cli.code).toBe(8);
  });

  it('a firmware is tied to its model: measuring it against another model is refused', async () => {
    const err = await measureOnTarget({
      buildDir: p8dir,
      model: models.h4,
      windows: raw.x,
      labels: raw.y,
      n: 4,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TinyforgeError);
    expect((err as TinyforgeError).category).toBe('input');
    expect((err as TinyforgeError).message).toMatch(/built from another model/);
  });

  it('embed mode: windows and labels in flash, the firmware prints the accuracy itself', async () => {
    const n = 40;
    const out = join(dir, 'embed');
    const fw = await buildModelFirmware({
      model: models.p8,
      outDir: out,
      embed: { windows: raw.x.subarray(0, n * raw.steps * raw.channels), labels: raw.y.subarray(0, n) },
    });
    const ref = reference(models.p8, raw, n);
    // No host file and no arguments: what a board without a debugger runs.
    const run = await runOnQemu({ board: 'netduinoplus2', elf: fw.elf });
    expect(run.exitCode).toBe(0);
    const acc = parseTfRecords(run.stdout).find((r) => r.key === 'accuracy');
    expect(acc?.fields).toEqual([String(Math.round(ref.accuracy * n)), String(n)]);
    // The embedded windows sit in flash beside the model, outside the model's categories.
    const windowsInFlash = await symbolInFile(fw.elf, 'tf_embed_windows');
    expect(windowsInFlash.size).toBe(n * raw.steps * raw.channels);
    expect(fw.size.flash.categories.runtime).toBeGreaterThan(windowsInFlash.size);
    expect(fw.size.flash.categories.weights).toBe(r8.flash.weights);

    const r = await measureOnTarget({ buildDir: out, model: models.p8 });
    expect(r.mode).toBe('embed');
    expect(r.agreement.equal).toBe(true);
    expect(r.accuracy).toBe(ref.accuracy);
  });

  it('without the per-layer hooks: the same logits, slightly fewer instructions, no layer counts', async () => {
    const out = join(dir, 'noprof');
    await buildModelFirmware({ model: models.p8, outDir: out, profile: false });
    const n = 20;
    const r = await measureOnTarget({ buildDir: out, model: models.p8, windows: raw.x, labels: raw.y, n });
    expect(Array.from(r.targetLogits)).toEqual(Array.from(r8.targetLogits.subarray(0, n * 6)));
    expect(r.layers.every((l) => l.instructions === null)).toBe(true);
    const withHooks = Array.from(r8.windowInstructions.subarray(0, n));
    const overhead = withHooks.map((v, i) => v - r.windowInstructions[i]);
    // Two counter reads, a store and a trace-flag test per layer: a few dozen instructions at most.
    for (const d of overhead) {
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(30 * models.p8.layers.length);
    }
  });

  it('the harness checks its input: exit codes for a missing, malformed or mismatched file and bad options', async () => {
    const elf = join(p8dir, 'firmware.elf');
    const [T, C] = models.p8.inputShape;
    const good = encodeWindowsFile(new Int8Array(2 * T * C), 2, T, C);
    const wrongShape = encodeWindowsFile(new Int8Array(2 * T * C), 2, T / 2, C * 2);
    const badMagic = Uint8Array.from(good);
    badMagic[0] = 0x58;
    const cases: [string, Uint8Array | null, string[], number][] = [
      ['missing', null, ['missing.bin'], TARGET_EXIT.INPUT_OPEN],
      ['magic', badMagic, ['f.bin'], TARGET_EXIT.INPUT_FORMAT],
      ['shape', wrongShape, ['f.bin'], TARGET_EXIT.INPUT_FORMAT],
      ['truncated', good.subarray(0, good.length - 1), ['f.bin'], TARGET_EXIT.INPUT_FORMAT],
      ['no file', null, [], TARGET_EXIT.USAGE],
      ['bad option', good, ['f.bin', 'fast=1'], TARGET_EXIT.USAGE],
      ['trace out of range', good, ['f.bin', 'trace=2'], TARGET_EXIT.USAGE],
      ['good', good, ['f.bin'], TARGET_EXIT.OK],
    ];
    for (const [what, data, args, code] of cases) {
      if (data) writeFileSync(join(p8dir, 'f.bin'), data);
      const run = await runOnQemu({ board: 'netduinoplus2', elf, args });
      expect(run.exitCode, what).toBe(code);
    }
    expect(existsSync(join(p8dir, 'missing.bin'))).toBe(false);
  });
});
