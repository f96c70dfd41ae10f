// Files that are not (whole) maps give a TinyforgeError('input') naming the file and the line,
// never a crash; an ELF without its map, or with a map from another link, is refused clearly.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSize, parseMap, parseMapFile } from '../../src/size/index.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { buildFirmware, type Firmware, FIXTURES } from './firmware.js';

async function inputError(p: Promise<unknown>): Promise<TinyforgeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TinyforgeError);
  expect((err as TinyforgeError).category).toBe('input');
  return err as TinyforgeError;
}

describe('map errors', () => {
  let fw: Firmware;
  let tmp: string;
  let lines: string[];

  beforeAll(async () => {
    fw = await buildFirmware('cm4.ld');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tf-size-err-'));
    lines = (await readFile(fw.map, 'utf8')).split('\n');
    lines.pop(); // the text ends with a newline
  });
  afterAll(async () => {
    if (fw) await rm(fw.dir, { recursive: true, force: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const write = async (name: string, text: string) => {
    const f = path.join(tmp, name);
    await writeFile(f, text);
    return f;
  };

  it('a map cut inside the memory map (at a line end) names its last line', async () => {
    const memoryMap = lines.indexOf('Linker script and memory map');
    // Cut after a symbol line, one third into the memory map.
    let keep = memoryMap + Math.floor((lines.length - memoryMap) / 3);
    while (!/^ {16}0x[0-9a-f]+ {16}\w/.test(lines[keep - 1])) keep++;
    const f = await write('cut.map', lines.slice(0, keep).join('\n') + '\n');
    const err = await inputError(parseMapFile(f));
    expect(err.message).toBe(
      `${f}:${keep}: the memory map ends without ld's OUTPUT(<file> <format>) line: the file is truncated`,
    );
    expect(err.hint).toMatch(/-Wl,-Map=/);
  });

  it('a map cut in the middle of a line names that line', async () => {
    const i = lines.findIndex((l) => l.startsWith(' .text.tf_kernels.conv'));
    const text = lines.slice(0, i + 1).join('\n') + '\n' + lines[i + 1].slice(0, 20);
    const err = await inputError(parseMapFile(await write('midline.map', text)));
    expect(err.message).toMatch(new RegExp(`midline\\.map:${i + 2}: the last line is cut off`));
  });

  it('a map cut after a wrapped section name expects the numbers on the next line', async () => {
    const i = lines.findIndex((l) => l.startsWith(' .text.tf_kernels.conv'));
    const err = await inputError(
      parseMapFile(await write('wrapped.map', lines.slice(0, i + 1).join('\n') + '\n')),
    );
    expect(err.message).toMatch(
      new RegExp(
        `wrapped\\.map:${i + 2}: expected the address, size and file of input section ` +
          `'\\.text\\.tf_kernels\\.conv' on the next line, but the file ends here`,
      ),
    );
  });

  it('a map cut before the memory map says which part is missing', async () => {
    const keep = lines.indexOf('Linker script and memory map') - 1;
    const err = await inputError(
      parseMapFile(await write('early.map', lines.slice(0, keep).join('\n') + '\n')),
    );
    expect(err.message).toMatch(
      new RegExp(`early\\.map:${keep}: .*before the 'Linker script and memory map' part`),
    );
  });

  it('a damaged line in the middle is reported at its own line number', async () => {
    const i = lines.findIndex((l) => /^ \.text\s+0x[0-9a-f]+\s+0x[0-9a-f]+ \S/.test(l));
    const bad = [...lines];
    bad[i] = bad[i].replace(/0x[0-9a-f]+ (\S+)$/, '0xzz $1');
    const err = await inputError(parseMapFile(await write('damaged.map', bad.join('\n') + '\n')));
    expect(err.message).toMatch(new RegExp(`damaged\\.map:${i + 1}: expected `));
  });

  it('a file that is not a map fails at its first line', async () => {
    const c = await write('main.c', '#include <stdio.h>\nint main(void) { return 0; }\n');
    const err = await inputError(parseMapFile(c));
    expect(err.message).toMatch(
      new RegExp(`main\\.c:1: expected a GNU ld map heading .*this is not a linker map`),
    );
    // An ELF, or JSON, is not a map either.
    expect((await inputError(parseMapFile(fw.elf))).message).toMatch(/fw\.elf:1: .*not a linker map/);
    const json = await write('package.json', '{\n  "name": "x"\n}\n');
    expect((await inputError(parseMapFile(json))).message).toMatch(/package\.json:1: /);
  });

  it('an empty file, a missing file and a map without regions are input errors', async () => {
    expect((await inputError(parseMapFile(await write('empty.map', '')))).message).toMatch(
      /empty\.map:1: the file is empty/,
    );
    expect((await inputError(parseMapFile(path.join(tmp, 'nope.map')))).message).toMatch(
      /cannot read linker map .*nope\.map: ENOENT/,
    );
    const noRegions =
      'Memory Configuration\n\nName             Origin             Length             Attributes\n\n';
    expect(() => parseMap(noRegions, 'x.map')).toThrow(
      /x\.map:4: 'Memory Configuration' lists no memory region/,
    );
  });

  it('the hand-written fixture parses and a corrupted copy does not', async () => {
    const text = await readFile(path.join(FIXTURES, 'odd.map'), 'utf8');
    expect(parseMap(text, 'odd.map').sections.length).toBeGreaterThan(5);
    const broken = text.replace(' *fill*         0x08000310       0x10 ff', ' *fill*         0x08000310');
    const line = text.split('\n').findIndex((l) => l.startsWith(' *fill*         0x08000310')) + 1;
    expect(() => parseMap(broken, 'odd.map')).toThrow(
      new RegExp(`odd\\.map:${line}: expected ' \\*fill\\* 0xADDRESS 0xSIZE'`),
    );
  });

  it('an ELF without its map says where it looked', async () => {
    const elf = path.join(tmp, 'lonely.elf');
    await copyFile(fw.elf, elf);
    const err = await inputError(loadSize(elf));
    expect(err.message).toBe(
      `no linker map beside ${elf} (looked for ${path.join(tmp, 'lonely.map')}, ${elf}.map)`,
    );
  });

  it('an ELF whose map comes from another link is refused', async () => {
    const other = await buildFirmware('cm4-model-sections.ld');
    try {
      const elf = path.join(tmp, 'mixed.elf');
      await copyFile(fw.elf, elf);
      await copyFile(other.map, path.join(tmp, 'mixed.map'));
      const err = await inputError(loadSize(elf));
      expect(err.message).toMatch(
        /mixed\.map does not describe .*mixed\.elf: section \.text: ELF \d+ bytes at 0x/,
      );
      // Given the map, the mismatching ELF beside it is only a warning.
      const { report } = await loadSize(path.join(tmp, 'mixed.map'));
      expect(report.elf).toBeNull();
      expect(report.warnings[0]).toMatch(/mixed\.elf beside the map does not match it/);
    } finally {
      await rm(other.dir, { recursive: true, force: true });
    }
  });

  it('a run.json that is not a run report is an input error naming it', async () => {
    const dir = await mkdtemp(path.join(tmp, 'run-'));
    await copyFile(fw.map, path.join(dir, 'fw.map'));
    await writeFile(path.join(dir, 'run.json'), '{"peakStackBytes": -4}');
    expect((await inputError(loadSize(path.join(dir, 'fw.map')))).message).toMatch(
      /run\.json: peakStackBytes must be/,
    );
    await writeFile(path.join(dir, 'run.json'), '{"peakStack');
    expect((await inputError(loadSize(path.join(dir, 'fw.map')))).message).toMatch(
      /run\.json: not a valid run report/,
    );
  });
});
