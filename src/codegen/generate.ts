// generateC: a compressed model to C sources (model.c, model.h, tf_fixedpoint.h) plus its memory plan.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompressedModel } from '../qmodel/model.js';
import type { MemoryPlan } from './planner.js';
import { applyPrefix, checkPrefix, DEFAULT_PREFIX, prefixedFileName } from './prefix.js';
import { render } from './templates.js';
import { buildView } from './view.js';
import {
  FILE_NAMES,
  type KernelChoice,
  type ModelView,
  type RamOption,
  type ViewOptions,
} from './viewTypes.js';
import { ramOptionText, type RamChoice } from './ramChoice.js';

export type GenerateOptions = ViewOptions;

export interface GeneratedFile {
  name: string;
  content: string;
}

/** What the generated code costs, per layer and in total (bytes). */
export interface CodegenReport {
  arenaBytes: number;
  scratchBytes: number;
  /** Largest sum of live tensors at any layer (arena without scratch). */
  peakTensorBytes: number;
  /** The liveness optimum: no placement needs less arena (src/codegen/planner.ts). */
  livenessBytes: number;
  /**
   * The kernel family per layer (--ram): the option as written, the arena budget of 'auto', the
   * layers that run a small-RAM kernel, and those with scratch that asked for one but have none
   * (fast kept: Softmax's few words).
   */
  ram: { option: string; budget: number | null; small: string[]; fastKept: string[] };
  /** Sum of the .rodata.tf_weights.* sections. */
  weightBytes: number;
  /** Sum of the .rodata.tf_tables.* sections. */
  tableBytes: number;
  layers: {
    name: string;
    /** The <layer> of its section names (.text.tf_kernels.<layer> ...): the name made a C identifier. */
    section: string;
    kind: string;
    coding: string | null;
    outShape: number[];
    /** Size of .rodata.tf_weights.<layer>: bitstream (padded to 4) + int32 biases. */
    weightBytes: number;
    /** Size of .rodata.tf_tables.<layer>: Huffman decode tables + per-channel shifts (each padded to 4). */
    tableBytes: number;
    /** The parts, unpadded: bitstream and decode tables are the compressor's codedBytes. */
    bitstreamBytes: number;
    biasBytes: number;
    decodeTableBytes: number;
    shiftBytes: number;
    /** A lookup table computed at compile time (table activations), in .rodata.tf_tables.<layer>. */
    lookupTableBytes: number;
    /** False for layers that are views of their input (no function, no .text section). */
    hasCode: boolean;
    scratchBytes: number;
    /** Where the layer's output lives: 'arena+<offset>', 'logits', 'input' (a view of it). */
    output: string;
    /**
     * Weighted layers: the inner loop the compiler chose (dense SMLAD over four decoded filters, or a
     * sparse non-zero list over `windows` time steps at once) and the RAM Huffman decode table
     * (bits, and whether long codes take the slow path); null for other layers.
     */
    kernel: {
      inner: KernelChoice['inner'];
      windows: number;
      lutBits: number | null;
      slowPath: boolean;
    } | null;
  }[];
}

export interface GeneratedC {
  files: GeneratedFile[];
  plan: MemoryPlan;
  report: CodegenReport;
}

function ramReport(model: CompressedModel, ram: RamChoice, option: RamOption): CodegenReport['ram'] {
  const names = (keep: (i: number) => boolean): string[] =>
    model.layers.filter((_l, i) => keep(i)).map((l) => l.name);
  return {
    option: ramOptionText(option),
    budget: ram.budget,
    small: names((i) => ram.small[i]),
    // Layers with scratch that asked for small ('small', or 'auto' over budget) and had none.
    fastKept:
      option.mode === 'fast'
        ? []
        : names((i) => !ram.small[i] && (ram.prepared[i]?.scratchBytes ?? 0) > 0 && !ram.hasSmall[i]),
  };
}

function reportOf(
  model: CompressedModel,
  view: ModelView,
  plan: MemoryPlan,
  ram: CodegenReport['ram'],
): CodegenReport {
  return {
    arenaBytes: plan.arenaBytes,
    scratchBytes: plan.scratchBytes,
    peakTensorBytes: plan.peakTensorBytes,
    livenessBytes: plan.livenessBytes,
    ram,
    weightBytes: view.weightBytes,
    tableBytes: view.tableBytes,
    layers: view.layers.map((l) => {
      const t = plan.tensors[l.index + 1];
      return {
        name: l.name,
        section: l.ident,
        kind: l.kind,
        coding: l.weights?.coding ?? null,
        outShape: [...model.layers[l.index].outShape],
        weightBytes: l.weightBytes,
        tableBytes: l.tableBytes,
        bitstreamBytes: l.weights?.bytes ?? 0,
        biasBytes: l.requant?.biasBytes ?? 0,
        decodeTableBytes: l.weights?.table?.bytes ?? 0,
        shiftBytes: l.requant?.shiftArray ? l.outC : 0,
        lookupTableBytes: l.lookupTableBytes,
        hasCode: l.hasCode,
        scratchBytes: l.scratchBytes,
        output: t.location === 'arena' ? `arena+${t.offset}` : t.location,
        kernel: l.kernelChoice,
      };
    }),
  };
}

/**
 * Generates the C sources of a model. Throws TinyforgeError('input') naming the layer when the
 * model breaks an invariant the C relies on (shapes, shift range, accumulator bound, decodability).
 */
function packageVersion(): string {
  // src/codegen/generate.ts or dist/codegen/generate.js: two levels up is the package root.
  try {
    const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '0';
  } catch {
    return '0';
  }
}

export function generateC(model: CompressedModel, opts: GenerateOptions = {}): GeneratedC {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const { view, plan, ram } = buildView(model, { ...opts, version: opts.version ?? packageVersion() });
  const files: GeneratedFile[] = [
    { name: FILE_NAMES.source, content: render('model.c', view) },
    { name: FILE_NAMES.header, content: render('model.h', view) },
    { name: FILE_NAMES.fixedpoint, content: render('fixedpoint.h', view) },
  ];
  if (view.tflite)
    files.push({
      name: FILE_NAMES.fixedpointTflite,
      content: render('fixedpoint_tflite.h', { ...view, fixedpointHeader: FILE_NAMES.fixedpointTflite }),
    });
  const named = files.map((f) => ({
    name: prefixedFileName(f.name, prefix),
    content: applyPrefix(f.content, prefix),
  }));
  const ramInfo = ramReport(model, ram, opts.ram ?? { mode: 'fast' });
  return { files: named, plan, report: reportOf(model, view, plan, ramInfo) };
}
