// What a GNU ld map file says, as parsed by parseMap.ts: plain data, no interpretation.
// Classification (flash/RAM, categories) lives in regions.ts, categorize.ts and report.ts.

/** One row of "Memory Configuration" (`*default*` is left out). */
export interface MemoryRegion {
  name: string;
  origin: number;
  length: number;
  /** As ld prints them, e.g. "xr", "xrw", "rx!w"; empty when the script gave none. */
  attributes: string;
  line: number;
}

export interface MapSymbol {
  name: string;
  address: number;
}

/** An input section placed in an output section (or, under `discarded`, thrown away). */
export interface MapInputSection {
  kind: 'input';
  /** Input section name, e.g. ".text.tf_kernels.conv", "COMMON". */
  name: string;
  address: number;
  size: number;
  /** As ld prints it: "/path/x.o", "/path/libc_nano.a(lib_a-memcpy.o)", "linker stubs". */
  file: string;
  /** "/path/libc_nano.a" when the file is an archive member, else null. */
  archive: string | null;
  /** "lib_a-memcpy.o" for an archive member, else the file's base name. */
  object: string;
  /** Global symbols ld lists under this input section. */
  symbols: MapSymbol[];
  line: number;
}

/** `*fill*`: padding ld inserted (alignment, or `. = . + N` reserving space). */
export interface MapFill {
  kind: 'fill';
  address: number;
  size: number;
  line: number;
}

/** A BYTE/SHORT/LONG/QUAD/SQUAD statement of the linker script: bytes the script itself writes. */
export interface MapData {
  kind: 'data';
  type: string;
  address: number;
  size: number;
  line: number;
}

/** An assignment or ASSERT of the linker script; `value` is null when ld printed none. */
export interface MapAssignment {
  kind: 'assignment';
  value: number | null;
  /** The expression as ld prints it, e.g. ". = ALIGN (0x4)", "PROVIDE (end = .)". */
  text: string;
  line: number;
}

/** An input section pattern such as `*(.text*)`; kept for completeness, costs nothing. */
export interface MapPattern {
  kind: 'pattern';
  text: string;
  line: number;
}

export type MapItem = MapInputSection | MapFill | MapData | MapAssignment | MapPattern;

export interface MapOutputSection {
  name: string;
  /** VMA; null when ld created no section (an empty statement: only patterns listed). */
  address: number | null;
  size: number;
  /** LMA: `load address 0x...` when printed, else the VMA. */
  loadAddress: number | null;
  items: MapItem[];
  line: number;
}

export interface ParsedMap {
  /** The file name used in messages. */
  file: string;
  regions: MemoryRegion[];
  sections: MapOutputSection[];
  /** "Discarded input sections" (garbage collected, /DISCARD/): they take no space. */
  discarded: MapInputSection[];
  /** Assignments outside any output section (e.g. `_stack_size = 0x1000`). */
  assignments: MapAssignment[];
  /** LOAD lines: the objects and archives ld was given. */
  loaded: string[];
  /** From `OUTPUT(file format)`. */
  output: { file: string; format: string };
}
