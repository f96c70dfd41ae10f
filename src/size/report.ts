// Flash and RAM totals, itemized, from a parsed map: the document `tinyforge size --json` prints.
//
// Counting rules (regions classified by regions.ts):
//   flash = every allocated output section with contents whose load address (LMA) lies in a flash
//           region, so the load image of .data counts;
//   RAM   = every allocated output section whose VMA lies in a RAM region (.data, .bss, and reserved
//           stack/heap sections);
//   zero-size, non-allocated (debug, .comment, .ARM.attributes) and NOBITS-in-flash sections count in
//   neither. Every byte of a counted output section goes to exactly one category (categorize.ts), so
//   the categories add up to the totals; bytes no input section or fill covers are padding.
// Stack: `ram.reservedStack` is what the linker script reserves (category stack); a measured peak
// (`--stack`, or run.json's peakStackBytes) is reported beside it, and
//   ram.totalWithStack = ram.total - ram.reservedStack + ram.peakStack
// i.e. the static RAM without the reserve plus the stack the program really used, so the stack is
// never counted twice. When the peak exceeds the reserve the report warns.
import type { ModelRam } from './modelRam.js';
import path from 'node:path';
import {
  CATEGORIES,
  type Category,
  fillCategory,
  hasContents,
  inputCategory,
  isNonAllocName,
  layerOf,
} from './categorize.js';
import { type ElfSection, SHT_NOBITS } from './elf.js';
import type { MapInputSection, MapOutputSection, ParsedMap } from './mapTypes.js';
import { type ClassifiedRegion, classifyRegions, regionAt, type RegionKind } from './regions.js';

export const SIZE_SCHEMA = 'tinyforge.size/1';

export type CategoryBytes = Record<Category, number>;

export interface SectionUse {
  name: string;
  address: number;
  loadAddress: number;
  size: number;
  /** The region counted: LMA's region for flash, VMA's region for RAM. */
  region: string;
}

export interface MemoryTotals {
  total: number;
  /** Sum of the lengths of the map's regions of this kind. */
  capacity: number;
  /** total / capacity in percent, 2 decimals; null when there is no such region. */
  percent: number | null;
  categories: CategoryBytes;
  sections: SectionUse[];
}

export interface RamTotals extends MemoryTotals {
  /** Bytes the linker script reserves for the stack (= categories.stack). */
  reservedStack: number;
  /** Bytes the linker script reserves for the heap (= categories.heap). */
  reservedHeap: number;
  /** Measured peak stack in bytes, when known. */
  peakStack?: number;
  /** Where peakStack came from: "--stack" or the run.json path. */
  peakStackSource?: string;
  /** total - reservedStack + peakStack: static RAM plus the stack really used. */
  totalWithStack?: number;
  /** Arena + measured inference stack, next to the liveness optimum (src/size/modelRam.ts). */
  model?: ModelRam;
}

export interface TopEntry {
  /** First symbol ld lists in the input section, else the section name. */
  name: string;
  section: string;
  /** "libc_nano.a(lib_a-memcpy.o)" or "main.o". */
  object: string;
  category: Category;
  bytes: number;
  address: number;
  memory: 'flash' | 'ram' | 'flash+ram';
}

export interface SizeReport {
  schema: typeof SIZE_SCHEMA;
  map: string;
  elf: string | null;
  regions: {
    name: string;
    origin: number;
    length: number;
    attributes: string;
    kind: RegionKind;
    used: number;
  }[];
  flash: MemoryTotals;
  ram: RamTotals;
  /** Per layer (the <layer> of .rodata.tf_weights.<layer> / .rodata.tf_tables.<layer>), bytes. */
  layers: Record<string, { weights: number; tables: number }>;
  top: TopEntry[];
  warnings: string[];
}

export interface SizeOptions {
  /** Number of top input sections to list (default 10). */
  top?: number;
  /** Measured peak stack and where it came from. */
  peakStack?: { bytes: number; source: string };
  /** Section headers of the ELF the map belongs to: settles NOBITS/alloc where the map cannot. */
  elfSections?: ElfSection[];
  /** ELF path, for the report. */
  elf?: string;
}

