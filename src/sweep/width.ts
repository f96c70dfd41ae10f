// A width of the sweep applied to an architecture: the filter counts of its Conv1D layers.
import { readArchFile, parseArch, type ArchSpec } from '../graph/arch.js';
import { HAR_DEFAULT_ARCH } from '../train/archs/index.js';
import { TinyforgeError } from '../util/errors.js';
import { widthLabel, type WidthSpec } from './config.js';

/** The architecture a sweep scales: an architecture file, else the built-in har-default. */
export function baseArch(archPath?: string): ArchSpec {
  return archPath ? readArchFile(archPath) : parseArch(HAR_DEFAULT_ARCH, 'har-default');
}

/** Filters of each Conv1D of `arch` at this width. */
export function convFilters(arch: ArchSpec, width: WidthSpec): number[] {
  const base = arch.layers.flatMap((l) => (l.type === 'conv1d' ? [l.filters] : []));
  if (base.length === 0)
    throw new TinyforgeError(
      `the architecture${arch.name ? ` '${arch.name}'` : ''} has no conv1d layer to scale`,
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
    layers: arch.layers.map((l) => (l.type === 'conv1d' ? { ...l, filters: filters[i++] } : { ...l })),
  };
}
