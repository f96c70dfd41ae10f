// The runner composes stages: which stages run for a point, and how a failing stage is recorded.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { normalizePoint, parseSweepConfig, pointLabel, type SweepPoint } from '../../src/sweep/config.js';
import type { HostFigures, PointTask, StageName } from '../../src/sweep/result.js';
import { createRunner } from '../../src/sweep/runner.js';
import type { TargetStage } from '../../src/sweep/target.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const HOST: HostFigures = {
  accuracy: 0.9,
  evalWindows: 12,
  floatAccuracy: 0.92,
  codedWeightBytes: 100,
  tableBytes: 0,
  biasBytes: 16,
  paramBytes: 116,
  weights: 200,
  sparsity: 0,
};
// Only what the runner reads itself: the normalization of the data's 9 channels.
const MODEL = {
  normalization: { mean: Array(9).fill(0), std: Array(9).fill(1) },
} as unknown as CompressedModel;

function task(point: SweepPoint): PointTask {
  return {
    hash: 'h1',
    label: pointLabel(point),
    point,
    modelHash: 'm1',
    modelDir: '/nonexistent',
    widthFilters: [8, 8, 8],
    dir: tempDir(),
    data: 'synthetic:seed=2,train=30,test=12,subjects=4',
    compression: parseSweepConfig({ points: [{ width: 8 }] }).compression,
    seed: 1,
  };
}

function recorder() {
  const stages: StageName[] = [];
  const lines: string[] = [];
  return {
    stages,
    lines,
    ctx: { log: (l: string) => lines.push(l), stage: (s: StageName) => stages.push(s) },
  };
}

const fakeCompress = async (t: PointTask) => {
  const tfmPath = join(t.dir, 'model.tfm');
  writeFileSync(tfmPath, 'x');
  return { tfmPath, model: MODEL, host: HOST };
};

/** A target stage that measures nothing; `seen` collects the host predictions it was given. */
function fakeTarget(seen: Int32Array[] = []): TargetStage {
  return {
    id: 't1',
    measureOnTarget: async (_p, ctx) => {
      seen.push(ctx.hostPredictions);
      return {
        target: 'x',
        accuracy: 0.5,
        windows: ctx.eval.n,
        agreement: 1,
        modelFlash: 1000,
        totalFlash: 9000,
        ram: 500,
        instructionsPerInference: 12345,
      };
    },
  };
}

describe('createRunner', () => {
  it('a float point runs the float stage only', async () => {
    const r = recorder();
    const runner = createRunner({ float: async () => HOST, target: undefined });
    const res = await runner.runPoint(task(normalizePoint({ width: 8, bits: 'float' })), r.ctx);
    expect(res.status).toBe('ok');
    expect(r.stages).toEqual(['float']);
    expect(res.host).toEqual(HOST);
  });

  it('without a target stage: compress only; with one: host reference, then the target', async () => {
    const plain = recorder();
    const res = await createRunner({ compress: fakeCompress, target: undefined }).runPoint(
      task(normalizePoint({ width: 8, bits: 4 })),
      plain.ctx,
    );
    expect(plain.stages).toEqual(['compress']);
    expect(res).toMatchObject({ status: 'ok', tfm: 'model.tfm', target: undefined });

    const measured = recorder();
    const res2 = await createRunner({
      compress: fakeCompress,
      hostReference: (_m, set) => ({
        accuracy: 0.5,
        predictions: new Int32Array(set.n),
        inputs: new Int8Array(set.n),
      }),
      target: fakeTarget(),
    }).runPoint(task(normalizePoint({ width: 8, bits: 4 })), measured.ctx);
    expect(measured.stages).toEqual(['compress', 'host-reference', 'target']);
    expect(res2.target).toMatchObject({ stageId: 't1', modelFlash: 1000, windows: 12 });
    expect(Object.keys(res2.seconds).sort()).toEqual(['compress', 'host-reference', 'target']);
  });

  it('the target gets the host reference compression computed, without evaluating it again', async () => {
    const fromCompress = {
      accuracy: 0.75,
      predictions: Int32Array.of(3, 1, 4),
      inputs: Int8Array.of(1, 5, 9),
    };
    let evaluations = 0;
    const seen: Int32Array[] = [];
    const runner = createRunner({
      compress: async (t) => ({ ...(await fakeCompress(t)), reference: fromCompress }),
      hostReference: (_m, set) => {
        evaluations++;
        return { accuracy: 0.5, predictions: new Int32Array(set.n), inputs: new Int8Array(set.n) };
      },
      target: fakeTarget(seen),
    });
    const t = task(normalizePoint({ width: 8, bits: 4 }));
    const first = await runner.runPoint(t, recorder().ctx);
    expect(evaluations).toBe(0);
    expect(seen[0]).toBe(fromCompress.predictions);
    expect(first.target).toMatchObject({ stageId: 't1' });
    // Without a reference from compression (e.g. a resumed point), the stage evaluates it: the test
    // above.
  });

  it('a failing stage gives a failed result naming the stage, keeping what was done before', async () => {
    const r = recorder();
    const res = await createRunner({
      compress: fakeCompress,
      hostReference: (_m, set) => ({
        accuracy: 0.5,
        predictions: new Int32Array(set.n),
        inputs: new Int8Array(set.n),
      }),
      target: {
        id: 't1',
        measureOnTarget: async () => {
          throw new TinyforgeError('firmware does not fit in flash', 'build', 'use fewer bits');
        },
      },
    }).runPoint(task(normalizePoint({ width: 8, bits: 4 })), r.ctx);
    expect(res.status).toBe('failed');
    expect(res.error).toEqual({
      stage: 'target',
      message: 'firmware does not fit in flash',
      category: 'build',
      hint: 'use fewer bits',
    });
    // The compressed model stays usable: a retry only needs the target stage.
    expect(res.host).toEqual(HOST);
    expect(res.tfm).toBe('model.tfm');
    expect(r.lines.join('\n')).toMatch(/target failed: .*does not fit/);
  });

  it('an unexpected error is recorded as internal, with its message', async () => {
    const res = await createRunner({
      compress: async () => {
        throw new RangeError('index out of range');
      },
      target: undefined,
    }).runPoint(task(normalizePoint({ width: 8, bits: 4 })), recorder().ctx);
    expect(res.error).toEqual({ stage: 'compress', message: 'index out of range', category: 'internal' });
  });
});
