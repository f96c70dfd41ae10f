// From what the user names (an ELF or a map) to a size report: finds the map beside an ELF (same base
// name, .map), checks the map against the ELF, and picks up the measured peak stack from --stack or
// from a run report `run.json` beside the map/ELF (written by `tinyforge run`: {"peakStackBytes": N}).
import { readModelRam } from './modelRam.js';
import { access, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TinyforgeError } from '../util/errors.js';
import { compareMapWithElf, type ElfSection, isElf, readElfSections } from './elf.js';
import type { ParsedMap } from './mapTypes.js';
import { parseMapFile } from './parseMap.js';
import { type SizeReport, sizeReport } from './report.js';

export const RUN_REPORT_NAME = 'run.json';

const RunReport = z.object({ peakStackBytes: z.number().int().nonnegative().optional() });

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function head(file: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TinyforgeError(
      code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${code ?? String(err)}`,
      'input',
      'Name the firmware .elf (its .map must sit beside it) or the .map itself.',
    );
  }
  try {
    const buf = new Uint8Array(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function withoutExt(file: string): string {
  const ext = path.extname(file);
  return ext ? file.slice(0, -ext.length) : file;
}

/** Candidate map files for an ELF: fw.elf -> fw.map, then fw.elf.map. */
export function mapCandidates(elf: string): string[] {
  return [...new Set([withoutExt(elf) + '.map', elf + '.map'])];
}

/** Reads run.json's peakStackBytes; undefined when the file is absent or has no such field. */
export async function readPeakStack(runJson: string): Promise<number | undefined> {
  if (!(await exists(runJson))) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(await readFile(runJson, 'utf8'));
  } catch (err) {
    throw new TinyforgeError(
      `${runJson}: not a valid run report (${(err as Error).message})`,
      'input',
      'Run the firmware again to rewrite it, or delete it and pass --stack BYTES.',
    );
  }
  const parsed = RunReport.safeParse(data);
  if (!parsed.success) {
    throw new TinyforgeError(
      `${runJson}: peakStackBytes must be a non-negative integer number of bytes`,
      'input',
      'Run the firmware again to rewrite it, or delete it and pass --stack BYTES.',
    );
  }
  return parsed.data.peakStackBytes;
}

export interface LoadedSize {
  parsed: ParsedMap;
  report: SizeReport;
  mapPath: string;
  elfPath: string | null;
}

/**
 * Builds the size report for an ELF or a map file. Given an ELF, its map must be beside it and must
 * describe it (else an 'input' error); given a map, an ELF beside it is used only when it matches.
 */
export async function loadSize(
  file: string,
  opts: { top?: number; stack?: number } = {},
): Promise<LoadedSize> {
  const given = isElf(await head(file)) ? 'elf' : 'map';
  let mapPath = file;
  let elfPath: string | null = null;
  let elfSections: ElfSection[] | undefined;
  const warnings: string[] = [];

  if (given === 'elf') {
    elfPath = file;
    const candidates = mapCandidates(file);
    const found = [];
    for (const c of candidates) if (await exists(c)) found.push(c);
    if (found.length === 0) {
      throw new TinyforgeError(
        `no linker map beside ${file} (looked for ${candidates.join(', ')})`,
        'input',
        'Link with -Wl,-Map=<name>.map (tinyforge build writes one) or pass the .map file itself.',
      );
    }
    mapPath = found[0];
  }
  const parsed = await parseMapFile(mapPath);

  if (given === 'elf' && elfPath) {
    elfSections = await readElfSections(elfPath);
    const diffs = compareMapWithElf(parsed, elfSections);
    if (diffs.length > 0) {
      throw new TinyforgeError(
        `${mapPath} does not describe ${elfPath}: ${diffs.slice(0, 3).join('; ')}`,
        'input',
        'The map is left over from another link: rebuild so that ELF and map come from the same link.',
      );
    }
  } else {
    const beside = [
      withoutExt(mapPath) + '.elf',
      path.join(path.dirname(mapPath), path.basename(parsed.output.file)),
    ];
    for (const c of [...new Set(beside)]) {
      if (!(await exists(c)) || !isElf(await head(c))) continue;
      const sections = await readElfSections(c);
      const diffs = compareMapWithElf(parsed, sections);
      if (diffs.length === 0) {
        elfPath = c;
        elfSections = sections;
      } else {
        warnings.push(`${c} beside the map does not match it (${diffs[0]}); the map alone is used`);
      }
      break;
    }
  }

  let peakStack: { bytes: number; source: string } | undefined;
  if (opts.stack !== undefined) peakStack = { bytes: opts.stack, source: '--stack' };
  else {
    const dirs = [...new Set([path.dirname(mapPath), ...(elfPath ? [path.dirname(elfPath)] : [])])];
    for (const d of dirs) {
      const runJson = path.join(d, RUN_REPORT_NAME);
      const bytes = await readPeakStack(runJson);
      if (bytes !== undefined) {
        peakStack = { bytes, source: runJson };
        break;
      }
    }
  }

  const report = sizeReport(parsed, { top: opts.top, peakStack, elfSections, elf: elfPath ?? undefined });
  report.warnings.unshift(...warnings);
  const dirs = [...new Set([path.dirname(mapPath), ...(elfPath ? [path.dirname(elfPath)] : [])])];
  const model = await readModelRam(dirs, report.ram.categories.arena);
  if (model) report.ram.model = model;
  return { parsed, report, mapPath, elfPath };
}
