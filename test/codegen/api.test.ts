// The generated header's constants and the per-layer hooks, seen from a C caller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generateC } from '../../src/codegen/index.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { randomModel } from '../helpers/randomModel.js';
import { HARNESS_DIR, STRICT, writeGenerated } from './cbuild.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-codegen-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A random model with names that need escaping in C strings, comments and identifiers. */
function awkwardModel(): CompressedModel {
  const m = randomModel(21);
  const k = m.classNames.length;
  const special = ['say "hi"', 'back\\slash', 'trigraph??=', 'Gehen ä', '*/ not a comment end'];
  m.classNames = Array.from(
    { length: k },
    (_, i) => special[i % special.length] + (i >= special.length ? i : ''),
  );
  // Rename the first layer, and every reference to it (this seed's model has a branch).
  const first = m.layers[0].name;
  const weird = `${first}/weird "name"*/`;
  m.layers = m.layers.map((l, i) => ({
    ...l,
    name: i === 0 ? weird : l.name,
    ...(l.inputs ? { inputs: l.inputs.map((n) => (n === first ? weird : n)) } : {}),
  }));
  return m;
}

async function runApi(model: CompressedModel, name: string): Promise<Map<string, string[]>> {
  const g = generateC(model);
  const d = join(dir, name);
  writeGenerated(d, g);
  await execa(
    'gcc',
    [
      ...STRICT,
      '-O1',
      `-DTF_HOOKS_HEADER="hooks.h"`,
      '-I',
      HARNESS_DIR,
      '-I',
      d,
      'model.c',
      join(HARNESS_DIR, 'api_main.c'),
      '-o',
      'api',
    ],
    { cwd: d },
  );
  const { stdout } = await execa(join(d, 'api'));
  const out = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    out.set(key, [...(out.get(key) ?? []), line.slice(sp + 1)]);
  }
  return out;
}

describe('model.h and hooks', () => {
  it('exposes shapes, formats, class names, normalization and the memory plan', async () => {
    const model = awkwardModel();
    const { plan, report } = generateC(model);
    const out = await runApi(model, 'awkward');
    const num = (k: string): number => Number(out.get(k)?.[0]);
    expect(num('TF_INPUT_T')).toBe(model.inputShape[0]);
    expect(num('TF_INPUT_C')).toBe(model.inputShape[1]);
    expect(num('TF_INPUT_SIZE')).toBe(model.inputShape[0] * model.inputShape[1]);
    expect(num('TF_INPUT_FRAC')).toBe(model.inputFrac);
    expect(num('TF_NUM_CLASSES')).toBe(model.classNames.length);
    expect(num('TF_NUM_LAYERS')).toBe(model.layers.length);
    expect(num('TF_ARENA_BYTES')).toBe(plan.arenaBytes);
    expect(num('TF_SCRATCH_BYTES')).toBe(plan.scratchBytes);
    expect(num('TF_WEIGHT_BYTES')).toBe(report.weightBytes);
    expect(num('TF_TABLE_BYTES')).toBe(report.tableBytes);
    expect([num('TF_OK'), num('TF_ERR_CORRUPT'), num('TF_ERR_ARG')]).toEqual([0, 1, 2]);
    expect(out.get('class')).toEqual(model.classNames);
    const norm = out.get('norm')!.map((s) => s.split(' ').map(Number));
    norm.forEach(([mean, std], c) => {
      // %.9g round-trips a float exactly.
      expect(Math.fround(mean)).toBe(Math.fround(model.normalization.mean[c]));
      expect(Math.fround(std)).toBe(Math.fround(model.normalization.std[c]));
    });
    expect(out.get('run')).toEqual(['0']);
  });

  it('calls TF_LAYER_BEGIN / TF_LAYER_END once per layer, in order, with index and name', async () => {
    const model = awkwardModel();
    const out = await runApi(model, 'hooks');
    const expected = model.layers.flatMap((l, i) => [`B ${i} ${l.name}`, `E ${i} ${l.name}`]);
    expect(out.get('hook')).toEqual(expected);
  });

  it('plans less RAM than keeping every tensor', () => {
    const model = randomModel(5);
    const { plan } = generateC(model);
    const all = plan.tensors.slice(1, -1).reduce((s, t) => s + t.bytes, 0);
    expect(plan.arenaBytes).toBeLessThan(all + plan.scratchBytes);
  });
});
