// A width of the sweep applied to an architecture: the filter counts of the layers whose operator
// scales with the width (its arch.widthKey: Conv1D's filters).
import { parseArch, type ArchSpec } from '../graph/arch.js';
import { HAR_DEFAULT_ARCH, resolveArch } from '../train/archs/index.js';
import { TinyforgeError } from '../util/errors.js';
import { opOf } from '../ops/registry.js';
import { widthLabel, type WidthSpec } from './config.js';

/** The architecture a sweep scales: an architecture file, else the built-in har-default. */
export function baseArch(archPath?: string): ArchSpec {
  return archPath ? resolveArch(archPath) : parseArch(HAR_DEFAULT_ARCH, 'har-default');
}

type Entry = ArchSpec['layers'][number] & Record<string, unknown>;

/** The attribute of an entry the width scales, if its operator has one. */
function widthKeyOf(l: ArchSpec['layers'][number]): string | undefined {
  return opOf((l as { type: string }).type).arch.widthKey;
}

/** Filters of each width-scaled layer (Conv1D) of `arch` at this width. */
export function convFilters(arch: ArchSpec, width: WidthSpec): number[] {
  const base = arch.layers.flatMap((l) => {
    const key = widthKeyOf(l);
    return key ? [(l as Entry)[key] as number] : [];
  });
  if (base.length === 0)
    throw new TinyforgeError(
      `the architecture${arch.name ? ` '${arch.name}'` : ''} has no Conv1D layer to scale`,
      'input',
      'sweep widths scale Conv1D filter counts: use an architecture with Conv1D layers',
    );
  if (typeof width === 'number') return base.map(() => width);
  if (Array.isArray(width)) {
    if (width.length !== base.length)
      throw new TinyforgeError(
        `width [${width.join(', ')}] gives ${width.length} filter counts, the architecture has ${base.length} Conv1D layers`,
        'input',
        `give one count per Conv1D (e.g. [${base.join(', ')}]), a single number for all, or { "scale": 0.5 }`,
      );
    return [...width];
  }
  return base.map((f) => Math.max(1, Math.round(f * width.scale)));
}

/** `arch` with its Conv1D filter counts set for this width (other layers unchanged). */
export function archForWidth(arch: ArchSpec, width: WidthSpec): ArchSpec {
  const filters = convFilters(arch, width);
  let i = 0;
  return {
    ...arch,
    name: `${arch.name ?? 'arch'}@${widthLabel(width)}`,
    layers: arch.layers.map((l) => {
      const key = widthKeyOf(l);
      return (key ? { ...l, [key]: filters[i++] } : { ...l }) as ArchSpec['layers'][number];
    }),
  };
}
