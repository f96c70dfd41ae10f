// Size from maps the real toolchain writes during the test: totals against binutils, categories
// against the sizes declared in the C source, and the parser against nm/objdump.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  compareMapWithElf,
  inputCategory,
  type MapInputSection,
  type ParsedMap,
  parseMap,
  parseMapFile,
  readElfSections,
  sizeReport,
  type SizeReport,
} from '../../src/size/index.js';
import {
  buildFirmware,
  EXPECTED,
  FIXTURES,
  type Firmware,
  LONG_UNUSED,
  LONG_USED,
  MODEL,
  nmSymbols,
  objdumpSections,
  type ObjdumpSection,
  sizeA,
} from './firmware.js';

const FLASH = { origin: 0x08000000, length: 1024 * 1024 };
const RAM = { origin: 0x20000000, length: 128 * 1024 };
const inRange = (a: number, r: { origin: number; length: number }) =>
  a >= r.origin && a < r.origin + r.length;

/** Flash and RAM as binutils sees them: sizes from `size -A`, placement and flags from objdump. */
async function binutilsTotals(
  elf: string,
): Promise<{ flash: number; ram: number; sections: ObjdumpSection[] }> {
  const sizes = await sizeA(elf);
  const sections = await objdumpSections(elf);
  let flash = 0;
  let ram = 0;
  for (const s of sections) {
    if (!s.flags.includes('ALLOC')) continue;
    const size = sizes.get(s.name);
    expect(size, `size -A lists ${s.name}`).toBe(s.size);
    if (s.flags.includes('CONTENTS') && inRange(s.lma, FLASH)) flash += size as number;
    if (inRange(s.vma, RAM)) ram += size as number;
  }
  return { flash, ram, sections };
}

function inputs(parsed: ParsedMap): MapInputSection[] {
  return parsed.sections.flatMap((s) => s.items.filter((i): i is MapInputSection => i.kind === 'input'));
}

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

/** Size of one section of an object file, from objdump. */
async function objectSectionSize(obj: string, name: string): Promise<number> {
  const s = (await objdumpSections(obj)).find((x) => x.name === name);
  if (!s) throw new Error(`${obj} has no section ${name}`);
  return s.size;
}

