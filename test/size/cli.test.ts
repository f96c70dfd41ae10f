import { runCommand } from '../helpers/cli.js';
// `tinyforge size` through yargs, in process: the table, --json, --top, --stack, run.json, errors.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sizeCommand } from '../../src/cli/commands/size.js';
import { CATEGORIES } from '../../src/size/index.js';
import { buildFirmware, EXPECTED, type Firmware, MODEL } from './firmware.js';

/** Runs `tinyforge <args>` with only the size command; returns stdout, stderr and the exit code. */
function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  return runCommand(sizeCommand, args);
}

describe('tinyforge size', () => {
  let fw: Firmware;
  let tmp: string;

  beforeAll(async () => {
    fw = await buildFirmware('cm4.ld');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tf-size-cli-'));
  });
  afterAll(async () => {
    if (fw) await rm(fw.dir, { recursive: true, force: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('prints the table for an ELF, using the map beside it', async () => {
    const { out, code } = await run(['size', fw.elf]);
    expect(code).toBe(0);
    expect(out).toContain(`map: ${fw.map}  (checked against ${fw.elf})`);
    expect(out).toMatch(/^Flash: [\d,]+ B of 1,048,576 B \(\d+\.\d\d%\)/m);
    expect(out).toMatch(/^RAM: [\d,]+ B of 131,072 B/m);
    const weights = EXPECTED.weights.conv1 + EXPECTED.weights.dense1;
    expect(out).toMatch(new RegExp(`^  weights\\s+${weights}\\s+\\d+\\.\\d\\d%$`, 'm'));
    expect(out).toMatch(new RegExp(`^  stack\\s+${MODEL.stack.toLocaleString('en-US')}\\s`, 'm'));
    expect(out).toMatch(/^Top 10 input sections$/m);
    expect(out).toMatch(/no measured stack: pass --stack BYTES/);
  });

  it('--json prints the documented document', async () => {
    const { out, code } = await run(['size', fw.elf, '--json', '--top', '3']);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.schema).toBe('tinyforge.size/1');
    for (const m of [doc.flash, doc.ram]) {
      expect(Object.keys(m.categories)).toEqual([...CATEGORIES]);
      expect(typeof m.total).toBe('number');
      expect(Object.values(m.categories as Record<string, number>).reduce((a, b) => a + b)).toBe(m.total);
    }
    expect(doc.flash.capacity).toBe(1024 * 1024);
    expect(doc.ram.capacity).toBe(128 * 1024);
    expect(doc.ram.reservedStack).toBe(MODEL.stack);
    expect(doc.layers.conv1).toEqual({ weights: EXPECTED.weights.conv1, tables: EXPECTED.tables.conv1 });
    expect(doc.top).toHaveLength(3);
    expect(Object.keys(doc.top[0]).sort()).toEqual([
      'address',
      'bytes',
      'category',
      'memory',
      'name',
      'object',
      'section',
    ]);
    expect(doc.ram.peakStack).toBeUndefined();
    expect(doc.ram.totalWithStack).toBeUndefined();
  });

  it('takes the peak stack from run.json beside the map, and --stack over it', async () => {
    const dir = await mkdtemp(path.join(tmp, 'run-'));
    const map = path.join(dir, 'fw.map');
    await copyFile(fw.map, map);
    await writeFile(path.join(dir, 'run.json'), JSON.stringify({ peakStackBytes: 1234, accuracy: 0.9 }));
    const fromRun = JSON.parse((await run(['size', map, '--json'])).out);
    expect(fromRun.ram.peakStack).toBe(1234);
    expect(fromRun.ram.peakStackSource).toBe(path.join(dir, 'run.json'));
    expect(fromRun.ram.totalWithStack).toBe(fromRun.ram.total - MODEL.stack + 1234);

    const flag = JSON.parse((await run(['size', map, '--json', '--stack', '800'])).out);
    expect(flag.ram.peakStack).toBe(800);
    expect(flag.ram.peakStackSource).toBe('--stack');
    expect(flag.ram.totalWithStack).toBe(flag.ram.total - MODEL.stack + 800);

    const table = (await run(['size', map, '--stack', '800'])).out;
    expect(table).toMatch(/measured peak stack: 800 B \(from --stack\); reserved by the linker: 4,096 B/);
  });

  it('errors: no map beside the ELF (exit 3), bad --top (exit 2)', async () => {
    const elf = path.join(tmp, 'alone.elf');
    await copyFile(fw.elf, elf);
    const missing = await run(['size', elf]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/tinyforge: error: no linker map beside .*alone\.elf/);
    expect(missing.err).toMatch(/hint: Link with -Wl,-Map=/);
    const usage = await run(['size', fw.elf, '--top', '-1']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--top must be a whole number >= 0/);
  });
});
