// Assembles the template view of a compressed model: validates it (the one validator), plans the
// arena on the graph's liveness, and asks each layer's operator module for its part of the view
// (src/ops/<kind>.ts, codegen). Templates: templates/model.c.hbs and the kernel partials.
import { channelsOf, inferShapes, sizeOf, spatialOf } from '../graph/ir.js';
import { checkModel, irGraph } from '../qmodel/check.js';
import { schemeOf, type CompressedModel } from '../qmodel/model.js';
import { codegenOps } from '../ops/registry.js';
import { cHexFloat, cInt, uniqueIdent } from './cformat.js';
import { DEFAULT_PREFIX, prefixedFileName } from './prefix.js';
import { ARENA_ALIGN, type MemoryPlan, type PlanStep } from './planner.js';
import type { Prepared } from '../ops/types.js';
import { chooseKernels, type RamChoice } from './ramChoice.js';
import {
  FILE_NAMES,
  type LayerView,
  type LayerViewBase,
  type ModelView,
  type QuantizeView,
  type TensorRef,
  type UsedFunction,
  type ViewOptions,
} from './viewTypes.js';

const USED: readonly UsedFunction[] = [
  'mac',
  'bits',
  'packed',
  'expand8',
  'packedRows',
  'huffToken',
  'huffRows',
  'huffRowsChecked',
  'huffRowsFast',
  'rle',
  'rleRows',
  'rleList',
  'rleListChecked',
  'rleListFast',
  'macDense',
  'macSparse',
  'huffLut',
  'smallToken',
];

function tensorRef(plan: MemoryPlan, t: number): TensorRef {
  const p = plan.tensors[t];
  return {
    arena: p.location === 'arena',
    offset: p.offset,
    input: p.location === 'input',
    logits: p.location === 'logits',
  };
}

/** Largest float32 and the double from which float32 rounding gives infinity (FLT_MAX + half an ulp). */
const FLT_MAX = (2 - 2 ** -23) * 2 ** 127;
const FLT_INF_FROM = (2 - 2 ** -24) * 2 ** 127;

function quantizeView(model: CompressedModel): QuantizeView {
  const affine = model.affine?.input;
  return {
    mean: model.normalization.mean.map((v) => cHexFloat(v)),
    std: model.normalization.std.map((v) => cHexFloat(v)),
    pow2: cHexFloat(2 ** model.inputFrac),
    affine: affine
      ? {
          // quantizeInt8 divides by Math.fround(scale).
          scale: cHexFloat(Math.fround(affine.scale), true),
          zeroPoint: cInt(affine.zeroPoint),
          infFrom: cHexFloat(FLT_INF_FROM),
          fltMax: cHexFloat(FLT_MAX),
        }
      : null,
  };
}

export function buildView(
  model: CompressedModel,
  opts: ViewOptions = {},
): { view: ModelView; plan: MemoryPlan; ram: RamChoice } {
  checkModel(model);
  const infos = inferShapes(irGraph(model));
  const [T0, C0] = model.inputShape;
  // Shared code has these section names; a layer called so gets a suffix.
  const taken = new Set<string>([
    'tf_run',
    'tf_run_static',
    'tf_quantize',
    'tf_packed',
    'tf_huffman',
    'tf_rle',
  ]);
  const idents = model.layers.map((l) => uniqueIdent(l.name, taken));
  const scheme = schemeOf(model);
  const ram = opts.ram ?? { mode: 'fast' };
  const prepareAll = (small: boolean): (Prepared | undefined)[] =>
    model.layers.map((l) => codegenOps(l.kind, scheme).prepare?.(l, { small }));
  const fast = prepareAll(false);
  const stepsOf = (prepared: (Prepared | undefined)[]): PlanStep[] =>
    model.layers.map((l, i) => {
      const ops = codegenOps(l.kind, scheme);
      return {
        name: l.name,
        inputs: infos[i].inputs.map((p) => p + 1),
        outBytes: sizeOf(l.outShape),
        alias: ops.aliasOf?.(l) ?? ops.alias,
        scratchBytes: prepared[i]?.scratchBytes ?? 0,
      };
    });
  const choice = chooseKernels(T0 * C0, stepsOf, fast, ram.mode === 'fast' ? fast : prepareAll(true), ram);
  const { plan, prepared } = choice;

  const layers: LayerView[] = model.layers.map((l, i) => {
    // Positions (steps, or rows x columns) and channels: what every rank has in common.
    const [inT, inC] = [sizeOf(spatialOf(l.inShape)), channelsOf(l.inShape)];
    const [outT, outC] = [sizeOf(spatialOf(l.outShape)), channelsOf(l.outShape)];
    const step = plan.steps[i];
    const base: LayerViewBase = {
      index: i,
      name: l.name,
      ident: idents[i],
      kind: l.kind,
      kernel: `kernels/${l.kind}`,
      inT,
      inC,
      outT,
      outC,
      inSize: inT * inC,
      outSize: outT * outC,
      input: tensorRef(plan, infos[i].inputs[0] + 1),
      inputs: infos[i].inputs.map((p) => tensorRef(plan, p + 1)),
      output: tensorRef(plan, i + 1),
      inPlace: step.aliased,
      scratchAt: step.scratchOffset,
      scratchBytes: step.scratchBytes,
      weightBytes: 0,
      tableBytes: 0,
      lookupTableBytes: 0,
      weights: null,
      requant: null,
      kernelChoice: null,
      uses: [],
      hasStatus: false,
      hasCode: true,
    };
    return codegenOps(l.kind, scheme).view(l, base, { prepared: prepared[i]?.data });
  });

  const used = new Set(layers.flatMap((l) => l.uses));
  const view: ModelView = {
    version: opts.version ?? '0',
    sourceName: opts.sourceName ?? 'a compressed model',
    fixedpointHeader: FILE_NAMES.fixedpoint,
    tflite: model.affine
      ? {
          inputScale: model.affine.input.scale,
          inputZeroPoint: model.affine.input.zeroPoint,
          outputScale: model.affine.output.scale,
          outputZeroPoint: model.affine.output.zeroPoint,
          header: FILE_NAMES.fixedpointTflite,
        }
      : null,
    header: prefixedFileName(FILE_NAMES.header, opts.prefix ?? DEFAULT_PREFIX),
    inputT: T0,
    inputC: C0,
    inputSize: T0 * C0,
    inputFrac: model.inputFrac,
    numClasses: model.classNames.length,
    classNames: model.classNames,
    mean: model.normalization.mean,
    std: model.normalization.std,
    arenaBytes: plan.arenaBytes,
    arenaDeclBytes: Math.max(plan.arenaBytes, 4),
    arenaAlign: ARENA_ALIGN,
    scratchBytes: plan.scratchBytes,
    weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
    tableBytes: layers.reduce((s, l) => s + l.tableBytes, 0),
    quantize: quantizeView(model),
    copyOutput: plan.copyOutput,
    layers,
    anyCoded: layers.some((l) => l.hasStatus),
    uses: Object.fromEntries(USED.map((u) => [u, used.has(u)])) as Record<UsedFunction, boolean>,
  };
  return { view, plan, ram: choice };
}

export { FILE_NAMES };