function zeroCategories(): CategoryBytes {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as CategoryBytes;
}

function addInto(into: CategoryBytes, from: CategoryBytes): void {
  for (const c of CATEGORIES) into[c] += from[c];
}

function percent(total: number, capacity: number): number | null {
  return capacity > 0 ? Math.round((total / capacity) * 10_000) / 100 : null;
}

/**
 * Splits the bytes [address, address + size) of an output section over categories. Items are taken
 * in address order; a byte covered twice counts once, bytes outside the section are ignored.
 */
function sectionCategories(
  section: MapOutputSection,
  warnings: string[],
): { categories: CategoryBytes; inputs: MapInputSection[] } {
  const categories = zeroCategories();
  const start = section.address ?? 0;
  const end = start + section.size;
  const spans: { address: number; size: number; category: Category; line: number }[] = [];
  const inputs: MapInputSection[] = [];
  section.items.forEach((it, i) => {
    if (it.kind === 'input') {
      inputs.push(it);
      spans.push({ ...it, category: inputCategory(it, section.name) });
    } else if (it.kind === 'fill') spans.push({ ...it, category: fillCategory(section, i) });
    else if (it.kind === 'data') spans.push({ ...it, category: 'runtime' });
  });
  spans.sort((a, b) => a.address - b.address);
  let covered = start;
  let counted = 0;
  for (const s of spans) {
    if (s.size === 0) continue;
    const from = Math.max(s.address, covered);
    const to = Math.min(s.address + s.size, end);
    if (to - from < s.size) {
      warnings.push(
        `${section.name}: the item at map line ${s.line} overlaps another or lies outside the section; ` +
          `${Math.max(0, to - from)} of its ${s.size} bytes counted`,
      );
    }
    if (to > from) {
      categories[s.category] += to - from;
      counted += to - from;
      covered = to;
    }
  }
  categories.padding += section.size - counted;
  return { categories, inputs };
}

function objectLabel(input: MapInputSection): string {
  return input.archive ? `${path.basename(input.archive)}(${input.object})` : input.object || input.file;
}

