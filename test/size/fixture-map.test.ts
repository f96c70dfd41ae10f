// The odd cases of the map format, from a small hand-written map (test/fixtures/size/odd.map):
// wrapped output and input section names, an output section ld did not create, fills with a
// pattern, data statements, COMMON, NOBITS sections with a load address, [!provide]/*undef*
// assignments, "size before relaxing" lines, orphans after OUTPUT(...), a cross reference table.
// Every expected figure below is worked out by hand from the numbers written in the fixture.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type MapAssignment,
  type MapInputSection,
  parseMap,
  regionKind,
  sizeReport,
  formatSizeTable,
} from '../../src/size/index.js';
import { FIXTURES } from './firmware.js';

const ODD = path.join(FIXTURES, 'odd.map');

describe('odd.map', () => {
  const parsed = parseMap(readFileSync(ODD, 'utf8'), ODD);
  const report = sizeReport(parsed, { top: 3 });
  const input = (name: string) =>
    parsed.sections
      .flatMap((s) => s.items)
      .find((i): i is MapInputSection => i.kind === 'input' && i.name === name);

  it('reads the memory regions and classifies them by name, then attributes', () => {
    expect(parsed.regions.map((r) => [r.name, r.origin, r.length, r.attributes])).toEqual([
      ['BOOTROM', 0, 0x8000, 'xr'],
      ['FLASH', 0x08000000, 0x100000, 'xr'],
      ['OTP', 0x1fff7800, 0x210, 'r'],
      ['CCMRAM', 0x10000000, 0x10000, 'rw'],
      ['RAM', 0x20000000, 0x20000, 'xrw'],
      ['SCRATCH', 0x60000000, 0x1000, ''],
    ]);
    expect(report.regions.map((r) => r.kind)).toEqual(['flash', 'flash', 'flash', 'ram', 'ram', 'other']);
    expect(report.flash.capacity).toBe(0x8000 + 0x100000 + 0x210);
    expect(report.ram.capacity).toBe(0x10000 + 0x20000);
  });

  it('reads output sections, wrapped or not, with their load address', () => {
    const byName = new Map(parsed.sections.map((s) => [s.name, s]));
    expect(byName.get('.tf_weights_and_tables')).toMatchObject({ address: 0x08000590, size: 0x127 });
    expect(byName.get('._user_heap_stack')).toMatchObject({ address: 0x20000470, size: 0x610 });
    expect(byName.get('.data')).toMatchObject({ address: 0x20000000, loadAddress: 0x080006b8 });
    expect(byName.get('.text')).toMatchObject({ address: 0x08000190, loadAddress: 0x08000190 });
    expect(byName.get('.ARM.extab')).toMatchObject({ address: null, size: 0 });
    expect(parsed.output).toEqual({ file: '/build/fw.elf', format: 'elf32-littlearm' });
    expect(parsed.loaded).toContain('/build/kernels.o');
    expect(parsed.loaded).toContain('linker stubs');
  });

  it('reads input sections, archive members, symbols and COMMON', () => {
    expect(input('.text.tf_kernels.conv1d_q7')).toMatchObject({
      address: 0x08000190,
      size: 0x100,
      file: '/build/kernels.o',
      archive: null,
      object: 'kernels.o',
      symbols: [{ name: 'tf_conv1d_q7', address: 0x08000190 }],
    });
    const memcpy = parsed.sections
      .find((s) => s.name === '.text')!
      .items.find((i): i is MapInputSection => i.kind === 'input' && i.symbols[0]?.name === 'memcpy');
    expect(memcpy).toMatchObject({
      size: 0x200,
      archive: '/opt/arm/lib/thumb/v7e-m+fp/hard/libc_nano.a',
      object: 'libc_a-memcpy-stub.o',
    });
    expect(input('COMMON')).toMatchObject({
      size: 0x40,
      symbols: [{ name: 'shared_buf', address: 0x20000430 }],
    });
  });

  it('reads fills, data statements, patterns and assignments', () => {
    const tf = parsed.sections.find((s) => s.name === '.tf_weights_and_tables')!;
    expect(tf.items.map((i) => i.kind)).toEqual(['pattern', 'input', 'input', 'fill', 'input', 'data']);
    expect(tf.items[5]).toMatchObject({ kind: 'data', type: 'LONG', address: 0x080006b3, size: 4 });
    const text = parsed.sections.find((s) => s.name === '.text')!;
    expect(text.items.find((i) => i.kind === 'fill')).toMatchObject({ address: 0x08000310, size: 0x10 });
    const top = new Map(parsed.assignments.map((a) => [a.text, a.value]));
    expect(top.get('_Min_Stack_Size = 0x400')).toBe(0x400);
    expect(top.get('_estack = (ORIGIN (RAM) + LENGTH (RAM))')).toBe(0x20020000);
    expect(top.get('not_yet_known = undefined_symbol')).toBeNull();
    const heap = parsed.sections.find((s) => s.name === '._user_heap_stack')!;
    const provide = heap.items.find(
      (i): i is MapAssignment => i.kind === 'assignment' && i.text.includes('_end'),
    );
    expect(provide).toMatchObject({ value: null, text: 'PROVIDE (_end = .)' });
  });

  it('keeps discarded input sections, wrapped or not', () => {
    expect(parsed.discarded.map((d) => [d.name, d.size, d.file])).toEqual([
      ['.text', 0, '/build/main.o'],
      ['.text.a_helper_nobody_calls_with_a_long_name', 0x24, '/build/main.o'],
    ]);
  });

  it('counts flash by load address and contents, RAM by VMA', () => {
    // .bss has a load address in flash but no contents; .comment/.debug_info sit at 0 (BOOTROM) but
    // are not allocated.
    expect(report.flash.sections.map((s) => s.name)).toEqual([
      '.isr_vector',
      '.text',
      '.tf_weights_and_tables',
      '.data',
    ]);
    expect(report.flash.total).toBe(0x188 + 0x400 + 0x127 + 0x10);
    expect(report.ram.sections.map((s) => s.name)).toEqual([
      '.data',
      '.bss',
      '.ccm_noinit',
      '._user_heap_stack',
      '.co_stack',
    ]);
    expect(report.ram.total).toBe(0x10 + 0x460 + 0x100 + 0x610 + 0x100);
  });

  it('files every byte under one category', () => {
    expect(report.flash.categories).toEqual({
      weights: 0xc0 + 0x3,
      tables: 0x5c,
      kernels: 0x100,
      arena: 0,
      stack: 0,
      heap: 0,
      libc: 0x200 + 0x60 + 0xc,
      startup: 0x188,
      runtime: 0x80 + 4 + 4, // main, the script's LONG, counter's load image
      padding: 0x10 + 0x10 + 0x4, // the ff fill, the unlisted tail of .text, the fill before .dense
    });
    expect(report.ram.categories).toEqual({
      weights: 0,
      tables: 0,
      kernels: 0,
      arena: 0x400,
      stack: 0x400 + 0x100, // the reserve after _Min_Stack_Size, the startup's .stack
      heap: 0x200,
      libc: 0xc + 0x20,
      startup: 0,
      runtime: 4 + 0x40 + 0x100, // counter, COMMON shared_buf, .noinit
      padding: 0x10, // ALIGN (0x20) at the end of ._user_heap_stack
    });
    expect(report.layers).toEqual({
      conv1d_1: { weights: 0xc0, tables: 0x5c },
      dense: { weights: 3, tables: 0 },
    });
    expect(report.top.map((t) => [t.name, t.bytes, t.category, t.object])).toEqual([
      ['tf_arena', 0x400, 'arena', 'model.o'],
      ['memcpy', 0x200, 'libc', 'libc_nano.a(libc_a-memcpy-stub.o)'],
      ['g_pfnVectors', 0x188, 'startup', 'startup_stm32f405xx.o'],
    ]);
    expect(report.warnings).toEqual([]);
  });

  it('puts static RAM plus the measured stack in totalWithStack, the reserve counted once', () => {
    const r = sizeReport(parsed, { peakStack: { bytes: 0x300, source: '--stack' } });
    expect(r.ram.reservedStack).toBe(0x500);
    expect(r.ram.peakStack).toBe(0x300);
    expect(r.ram.totalWithStack).toBe(r.ram.total - 0x500 + 0x300);
    expect(r.warnings).toEqual([]);
    const over = sizeReport(parsed, { peakStack: { bytes: 0x600, source: 'run.json' } });
    expect(over.warnings.join('\n')).toMatch(
      /peak stack \(1536 B\) exceeds the stack the linker reserves \(1280 B\)/,
    );
    expect(sizeReport(parsed).ram.totalWithStack).toBeUndefined();
  });

  it('prints a table with both memories, the layers and the top list', () => {
    const text = formatSizeTable(
      sizeReport(parsed, { top: 2, peakStack: { bytes: 0x300, source: '--stack' } }),
    );
    expect(text).toMatch(/^Flash: 1,727 B of 1,081,872 B \(0\.16%\)/m);
    expect(text).toMatch(/^ {2}weights\s+195\s+0\.02%$/m);
    expect(text).toMatch(/^RAM: 3,200 B of 196,608 B/m);
    expect(text).toMatch(/measured peak stack: 768 B \(from --stack\); reserved by the linker: 1,280 B/);
    expect(text).toMatch(/= 2,688 B/);
    expect(text).toMatch(/^ {2}conv1d_1\s+192\s+92\s+284$/m);
    expect(text).toMatch(/^Top 2 input sections$/m);
  });
});

describe('region rule', () => {
  it.each([
    ['FLASH', 'rx', 'flash'],
    ['flash', '', 'flash'],
    ['RAM', 'xrw', 'ram'],
    ['CCMRAM', 'rw', 'ram'],
    ['rom', 'rwx', 'flash'],
    ['ITCM', 'rx', 'flash'],
    ['DTCM', 'rw', 'ram'],
    ['CODE', 'rx!w', 'flash'],
    ['SCRATCH', '', 'other'],
    ['PROGRAM', 'rx', 'flash'],
  ])('%s (%s) is %s', (name, attributes, kind) => {
    expect(regionKind({ name, attributes })).toBe(kind);
  });
});
