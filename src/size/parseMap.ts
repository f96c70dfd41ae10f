// Parser for the map file GNU ld (checked against arm-none-eabi-ld 2.40) writes with -Map.
//
// The layout follows ld's ldlang.c printers (SECTION_NAME_MAP_LENGTH = 16):
//   output section  "NAME<pad to 16>0xVMA 0xSIZE[ load address 0xLMA]"   (column 0)
//   input section   " NAME<pad>0xADDR 0xSIZE FILE"                         (column 1)
//   either name, when 15+ characters long, stands alone and the numbers follow on the next line
//   fill            " *fill*<pad>0xADDR 0xSIZE [pattern]"
//   symbol          "<16 sp>0xADDR<16 sp>NAME"
//   assignment      "<16 sp>VALUE padded to 34 columns, then the expression"
//                   (VALUE: 0x..., [0x...], [!provide], [unresolved], *undef*)
//   data statement  "<16 sp>0xADDR 0xSIZE LONG 0xVALUE"
//   pattern         " *(.text*)", " SORT_BY_NAME(*)(...)", " *crt0.o(.text)"
// A file that is not a map, or that stops early, is an 'input' error naming the line.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import type {
  MapAssignment,
  MapInputSection,
  MapItem,
  MapOutputSection,
  MemoryRegion,
  ParsedMap,
} from './mapTypes.js';

type Part = 'archive' | 'common' | 'discarded' | 'memory' | 'map' | 'cref';

const HEADINGS: Record<string, Part> = {
  'Archive member included to satisfy reference by file (symbol)': 'archive',
  'As-needed library included to satisfy reference by file (symbol)': 'archive',
  'Allocating common symbols': 'common',
  'Discarded input sections': 'discarded',
  'Memory Configuration': 'memory',
  'Linker script and memory map': 'map',
  'Cross Reference Table': 'cref',
};

const HINT =
  'Pass the map arm-none-eabi-ld writes with -Wl,-Map=<name>.map; if the link was interrupted, link again.';

const HEX = '0x([0-9a-fA-F]+)';
const RE_REGION = new RegExp(`^(\\S+)\\s+${HEX}\\s+${HEX}(?:\\s+(\\S+))?\\s*$`);
const RE_OUT_HEADER = new RegExp(`^(\\S+)(?:\\s+${HEX}\\s+${HEX}(?: load address ${HEX})?)?\\s*$`);
const RE_OUT_WRAPPED = new RegExp(`^\\s{2,}${HEX}\\s+${HEX}(?: load address ${HEX})?\\s*$`);
const RE_INPUT = new RegExp(`^ (\\S+)\\s+${HEX}\\s+${HEX}(?: (.*))?$`);
const RE_INPUT_WRAPPED = new RegExp(`^\\s{2,}${HEX}\\s+${HEX}(?: (.*))?$`);
const RE_FILL = new RegExp(`^ \\*fill\\*\\s+${HEX}\\s+${HEX}\\s*(?:[0-9a-fA-F]*)\\s*$`);
const RE_VALUE_LINE =
  /^ {2,}(0x[0-9a-fA-F]+|\[0x[0-9a-fA-F]+\]|\[!provide\]|\[unresolved\]|\*undef\*)( +)(\S.*)$/;
const RE_DATA = new RegExp(`^${HEX} (BYTE|SHORT|LONG|QUAD|SQUAD) 0x[0-9a-fA-F]+`);
const RE_ARCHIVE_MEMBER = /^(.+)\(([^()]+)\)$/;
/** Lines ld prints in the memory map that carry no bytes. */
const RE_IGNORED_INDENTED = /^ (FILL mask 0x[0-9a-fA-F]*|CONSTRUCTORS|CREATE_OBJECT_SYMBOLS)\s*$/;
const RE_IGNORED_TOP =
  /^(START GROUP|END GROUP|TARGET\(.*\)|INSERT (AFTER|BEFORE) .*|Address of section .*)$/;

function hex(s: string): number {
  return Number.parseInt(s, 16);
}

function fail(file: string, line: number, what: string): never {
  throw new TinyforgeError(`${file}:${line}: ${what}`, 'input', HINT);
}

function notAMap(file: string, line: number, text: string): never {
  const shown = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
  fail(
    file,
    line,
    `expected a GNU ld map heading such as 'Memory Configuration' or 'Archive member included ...', ` +
      `found '${shown}': this is not a linker map (arm-none-eabi-ld -Map output)`,
  );
}

function splitFile(file: string): { archive: string | null; object: string } {
  const m = RE_ARCHIVE_MEMBER.exec(file);
  if (m && !m[1].endsWith(')')) return { archive: m[1], object: m[2] };
  return { archive: null, object: path.basename(file) };
}

