// Just enough ELF to check a map against the image it claims to describe: the section headers
// (name, type, flags, address, size). A map left over from an earlier link is caught here, and
// the ELF's section types settle PROGBITS vs NOBITS where the map cannot (NOLOAD sections).
import { open } from 'node:fs/promises';
import { TinyforgeError } from '../util/errors.js';
import type { ParsedMap } from './mapTypes.js';

export interface ElfSection {
  name: string;
  /** sh_type: 1 PROGBITS, 8 NOBITS, ... */
  type: number;
  /** SHF_ALLOC: occupies memory at run time. */
  alloc: boolean;
  address: number;
  size: number;
}

export const SHT_NOBITS = 8;
const SHF_ALLOC = 2;
const MAX_SECTIONS = 65_535;

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Parses the section headers of an ELF32/ELF64 image held in memory; throws on a damaged file. */
export function parseElfSections(buf: Buffer, file: string): ElfSection[] {
  const bad = (what: string): never => {
    throw new TinyforgeError(
      `${file}: not a usable ELF file (${what})`,
      'input',
      'Pass the .elf the link produced.',
    );
  };
  if (!isElf(buf)) bad('no ELF magic');
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  if (buf[4] !== 1 && buf[4] !== 2) bad('unknown ELF class');
  const u16 = (o: number) =>
    o + 2 <= buf.length ? (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o)) : bad('short');
  const u32 = (o: number) =>
    o + 4 <= buf.length ? (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)) : bad('short');
  const addr = (o: number) =>
    is64
      ? o + 8 <= buf.length
        ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o))
        : bad('short')
      : u32(o);
  const shoff = is64 ? addr(0x28) : u32(0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shnum === 0 || shnum > MAX_SECTIONS || shentsize < (is64 ? 64 : 40)) bad('no section headers');
  if (shoff + shnum * shentsize > buf.length || shstrndx >= shnum) bad('section headers out of range');

  const raw = [];
  for (let k = 0; k < shnum; k++) {
    const h = shoff + k * shentsize;
    raw.push({
      nameOff: u32(h),
      type: u32(h + 4),
      flags: is64 ? addr(h + 8) : u32(h + 8),
      address: is64 ? addr(h + 16) : u32(h + 12),
      offset: is64 ? addr(h + 24) : u32(h + 16),
      size: is64 ? addr(h + 32) : u32(h + 20),
    });
  }
  const strtab = raw[shstrndx];
  if (strtab.offset + strtab.size > buf.length) bad('section name table out of range');
  const nameAt = (off: number): string => {
    if (off >= strtab.size) return '';
    const start = strtab.offset + off;
    const end = buf.indexOf(0, start);
    return buf.toString('latin1', start, end < 0 || end > strtab.offset + strtab.size ? start : end);
  };
  return raw.slice(1).map((s) => ({
    name: nameAt(s.nameOff),
    type: s.type,
    alloc: (s.flags & SHF_ALLOC) !== 0,
    address: s.address,
    size: s.size,
  }));
}

export async function readElfSections(file: string): Promise<ElfSection[]> {
  let buf: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      buf = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new TinyforgeError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'input',
    );
  }
  return parseElfSections(buf, file);
}

/**
 * Differences between the ELF's allocated sections and the map's output sections (empty when the
 * map describes this ELF). Each entry is a sentence naming the section.
 */
export function compareMapWithElf(parsed: ParsedMap, elf: ElfSection[]): string[] {
  const diffs: string[] = [];
  // A script may name an output section twice (the default ARM script has two .eh_frame statements);
  // only the one ld created has an address.
  const byName = new Map(parsed.sections.filter((s) => s.address !== null).map((s) => [s.name, s]));
  for (const e of elf) {
    if (!e.alloc || e.size === 0) continue;
    const m = byName.get(e.name);
    const hx = (n: number) => '0x' + n.toString(16);
    if (!m || m.address === null) diffs.push(`section ${e.name} (${e.size} bytes) is not in the map`);
    else if (m.address !== e.address || m.size !== e.size) {
      diffs.push(
        `section ${e.name}: ELF ${e.size} bytes at ${hx(e.address)}, map ${m.size} bytes at ${hx(m.address)}`,
      );
    }
  }
  return diffs;
}