describe.each([
  ['cm4.ld', MODEL.stack],
  // The variant reserves its stack with a literal in the script; read it from there.
  [
    'cm4-model-sections.ld',
    parseInt(
      /\. = \. \+ (0x[0-9a-f]+); __StackTop/.exec(
        readFileSync(path.join(FIXTURES, 'cm4-model-sections.ld'), 'utf8'),
      )![1],
      16,
    ),
  ],
])('a Cortex-M4 firmware linked with %s', (script, stackBytes) => {
  let fw: Firmware;
  let parsed: ParsedMap;
  let report: SizeReport;
  let mapOnly: SizeReport;

  beforeAll(async () => {
    fw = await buildFirmware(script);
    parsed = await parseMapFile(fw.map);
    const elfSections = await readElfSections(fw.elf);
    report = sizeReport(parsed, { elfSections, elf: fw.elf, top: 5 });
    mapOnly = sizeReport(parsed);
  });
  afterAll(async () => {
    if (fw) await rm(fw.dir, { recursive: true, force: true });
  });

  it('flash total equals the flash sections of size -A to the byte, RAM total the RAM sections', async () => {
    const ref = await binutilsTotals(fw.elf);
    expect(ref.flash).toBeGreaterThan(0);
    expect(report.flash.total).toBe(ref.flash);
    expect(report.ram.total).toBe(ref.ram);
    // .data counts in both: its load image in flash, its run-time copy in RAM.
    expect(report.flash.sections.map((s) => s.name)).toContain('.data');
    expect(report.ram.sections.map((s) => s.name)).toContain('.data');
    // The map alone (no ELF section types) must come to the same figures.
    expect(mapOnly.flash).toEqual(report.flash);
    expect(mapOnly.ram).toEqual(report.ram);
  });

  it('capacity comes from the map regions', () => {
    expect(report.flash.capacity).toBe(FLASH.length);
    expect(report.ram.capacity).toBe(RAM.length);
  });

  it('categories add up to the totals, padding included', () => {
    expect(Object.keys(report.flash.categories)).toEqual([...CATEGORIES]);
    expect(sum(report.flash.categories)).toBe(report.flash.total);
    expect(sum(report.ram.categories)).toBe(report.ram.total);
    expect(report.flash.categories.libc).toBeGreaterThan(0);
    expect(report.flash.categories.startup).toBeGreaterThanOrEqual(16 * 4); // the vector table
  });

  it('weights, tables, kernels, arena, stack and heap are the sizes the sources declare', async () => {
    const weights = EXPECTED.weights.conv1 + EXPECTED.weights.dense1;
    expect(report.flash.categories.weights).toBe(weights);
    expect(report.flash.categories.tables).toBe(EXPECTED.tables.conv1);
    const cKernel = await objectSectionSize(fw.objects.model, '.text.tf_kernels.conv');
    expect(report.flash.categories.kernels).toBe(EXPECTED.asmKernel + cKernel);
    expect(report.ram.categories.arena).toBe(EXPECTED.arena);
    expect(report.ram.categories.stack).toBe(stackBytes);
    expect(report.ram.reservedStack).toBe(stackBytes);
    expect(report.ram.categories.heap).toBe(MODEL.heap);
    // None of these leaks into the wrong memory.
    expect(report.ram.categories.weights + report.ram.categories.kernels).toBe(0);
    expect(report.flash.categories.arena + report.flash.categories.stack).toBe(0);
    expect(report.layers).toEqual({
      conv1: { weights: EXPECTED.weights.conv1, tables: EXPECTED.tables.conv1 },
      dense1: { weights: EXPECTED.weights.dense1, tables: 0 },
    });
  });

  it('top N lists the largest input sections, largest first', () => {
    expect(report.top).toHaveLength(5);
    const sizes = report.top.map((t) => t.bytes);
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    const counted = new Set([...report.flash.sections, ...report.ram.sections].map((s) => s.name));
    const largest = Math.max(
      ...parsed.sections
        .filter((s) => counted.has(s.name))
        .flatMap((s) => s.items.map((i) => ('size' in i && i.kind === 'input' ? i.size : 0))),
    );
    expect(sizes[0]).toBe(largest);
    expect(report.top.find((t) => t.name === 'tf_arena')).toMatchObject({
      bytes: MODEL.arena,
      category: 'arena',
      memory: 'ram',
    });
  });

  it('the map describes the ELF: every allocated section at the same address and size', async () => {
    const elf = await readElfSections(fw.elf);
    expect(compareMapWithElf(parsed, elf)).toEqual([]);
    // The ELF reader agrees with objdump.
    const ref = await objdumpSections(fw.elf);
    expect(ref.length).toBeGreaterThan(5);
    for (const r of ref) {
      expect(
        elf.find((s) => s.name === r.name),
        r.name,
      ).toMatchObject({ address: r.vma, size: r.size });
    }
  });

  it('every symbol the map lists is where nm puts it', async () => {
    const nm = await nmSymbols(fw.elf);
    const symbols = inputs(parsed).flatMap((i) => i.symbols);
    expect(symbols.length).toBeGreaterThan(50);
    for (const s of symbols) expect(nm.get(s.name), s.name).toContain(s.address);
  });

  it('reads wrapped input section names with their address, size and object', async () => {
    const conv = inputs(parsed).find((i) => i.name === '.text.tf_kernels.conv');
    expect(conv).toBeDefined();
    expect(conv!.file).toBe(fw.objects.model);
    expect(conv!.size).toBe(await objectSectionSize(fw.objects.model, '.text.tf_kernels.conv'));
    expect(conv!.symbols.map((s) => s.name)).toEqual(['tf_conv']);
    const long = inputs(parsed).find((i) => i.name === `.text.${LONG_USED}`);
    expect(long!.size).toBe(await objectSectionSize(fw.objects.main, `.text.${LONG_USED}`));
    expect(long!.symbols.map((s) => s.name)).toEqual([LONG_USED]);
  });

  it('reads archive members and files them under libc', () => {
    const memcpy = inputs(parsed).find((i) => i.symbols.some((s) => s.name === 'memcpy'));
    expect(memcpy!.archive).toMatch(/libc_nano\.a$/);
    expect(memcpy!.object).toMatch(/memcpy.*\.o$/);
    expect(inputCategory(memcpy!, '.text')).toBe('libc');
    const udiv = inputs(parsed).find((i) => i.symbols.some((s) => s.name === '__udivmoddi4'));
    expect(udiv!.archive).toMatch(/libgcc\.a$/);
    expect(inputCategory(udiv!, '.text')).toBe('libc');
    const exidx = parsed.sections.find((s) => s.name === '.ARM.exidx');
    expect(exidx!.size).toBeGreaterThan(0); // from libgcc: counts in flash like size -A says
  });

  it('keeps discarded input sections apart, at no cost', async () => {
    const gone = parsed.discarded.find((d) => d.name === `.text.${LONG_UNUSED}`);
    expect(gone).toBeDefined();
    expect(gone!.size).toBe(await objectSectionSize(fw.objects.main, `.text.${LONG_UNUSED}`));
    expect(inputs(parsed).some((i) => i.name === `.text.${LONG_UNUSED}`)).toBe(false);
  });

  it('accounts for every byte of each allocated section with input sections and fills', () => {
    const fills = parsed.sections.flatMap((s) => s.items.filter((i) => i.kind === 'fill'));
    expect(fills.length).toBeGreaterThan(0);
    for (const s of [...report.flash.sections, ...report.ram.sections]) {
      const out = parsed.sections.find((x) => x.name === s.name)!;
      const covered = out.items.reduce((a, i) => a + ('size' in i ? i.size : 0), 0);
      expect(covered, s.name).toBe(out.size);
    }
  });
});

describe("a firmware linked with ld's default ARM script (no MEMORY regions)", () => {
  let fw: Firmware;
  beforeAll(async () => {
    fw = await buildFirmware(null);
  });
  afterAll(async () => {
    if (fw) await rm(fw.dir, { recursive: true, force: true });
  });

  it('parses to the end, then says flash and RAM cannot be told apart without regions', async () => {
    const text = readFileSync(fw.map, 'utf8');
    const last = text.split('\n').length - 1;
    expect(() => parseMap(text, fw.map)).toThrow(
      `${fw.map}:${last}: 'Memory Configuration' lists no memory region (the linker script needs MEMORY {...})`,
    );
    // With a region added, every statement of the default script (including an output section it
    // names twice, .eh_frame) is read right: the map matches the ELF section for section.
    const withRegion = text.replace(
      /^(Name\s+Origin\s+Length\s+Attributes\n)/m,
      '$1ALL              0x00000000         0x10000000         xrw\n',
    );
    const parsed = parseMap(withRegion, fw.map);
    expect(parsed.sections.filter((s) => s.name === '.eh_frame')).toHaveLength(2);
    expect(compareMapWithElf(parsed, await readElfSections(fw.elf))).toEqual([]);
  });
});
