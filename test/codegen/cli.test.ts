import { runCommand } from '../helpers/cli.js';
// `tinyforge compile` through yargs, in process: files written, the plan printed as a table or
// JSON, and user errors (missing or damaged .tfm, unwritable --out) reported without half-written output.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCommand } from '../../src/cli/commands/compile.js';
import { generateC } from '../../src/codegen/index.js';
import { writeTfm } from '../../src/qmodel/index.js';
import { randomModel } from '../helpers/randomModel.js';

function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  return runCommand(compileCommand, args);
}

describe('tinyforge compile', () => {
  const model = randomModel(33);
  let tmp: string;
  let tfm: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tf-compile-cli-'));
    tfm = join(tmp, 'model.tfm');
    await writeTfm(tfm, model);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes model.c, model.h and tf_fixedpoint.h and prints the plan', async () => {
    const dir = join(tmp, 'out');
    const { out, err, code } = await run(['compile', tfm, '--out', dir]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['model.c', 'model.h', 'tf_fixedpoint.h']);
    const expected = generateC(model, { sourceName: 'model.tfm' });
    for (const f of expected.files) expect(readFileSync(join(dir, f.name), 'utf8')).toBe(f.content);
    for (const l of model.layers) expect(out).toMatch(new RegExp(`^${l.name}\\s+${l.kind}\\s`, 'm'));
    expect(out).toContain(`arena ${expected.plan.arenaBytes.toLocaleString('en-US')} B`);
    expect(out).toContain(`weights ${expected.report.weightBytes.toLocaleString('en-US')} B`);
  });

  it('--json gives the plan for machines and replaces earlier output', async () => {
    const dir = join(tmp, 'out-json');
    await run(['compile', tfm, '--out', dir]);
    writeFileSync(join(dir, 'model.c'), 'stale');
    const { out, code } = await run(['compile', tfm, '--out', dir, '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out) as Record<string, unknown> & { files: { name: string; bytes: number }[] };
    const expected = generateC(model, { sourceName: 'model.tfm' });
    expect(j.arenaBytes).toBe(expected.plan.arenaBytes);
    expect(j.scratchBytes).toBe(expected.plan.scratchBytes);
    expect(j.weightBytes).toBe(expected.report.weightBytes);
    expect(j.tableBytes).toBe(expected.report.tableBytes);
    expect(j.layers).toEqual(expected.report.layers);
    expect(j.files.map((f) => f.name)).toEqual(['model.c', 'model.h', 'tf_fixedpoint.h']);
    expect(readFileSync(join(dir, 'model.c'), 'utf8')).toBe(expected.files[0].content);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a missing model file as an input error and writes nothing', async () => {
    const dir = join(tmp, 'out-missing');
    const { err, code } = await run(['compile', join(tmp, 'nope.tfm'), '--out', dir]);
    expect(code).toBe(3);
    expect(err).toContain('nope.tfm');
    expect(err).toContain('hint:');
    expect(existsSync(dir)).toBe(false);
  });

  it('reports a damaged .tfm and writes nothing', async () => {
    const bad = join(tmp, 'bad.tfm');
    const bytes = readFileSync(tfm);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(bad, bytes);
    const dir = join(tmp, 'out-bad');
    const { err, code } = await run(['compile', bad, '--out', dir]);
    expect(code).toBeGreaterThanOrEqual(3);
    expect(err).toContain('bad.tfm');
    expect(existsSync(dir)).toBe(false);
  });

  it('reports an unwritable --out without leaving temporary files', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const { err, code } = await run(['compile', tfm, '--out', join(file, 'sub')]);
    expect(code).toBe(3);
    expect(err).toContain('cannot write the C sources');
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('needs --out', async () => {
    const { code } = await run(['compile', tfm]);
    expect(code).toBe(2);
  });
});
