// `tinyforge size`: true flash and RAM from the GNU ld map file, itemized by what the bytes are
// (weights, tables, kernels, arena, stack, heap, libc, startup, runtime, padding). Later stages
// (build, run, sweep) use this API; the CLI command is src/cli/commands/size.ts.
export type {
  MapAssignment,
  MapData,
  MapFill,
  MapInputSection,
  MapItem,
  MapOutputSection,
  MapPattern,
  MapSymbol,
  MemoryRegion,
  ParsedMap,
} from './mapTypes.js';
export { allItems, parseMap, parseMapFile } from './parseMap.js';
export { classifyRegions, regionAt, regionKind, type RegionKind } from './regions.js';
export { CATEGORIES, type Category, inputCategory, layerOf } from './categorize.js';
export { compareMapWithElf, type ElfSection, parseElfSections, readElfSections } from './elf.js';
export {
  type CategoryBytes,
  type MemoryTotals,
  type RamTotals,
  SIZE_SCHEMA,
  type SizeOptions,
  type SizeReport,
  sizeReport,
  type TopEntry,
} from './report.js';
export { formatSizeTable } from './text.js';
export { type LoadedSize, loadSize, mapCandidates, readPeakStack, RUN_REPORT_NAME } from './load.js';
