// Builds small Cortex-M4 test firmwares with the real toolchain for the size tests, and reads the
// reference figures from binutils (size, objdump, nm) so the tests never compare the map parser with
// itself. The model's byte counts come from the constants below, which also generate the C source.
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/size');

/** The test model: element counts and element sizes declared in the generated C. */
export const MODEL = {
  convWeights: 301, // int8_t  -> 301 bytes (odd: the next, 2-aligned section needs a fill)
  denseWeights: 130, // int16_t -> 260 bytes
  convTables: 70, // uint16_t -> 140 bytes
  arena: 1024, // int8_t, 8-aligned
  kernelNops: 24, // hand-written kernel: 24 16-bit NOPs + a 16-bit `bx lr`
  heap: 0x200,
  stack: 0x1000,
} as const;

export const EXPECTED = {
  weights: { conv1: MODEL.convWeights, dense1: 2 * MODEL.denseWeights },
  tables: { conv1: 2 * MODEL.convTables },
  arena: MODEL.arena,
  asmKernel: 2 * MODEL.kernelNops + 2,
};

export const LONG_USED = 'a_function_with_a_really_quite_remarkably_long_name_for_wrapping';
export const LONG_UNUSED = 'an_unused_function_with_a_long_name_that_gc_sections_discards';

const CFLAGS = [
  '-mcpu=cortex-m4',
  '-mthumb',
  '-mfloat-abi=hard',
  '-mfpu=fpv4-sp-d16',
  '-O2',
  '-std=c99',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-ffunction-sections',
  '-fdata-sections',
];

const MODEL_C = `#include <stdint.h>
#define CONV_W ${MODEL.convWeights}
#define DENSE_W ${MODEL.denseWeights}
#define CONV_T ${MODEL.convTables}
#define ARENA ${MODEL.arena}
__attribute__((section(".rodata.tf_weights.conv1"))) const int8_t tf_w_conv1[CONV_W] = {1, 2, 3};
__attribute__((section(".rodata.tf_weights.dense1"))) const int16_t tf_w_dense1[DENSE_W] = {4, 5};
__attribute__((section(".rodata.tf_tables.conv1"))) const uint16_t tf_t_conv1[CONV_T] = {6, 7};
__attribute__((section(".bss.tf_arena"), aligned(8))) int8_t tf_arena[ARENA];

__attribute__((section(".text.tf_kernels.conv"), noinline)) int32_t tf_conv(int n) {
  int32_t s = 0;
  for (int i = 0; i < n; i++) s += tf_arena[i % ARENA] * tf_w_conv1[i % CONV_W] + tf_t_conv1[i % CONV_T];
  return s;
}

int32_t tf_dense(int n) {
  int32_t s = 0;
  for (int i = 0; i < n; i++) s += tf_arena[i % ARENA] * tf_w_dense1[i % DENSE_W];
  return s;
}

/* A kernel of known size: ${MODEL.kernelNops} x 2-byte NOP + 2-byte bx lr. */
__asm__(".section .text.tf_kernels.nops,\\"ax\\",%progbits\\n"
        ".global tf_nops\\n.p2align 1\\n.thumb\\n.thumb_func\\n.type tf_nops, %function\\n"
        "tf_nops:\\n.rept ${MODEL.kernelNops}\\n.short 0xbf00\\n.endr\\n.short 0x4770\\n"
        ".size tf_nops, . - tf_nops\\n.text\\n");
`;

const MAIN_C = `#include <stdint.h>
#include <stdio.h>
#include <string.h>
extern void initialise_monitor_handles(void);
extern int8_t tf_arena[];
extern const int8_t tf_w_conv1[];
int32_t tf_conv(int n);
int32_t tf_dense(int n);
void tf_nops(void);

int counter = 5;
volatile uint64_t numerator = 1000000000000ULL, denominator = 7;

__attribute__((noinline)) int ${LONG_USED}(int x) { return x * 3 + counter; }
int ${LONG_UNUSED}(int x) { return x * 5 - counter; }

int main(void) {
  initialise_monitor_handles();
  memcpy(tf_arena, tf_w_conv1, 100);
  tf_nops();
  printf("%ld %ld %d %lu\\n", (long)tf_conv(100), (long)tf_dense(50), ${LONG_USED}(counter),
         (unsigned long)(numerator / denominator));
  return 0;
}
`;