function inputSection(name: string, addr: string, size: string, file: string | undefined, line: number) {
  const f = (file ?? '').trim();
  const section: MapInputSection = {
    kind: 'input',
    name,
    address: hex(addr),
    size: hex(size),
    file: f,
    ...splitFile(f),
    symbols: [],
    line,
  };
  return section;
}

/**
 * An assignment and a symbol line look alike; ld pads an assignment's value to 34 columns and puts
 * 16 spaces after a symbol's address. For 32-bit addresses (10 characters) that is a gap of 24 vs 16;
 * with 64-bit addresses both gaps are 16 and the text decides.
 */
function isAssignment(value: string, gap: number, text: string): boolean {
  if (!value.startsWith('0x')) return true;
  if (value.length + gap !== 34) return false;
  if (gap !== 16) return true;
  return /^(PROVIDE(_HIDDEN)?\s*\(|HIDDEN\s*\(|ASSERT\s*\(|\.\s*=|[A-Za-z_.$][\w.$]*\s*[-+*/&|]?=)/.test(
    text,
  );
}

/** Parses the text of a GNU ld map file. `fileName` is used in error messages. */
export function parseMap(text: string, fileName: string): ParsedMap {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (text.length > 0 && text.endsWith('\n')) lines.pop();
  const lastLine = lines.length;
  if (text.trim() === '') fail(fileName, 1, 'the file is empty; expected a GNU ld map file');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (!HEADINGS[lines[first].trimEnd()]) notAMap(fileName, first + 1, lines[first]);
  if (!text.endsWith('\n')) {
    fail(
      fileName,
      lastLine,
      'the last line is cut off (no end of line); ld ends every map line, so the file is truncated',
    );
  }

  const regions: MemoryRegion[] = [];
  const sections: MapOutputSection[] = [];
  const discarded: MapInputSection[] = [];
  const assignments: MapAssignment[] = [];
  const loaded: string[] = [];
  let output: ParsedMap['output'] | null = null;
  const seen = new Set<Part>();

  let part: Part | null = null;
  let memoryHeader = false;
  let memoryDone = false;
  let out: MapOutputSection | null = null;
  let lastInput: MapInputSection | null = null;

  const expectNext = (i: number, re: RegExp, what: string): RegExpExecArray => {
    if (i + 1 >= lines.length) fail(fileName, i + 2, `${what}, but the file ends here (truncated?)`);
    const m = re.exec(lines[i + 1]);
    if (!m) fail(fileName, i + 2, what);
    return m;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const no = i + 1;
    if (line.trim() === '') {
      if (part === 'memory' && memoryHeader && regions.length > 0) memoryDone = true;
      continue;
    }
    const heading = HEADINGS[line.trimEnd()];
    if (heading) {
      part = heading;
      seen.add(heading);
      out = null;
      lastInput = null;
      continue;
    }
    if (part === null) notAMap(fileName, no, line);

    switch (part) {
      case 'archive':
      case 'common':
      case 'cref':
        // Not needed for sizes: which member satisfied which symbol, common symbol sizes, cross refs.
        continue;

      case 'memory': {
        if (!memoryHeader) {
          if (!/^Name\s+Origin\s+Length\s+Attributes\s*$/.test(line)) {
            fail(fileName, no, "expected the 'Name Origin Length Attributes' header of Memory Configuration");
          }
          memoryHeader = true;
          continue;
        }
        const m = RE_REGION.exec(line);
        if (!m || memoryDone) {
          fail(fileName, no, "expected a memory region row 'NAME 0xORIGIN 0xLENGTH [ATTRIBUTES]'");
        }
        if (m[1] !== '*default*') {
          regions.push({
            name: m[1],
            origin: hex(m[2]),
            length: hex(m[3]),
            attributes: m[4] ?? '',
            line: no,
          });
        }
        continue;
      }

      case 'discarded': {
        let m = RE_INPUT.exec(line);
        if (m) {
          discarded.push(inputSection(m[1], m[2], m[3], m[4], no));
          continue;
        }
        const lone = /^ (\S+)\s*$/.exec(line);
        if (!lone) fail(fileName, no, "expected a discarded input section ' NAME 0xADDRESS 0xSIZE FILE'");
        m = expectNext(
          i,
          RE_INPUT_WRAPPED,
          `expected the address, size and file of discarded input section '${lone[1]}' on the next line`,
        );
        discarded.push(inputSection(lone[1], m[1], m[2], m[3], no));
        i++;
        continue;
      }

      case 'map':
        break;
    }

    // ---- "Linker script and memory map" ----
    if (/^\S/.test(line)) {
      out = null;
      lastInput = null;
      if (line.startsWith('LOAD ')) {
        loaded.push(line.slice(5));
        continue;
      }
      const o = /^OUTPUT\((.+?)(?: ([\w.-]+))?\)\s*$/.exec(line);
      if (o) {
        output = { file: o[1], format: o[2] ?? '' };
        continue;
      }
      if (RE_IGNORED_TOP.test(line)) continue;
      const m = RE_OUT_HEADER.exec(line);
      if (!m)
        fail(fileName, no, "expected an output section line 'NAME 0xADDRESS 0xSIZE [load address 0xLMA]'");
      const name = m[1];
      let vma: string | undefined = m[2];
      let size: string | undefined = m[3];
      let lma: string | undefined = m[4];
      if (vma === undefined && i + 1 < lines.length) {
        // A long name stands alone, its numbers follow; an empty statement (no section) has none.
        const w = RE_OUT_WRAPPED.exec(lines[i + 1]);
        if (w) {
          [vma, size, lma] = [w[1], w[2], w[3]];
          i++;
        }
      }
      out = {
        name,
        address: vma === undefined ? null : hex(vma),
        size: size === undefined ? 0 : hex(size),
        loadAddress: lma !== undefined ? hex(lma) : vma === undefined ? null : hex(vma),
        items: [],
        line: no,
      };
      sections.push(out);
      continue;
    }

    const v = RE_VALUE_LINE.exec(line);
    if (v && !line.startsWith(' *fill*')) {
      const [, value, gap, rest] = v;
      if (rest === '(size before relaxing)') continue;
      const d = RE_DATA.exec(rest);
      if (value.startsWith('0x') && d) {
        if (!out) fail(fileName, no, 'a data statement (BYTE/SHORT/LONG/QUAD) outside an output section');
        out.items.push({ kind: 'data', type: d[2], address: hex(value.slice(2)), size: hex(d[1]), line: no });
        continue;
      }
      if (isAssignment(value, gap.length, rest)) {
        const a: MapAssignment = {
          kind: 'assignment',
          value: /^\[?0x/.test(value) ? hex(value.replace(/[[\]]/g, '').slice(2)) : null,
          text: rest.trimEnd(),
          line: no,
        };
        if (out) out.items.push(a);
        else assignments.push(a);
        continue;
      }
      if (!lastInput) fail(fileName, no, `symbol '${rest}' is not under an input section line`);
      lastInput.symbols.push({ name: rest.trimEnd(), address: hex(value.slice(2)) });
      continue;
    }

    if (!out) {
      // Patterns and statements of a section that ld left out appear only under its header.
      fail(fileName, no, 'expected an output section line before this input section line');
    }
    const fill = RE_FILL.exec(line);
    if (fill) {
      out.items.push({ kind: 'fill', address: hex(fill[1]), size: hex(fill[2]), line: no });
      continue;
    }
    if (line.startsWith(' *fill*')) fail(fileName, no, "expected ' *fill* 0xADDRESS 0xSIZE'");
    if (RE_IGNORED_INDENTED.test(line)) continue;
    let m = RE_INPUT.exec(line);
    if (m) {
      lastInput = inputSection(m[1], m[2], m[3], m[4], no);
      out.items.push(lastInput);
      continue;
    }
    const lone = /^ (\S+)\s*$/.exec(line);
    if (lone && !lone[1].includes('(')) {
      m = expectNext(
        i,
        RE_INPUT_WRAPPED,
        `expected the address, size and file of input section '${lone[1]}' on the next line`,
      );
      lastInput = inputSection(lone[1], m[1], m[2], m[3], no);
      out.items.push(lastInput);
      i++;
      continue;
    }
    if (/^ \S.*\(.*\)\s*$/.test(line)) {
      out.items.push({ kind: 'pattern', text: line.trim(), line: no });
      continue;
    }
    fail(
      fileName,
      no,
      'expected an input section, *fill*, symbol, assignment or pattern line of the memory map',
    );
  }

  if (!seen.has('memory')) {
    fail(
      fileName,
      lastLine,
      "the file ends without a 'Memory Configuration' part: truncated, or not a ld map",
    );
  }
  if (regions.length === 0) {
    fail(
      fileName,
      lastLine,
      "'Memory Configuration' lists no memory region (the linker script needs MEMORY {...})",
    );
  }
  if (!seen.has('map')) {
    fail(fileName, lastLine, "the file ends before the 'Linker script and memory map' part: it is truncated");
  }
  if (!output) {
    fail(
      fileName,
      lastLine,
      "the memory map ends without ld's OUTPUT(<file> <format>) line: the file is truncated",
    );
  }
  return { file: fileName, regions, sections, discarded, assignments, loaded, output };
}

/** Reads and parses a map file; a missing or unreadable file is an 'input' error. */
export async function parseMapFile(file: string): Promise<ParsedMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TinyforgeError(
      `cannot read linker map ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'input',
      HINT,
    );
  }
  return parseMap(text, file);
}

/** Every item of every output section, in map order (handy for tools and tests). */
export function allItems(parsed: ParsedMap): MapItem[] {
  return parsed.sections.flatMap((s) => s.items);
}