/** Builds the size report of a parsed map (see the header comment for the counting rules). */
export function sizeReport(parsed: ParsedMap, opts: SizeOptions = {}): SizeReport {
  const warnings: string[] = [];
  const regions: ClassifiedRegion[] = classifyRegions(parsed.regions);
  const used = new Map<string, number>(regions.map((r) => [r.name, 0]));
  const elfByName = new Map((opts.elfSections ?? []).map((s) => [s.name, s]));

  const flash: MemoryTotals = {
    total: 0,
    capacity: 0,
    percent: null,
    categories: zeroCategories(),
    sections: [],
  };
  const ram: RamTotals = {
    total: 0,
    capacity: 0,
    percent: null,
    categories: zeroCategories(),
    sections: [],
    reservedStack: 0,
    reservedHeap: 0,
  };
  for (const r of regions) {
    if (r.kind === 'flash') flash.capacity += r.length;
    if (r.kind === 'ram') ram.capacity += r.length;
  }

  const layers: Record<string, { weights: number; tables: number }> = {};
  const placed = new Map<MapInputSection, { category: Category; flash: boolean; ram: boolean }>();

  for (const s of parsed.sections) {
    if (s.address === null || s.loadAddress === null || s.size === 0) continue;
    const elf = elfByName.get(s.name);
    const alloc = elf ? elf.alloc : !isNonAllocName(s.name);
    if (!alloc) continue;
    const contents = elf ? elf.type !== SHT_NOBITS : hasContents(s);
    const lmaRegion = regionAt(regions, s.loadAddress);
    const vmaRegion = regionAt(regions, s.address);
    const inFlash = contents && lmaRegion?.kind === 'flash';
    const inRam = vmaRegion?.kind === 'ram';
    if (!inFlash && !inRam) {
      if (!vmaRegion && !lmaRegion) {
        warnings.push(
          `output section ${s.name} (${s.size} bytes at 0x${s.address.toString(16)}, map line ${s.line}) ` +
            'lies in no memory region and is not counted',
        );
      }
      continue;
    }
    const { categories, inputs } = sectionCategories(s, warnings);
    const use = (region: ClassifiedRegion): SectionUse => ({
      name: s.name,
      address: s.address as number,
      loadAddress: s.loadAddress as number,
      size: s.size,
      region: region.name,
    });
    if (inFlash && lmaRegion) {
      flash.total += s.size;
      addInto(flash.categories, categories);
      flash.sections.push(use(lmaRegion));
      used.set(lmaRegion.name, (used.get(lmaRegion.name) ?? 0) + s.size);
    }
    if (inRam && vmaRegion) {
      ram.total += s.size;
      addInto(ram.categories, categories);
      ram.sections.push(use(vmaRegion));
      used.set(vmaRegion.name, (used.get(vmaRegion.name) ?? 0) + s.size);
    }
    for (const it of inputs) {
      placed.set(it, { category: inputCategory(it, s.name), flash: inFlash, ram: inRam });
      const l = layerOf(it.name);
      if (l) {
        layers[l.layer] ??= { weights: 0, tables: 0 };
        layers[l.layer][l.kind] += it.size;
      }
    }
  }

  flash.percent = percent(flash.total, flash.capacity);
  ram.percent = percent(ram.total, ram.capacity);
  ram.reservedStack = ram.categories.stack;
  ram.reservedHeap = ram.categories.heap;
  if (flash.capacity > 0 && flash.total > flash.capacity) {
    warnings.push(`flash use ${flash.total} B exceeds the flash regions' ${flash.capacity} B`);
  }
  if (ram.capacity > 0 && ram.total > ram.capacity) {
    warnings.push(`RAM use ${ram.total} B exceeds the RAM regions' ${ram.capacity} B`);
  }
  if (flash.capacity === 0) warnings.push('no memory region is recognised as flash (see the region rule)');
  if (ram.capacity === 0) warnings.push('no memory region is recognised as RAM (see the region rule)');

  if (opts.peakStack) {
    const peak = opts.peakStack.bytes;
    ram.peakStack = peak;
    ram.peakStackSource = opts.peakStack.source;
    ram.totalWithStack = ram.total - ram.reservedStack + peak;
    if (ram.reservedStack > 0 && peak > ram.reservedStack) {
      warnings.push(
        `the measured peak stack (${peak} B) exceeds the stack the linker reserves (${ram.reservedStack} B): ` +
          'the stack overruns into other data',
      );
    }
    if (ram.capacity > 0 && ram.totalWithStack > ram.capacity) {
      warnings.push(
        `static RAM plus the measured stack (${ram.totalWithStack} B) exceeds RAM (${ram.capacity} B)`,
      );
    }
  }

  const topN = opts.top ?? 10;
  const top: TopEntry[] = [...placed.entries()]
    .filter(([it]) => it.size > 0)
    .sort(([a], [b]) => b.size - a.size || a.address - b.address)
    .slice(0, Math.max(0, topN))
    .map(([it, p]) => ({
      name: it.symbols[0]?.name ?? it.name,
      section: it.name,
      object: objectLabel(it),
      category: p.category,
      bytes: it.size,
      address: it.address,
      memory: p.flash && p.ram ? 'flash+ram' : p.flash ? 'flash' : 'ram',
    }));

  return {
    schema: SIZE_SCHEMA,
    map: parsed.file,
    elf: opts.elf ?? null,
    regions: regions.map((r) => ({
      name: r.name,
      origin: r.origin,
      length: r.length,
      attributes: r.attributes,
      kind: r.kind,
      used: used.get(r.name) ?? 0,
    })),
    flash,
    ram,
    layers,
    top,
    warnings,
  };
}