const STARTUP_C = `#include <stdint.h>
extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);
extern void __libc_init_array(void);
void Reset_Handler(void);
void Default_Handler(void);
void Default_Handler(void) { for (;;) {} }
__attribute__((section(".isr_vector"), used)) void (*const vectors[16])(void) = {
  (void (*)(void))&_estack, Reset_Handler, Default_Handler, Default_Handler};
void Reset_Handler(void) {
  uint32_t *s = &_sidata, *d = &_sdata;
  while (d < &_edata) *d++ = *s++;
  for (d = &_sbss; d < &_ebss;) *d++ = 0;
  __libc_init_array();
  main();
  for (;;) {}
}
`;

export interface Firmware {
  dir: string;
  elf: string;
  map: string;
  objects: { main: string; model: string; startup: string };
}

/**
 * Compiles and links the test firmware with `script` (a file in test/fixtures/size) into a temp dir;
 * with `script` null, ld's default ARM script and rdimon's crt0 (no MEMORY regions, no startup.o).
 */
export async function buildFirmware(script: string | null, name = 'fw'): Promise<Firmware> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-size-'));
  const sources = { main: MAIN_C, model: MODEL_C, startup: STARTUP_C };
  const objects = { main: '', model: '', startup: '' };
  for (const [base, text] of Object.entries(sources) as [keyof typeof sources, string][]) {
    const c = path.join(dir, `${base}.c`);
    await writeFile(c, text);
    objects[base] = path.join(dir, `${base}.o`);
    await execa('arm-none-eabi-gcc', [...CFLAGS, '-c', c, '-o', objects[base]]);
  }
  const elf = path.join(dir, `${name}.elf`);
  const map = path.join(dir, `${name}.map`);
  await execa('arm-none-eabi-gcc', [
    ...CFLAGS,
    '--specs=nano.specs',
    '--specs=rdimon.specs',
    ...(script
      ? [
          '-T',
          path.join(FIXTURES, script),
          `-Wl,--defsym=_Min_Heap_Size=${MODEL.heap}`,
          `-Wl,--defsym=_Min_Stack_Size=${MODEL.stack}`,
          objects.startup,
        ]
      : []),
    '-Wl,--gc-sections',
    `-Wl,-Map=${map}`,
    '-o',
    elf,
    objects.main,
    objects.model,
  ]);
  return { dir, elf, map, objects };
}

export interface ObjdumpSection {
  name: string;
  size: number;
  vma: number;
  lma: number;
  flags: string[];
}

/** `arm-none-eabi-objdump -h -w`: name, size, VMA, LMA and flags of every section. */
export async function objdumpSections(file: string): Promise<ObjdumpSection[]> {
  const { stdout } = await execa('arm-none-eabi-objdump', ['-h', '-w', file]);
  const out: ObjdumpSection[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+\S+\s+(.*)$/.exec(
      line,
    );
    if (m) {
      out.push({
        name: m[1],
        size: parseInt(m[2], 16),
        vma: parseInt(m[3], 16),
        lma: parseInt(m[4], 16),
        flags: m[5].split(',').map((f) => f.trim()),
      });
    }
  }
  return out;
}

/** `arm-none-eabi-size -A`: section name -> size. */
export async function sizeA(elf: string): Promise<Map<string, number>> {
  const { stdout } = await execa('arm-none-eabi-size', ['-A', elf]);
  const sizes = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^(\.\S+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) sizes.set(m[1], Number(m[2]));
  }
  return sizes;
}

/** `arm-none-eabi-nm`: defined symbol name -> address (thumb bit cleared, as the map prints it). */
export async function nmSymbols(elf: string): Promise<Map<string, number[]>> {
  const { stdout } = await execa('arm-none-eabi-nm', ['--defined-only', elf]);
  const syms = new Map<string, number[]>();
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f]+) \S (\S+)$/.exec(line);
    if (m) syms.set(m[2], [...(syms.get(m[2]) ?? []), parseInt(m[1], 16) & ~1]);
  }
  return syms;
}
