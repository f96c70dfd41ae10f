// What every test of generated C against the host reference, layer by layer, does: the reference's
// CRC-32 of each layer output per window, the comparison with a run's per-layer CRCs (klayers.h), and
// the four builds (host gcc, host clang, QEMU Cortex-M4 with the DSP kernels, and with -DTF_PORTABLE).
import { expect, it } from 'vitest';
import type { CompressedModel } from '../../src/qmodel/model.js';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { crc32 } from '../../src/qmodel/crc32.js';
import { clangPresent } from '../codegen/cbuild.js';
import { tempDir } from '../helpers/temp.js';
import { runKernelsOnHost } from './host.js';
import { buildKernelFirmware, runKernelFirmware, type KernelRun } from './target.js';

export interface LayerCase {
  name: string;
  model: CompressedModel;
  inputs: Int8Array[];
}

/** The host reference's CRC-32 of every layer output, per window. */
export function referenceCrcs(c: LayerCase): number[][] {
  const p = prepareReference(c.model);
  return c.inputs.map((x) =>
    runPrepared(p, x, { keepLayerOutputs: true }).layerOutputs!.map((o) =>
      crc32(new Uint8Array(o.buffer, o.byteOffset, o.byteLength)),
    ),
  );
}

/** Layers (by case, window and layer) whose CRC in `run` differs from the reference's. */
export function differingLayers(cases: LayerCase[], want: number[][][], run: KernelRun): string[] {
  const bad: string[] = [];
  cases.forEach((c, m) =>
    want[m].forEach((layers, w) =>
      layers.forEach((crc, l) => {
        if (run.layerCrcs[m]?.[w]?.[l] !== crc)
          bad.push(
            `${c.name} window ${w} layer ${l} '${c.model.layers[l].name}' (${c.model.layers[l].kind})`,
          );
      }),
    ),
  );
  return bad;
}

/**
 * Declares the four builds' tests in the enclosing describe; `cases` and `want` are read when they
 * run (after a beforeAll may have made them).
 */
export function everyBuild(tag: string, cases: () => LayerCase[], want: () => number[][][]): void {
  const models = () => cases().map((c) => c.model);
  const inputs = () => cases().map((c) => c.inputs);
  it('host gcc -O2 (portable C)', async () => {
    const run = await runKernelsOnHost(tempDir(`tf-${tag}-gcc-`), models(), inputs());
    expect(differingLayers(cases(), want(), run).slice(0, 10)).toEqual([]);
  }, 300_000);

  it('host clang -O2 (portable C)', async () => {
    expect(await clangPresent()).toBe(true);
    const run = await runKernelsOnHost(tempDir(`tf-${tag}-clang-`), models(), inputs(), { cc: 'clang' });
    expect(differingLayers(cases(), want(), run).slice(0, 10)).toEqual([]);
  }, 300_000);

  for (const [label, cflags] of [
    ['Cortex-M4 DSP kernels', []],
    ['Cortex-M4 portable C (-DTF_PORTABLE)', ['-DTF_PORTABLE']],
  ] as const) {
    it(`QEMU netduinoplus2, ${label}`, async () => {
      const fw = await buildKernelFirmware(tempDir(`tf-${tag}-qemu-`), models(), {
        layerCrcs: true,
        cflags: [...cflags],
        name: tag,
      });
      const run = await runKernelFirmware(fw, inputs());
      expect(run.dsp.every((d) => d === (cflags.length ? 0 : 1))).toBe(true);
      expect(differingLayers(cases(), want(), run).slice(0, 10)).toEqual([]);
    }, 600_000);
  }
}
