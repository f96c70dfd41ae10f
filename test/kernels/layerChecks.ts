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
 * Declares the builds' tests in the enclosing describe; `cases` and `want` are read when they run
 * (after a beforeAll may have made them). Every case goes through host gcc and the Cortex-M4 DSP
 * kernels on QEMU; the second compiler (clang) and the portable C on the Cortex-M4 (-DTF_PORTABLE)
 * take the cases `portable` selects (all by default): the same portable C as gcc's, so a subset
 * that reaches every kernel keeps CI short.
 */
export function everyBuild(
  tag: string,
  cases: () => LayerCase[],
  want: () => number[][][],
  portable: (c: LayerCase) => boolean = () => true,
): void {
  const pick = (all: boolean) => {
    const at = cases().flatMap((c, i) => (all || portable(c) ? [i] : []));
    return {
      cases: at.map((i) => cases()[i]),
      want: at.map((i) => want()[i]),
    };
  };
  const check = (all: boolean, run: (s: LayerCase[]) => Promise<KernelRun>) => async () => {
    const s = pick(all);
    const r = await run(s.cases);
    expect(differingLayers(s.cases, s.want, r).slice(0, 10)).toEqual([]);
    return r;
  };
  const onHost = (cc: string) => (s: LayerCase[]) =>
    runKernelsOnHost(
      tempDir(`tf-${tag}-${cc}-`),
      s.map((c) => c.model),
      s.map((c) => c.inputs),
      { cc },
    );
  const onQemu = (cflags: string[]) => async (s: LayerCase[]) => {
    const fw = await buildKernelFirmware(
      tempDir(`tf-${tag}-qemu-`),
      s.map((c) => c.model),
      {
        layerCrcs: true,
        cflags,
        name: tag,
      },
    );
    const r = await runKernelFirmware(
      fw,
      s.map((c) => c.inputs),
    );
    expect(r.dsp.every((d) => d === (cflags.length ? 0 : 1))).toBe(true);
    return r;
  };
  it('host gcc -O2 (portable C)', check(true, onHost('gcc')), 300_000);
  it('host clang -O2 (portable C)', async () => {
    expect(await clangPresent()).toBe(true);
    await check(false, onHost('clang'))();
  }, 300_000);
  it('QEMU netduinoplus2, Cortex-M4 DSP kernels', check(true, onQemu([])), 600_000);
  it(
    'QEMU netduinoplus2, Cortex-M4 portable C (-DTF_PORTABLE)',
    check(false, onQemu(['-DTF_PORTABLE'])),
    600_000,
  );
}
