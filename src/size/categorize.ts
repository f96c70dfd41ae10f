// Which category each byte of an output section belongs to.
//
// Input sections, first rule that matches:
//   weights  input section .rodata.tf_weights.<layer>   (whichever output section holds it)
//   tables   input section .rodata.tf_tables.<layer>
//   kernels  input section .text.tf_kernels[.*]
//   arena    input section .bss.tf_arena*
//   stack    input section .stack[.*]       heap  input section .heap[.*]
//   startup  vector table: input or output section named like *vector* (.isr_vector, .vectors)
//   libc     a member of libc*.a, libm*.a, libg*.a, libgcc.a, librdimon*.a, libnosys.a,
//            libstdc++*.a, libsupc++*.a (the toolchain's libraries)
//   startup  crt objects (crt0.o, crti.o, crtn.o, crtbegin.o, crtend.o, rdimon-crt0.o, *-crt0.o)
//            and startup*.o / *_startup.o
//   runtime  everything else: the project's own objects (harness, I/O), linker stubs, and bytes the
//            script writes itself (LONG(...) etc.)
// *fill* (padding ld inserted) is `padding`, except a reserve made by `. = . + N` (or any dot
// assignment that is not a plain ALIGN) that names the stack or the heap: the assignment's own text
// (`. = . + _Min_Stack_Size`), else the symbols the script defines right after or right before it
// (`_estack = .`, `__StackLimit = .`, `__HeapLimit = .`), else the output section's name
// (`.stack`, `.heap`, `._user_heap_stack`: mentions only one of the two) decide stack vs heap.
// Bytes of an output section that no input section or fill covers are padding too.
import type { MapAssignment, MapItem, MapOutputSection } from './mapTypes.js';

export const CATEGORIES = [
  'weights',
  'tables',
  'kernels',
  'arena',
  'stack',
  'heap',
  'libc',
  'startup',
  'runtime',
  'padding',
] as const;
export type Category = (typeof CATEGORIES)[number];

const RE_WEIGHTS = /^\.rodata\.tf_weights\.(.+)$/;
const RE_TABLES = /^\.rodata\.tf_tables\.(.+)$/;
const RE_KERNELS = /^\.text\.tf_kernels(\..*)?$/;
const RE_ARENA = /^\.bss\.tf_arena/;
const RE_STACK_INPUT = /^\.stack(\..*)?$/;
const RE_HEAP_INPUT = /^\.heap(\..*)?$/;
const RE_VECTOR = /vector/i;
const RE_LIBC_ARCHIVE = /^lib(c|m|g|gcc|rdimon|nosys|stdc\+\+|supc\+\+)([_-][\w-]*)?\.a$/;
const RE_CRT_OBJECT = /^(crt\w*|[\w-]*-crt\d|[\w-]*startup[\w-]*)\.o(bj)?$/i;

/** The layer a tf_weights / tf_tables input section belongs to, or null. */
export function layerOf(sectionName: string): { kind: 'weights' | 'tables'; layer: string } | null {
  const w = RE_WEIGHTS.exec(sectionName);
  if (w) return { kind: 'weights', layer: w[1] };
  const t = RE_TABLES.exec(sectionName);
  if (t) return { kind: 'tables', layer: t[1] };
  return null;
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function inputCategory(
  input: { name: string; archive: string | null; object: string; file: string },
  outputSectionName: string,
): Category {
  const n = input.name;
  if (RE_WEIGHTS.test(n)) return 'weights';
  if (RE_TABLES.test(n)) return 'tables';
  if (RE_KERNELS.test(n)) return 'kernels';
  if (RE_ARENA.test(n)) return 'arena';
  if (RE_STACK_INPUT.test(n)) return 'stack';
  if (RE_HEAP_INPUT.test(n)) return 'heap';
  if (RE_VECTOR.test(n) || RE_VECTOR.test(outputSectionName)) return 'startup';
  if (input.archive && RE_LIBC_ARCHIVE.test(baseName(input.archive))) return 'libc';
  if (!input.archive && RE_CRT_OBJECT.test(input.object)) return 'startup';
  return 'runtime';
}

/** Names of input sections that occupy no file bytes (NOBITS): they never take flash. */
const RE_NOBITS_INPUT =
  /^(\.(s|t)?bss(\..*)?|COMMON|\.gnu\.linkonce\.s?b\..*|\.noinit(\..*)?|\.stack(\..*)?|\.heap(\..*)?)$/;

/**
 * Whether an output section has file contents (PROGBITS), judged from the map: as in ld, it does
 * when any input section with contents or a data statement went into it; fills and `. = . + N`
 * alone make a NOBITS section. (A NOLOAD section holding .data-like input is the one case the map
 * cannot show; given the ELF, report.ts uses its section types instead.)
 */
export function hasContents(section: MapOutputSection): boolean {
  return section.items.some(
    (it) => it.kind === 'data' || (it.kind === 'input' && !RE_NOBITS_INPUT.test(it.name)),
  );
}

/** Sections that are never loaded on the target (debug info, notes, attributes). */
const RE_NONALLOC =
  /^\.(debug|zdebug|comment|ARM\.attributes|gnu\.attributes|riscv\.attributes|stab|line$|gnu_debug|note\.GNU-stack|symtab|strtab|shstrtab|gnu\.warning)/;

export function isNonAllocName(name: string): boolean {
  return RE_NONALLOC.test(name);
}

function mentions(text: string): 'stack' | 'heap' | null {
  const heap = /heap/i.test(text);
  const stack = /stack/i.test(text);
  if (stack && !heap) return 'stack';
  if (heap && !stack) return 'heap';
  return null;
}

function isDotAssignment(a: MapAssignment): boolean {
  return /^\.\s*[-+*/]?=/.test(a.text);
}

/** Category of the `*fill*` at index `i` of `section.items` (see the header comment). */
export function fillCategory(section: MapOutputSection, i: number): Category {
  const prev: MapItem | undefined = section.items[i - 1];
  // ld lists a fill right after the dot assignment that made it; otherwise it is alignment.
  if (!prev || prev.kind !== 'assignment' || !isDotAssignment(prev)) return 'padding';
  const own = mentions(prev.text);
  if (own) return own;
  if (/^\.\s*=\s*ALIGN\s*\(/.test(prev.text) && !/\+/.test(prev.text)) return 'padding';
  const after: string[] = [];
  for (let j = i + 1; j < section.items.length; j++) {
    const it = section.items[j];
    if (it.kind !== 'assignment' || isDotAssignment(it)) break;
    after.push(it.text);
  }
  const byAfter = mentions(after.join(' '));
  if (byAfter) return byAfter;
  const before: string[] = [];
  for (let j = i - 2; j >= 0; j--) {
    const it = section.items[j];
    if (it.kind !== 'assignment' || isDotAssignment(it)) break;
    before.push(it.text);
  }
  const byBefore = mentions(before.join(' '));
  if (byBefore) return byBefore;
  return mentions(section.name) ?? 'padding';
}
