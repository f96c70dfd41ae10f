// Which memory regions are flash and which are RAM, from the map's "Memory Configuration" alone,
// so that no particular linker script's section names are assumed.
//
// Rule, first match wins:
//   1. The region's name says it: contains FLASH or ROM (and not RAM) -> flash;
//      contains RAM (SRAM, CCMRAM, DTCMRAM, ...) and neither FLASH nor ROM -> RAM.
//   2. Otherwise its attributes decide (only the letters before a '!' count, "!w" means "not w"):
//      w -> RAM; r or x without w -> flash.
//   3. Anything else (no attributes, unknown name) is 'other' and counts in neither total.
// `RAM (xrw)` is RAM (the x does not make it flash); `rom (rwx)` is flash by its name.
import type { MemoryRegion } from './mapTypes.js';

export type RegionKind = 'flash' | 'ram' | 'other';

export function regionKind(region: Pick<MemoryRegion, 'name' | 'attributes'>): RegionKind {
  // "PROGRAM" holds the letters RAM but names program memory; let the attributes decide it.
  const name = region.name.toUpperCase().replace(/PROGRAM/g, '');
  const flashName = /FLASH|ROM/.test(name);
  const ramName = /RAM/.test(name);
  if (flashName && !ramName) return 'flash';
  if (ramName && !flashName) return 'ram';
  const attrs = region.attributes.split('!')[0].toLowerCase();
  if (attrs.includes('w')) return 'ram';
  if (attrs.includes('r') || attrs.includes('x')) return 'flash';
  return 'other';
}

export interface ClassifiedRegion extends MemoryRegion {
  kind: RegionKind;
}

export function classifyRegions(regions: MemoryRegion[]): ClassifiedRegion[] {
  return regions.map((r) => ({ ...r, kind: regionKind(r) }));
}

/** The region an address lies in (origin <= address < origin + length), or null. */
export function regionAt<R extends MemoryRegion>(regions: R[], address: number): R | null {
  return regions.find((r) => address >= r.origin && address < r.origin + r.length) ?? null;
}
