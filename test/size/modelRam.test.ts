// Model RAM in the size report: the map's arena (.bss.tf_arena of the hand-written odd.map: 0x400 =
// 1,024 B) plus run.json's inferenceStackBytes, next to build.json's liveness optimum.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSizeTable, loadSize } from '../../src/size/index.js';

const ODD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'size', 'odd.map');
const dirs: string[] = [];

function mapDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tf-size-ram-'));
  dirs.push(dir);
  copyFileSync(ODD, path.join(dir, 'odd.map'));
  for (const [name, value] of Object.entries(files))
    writeFileSync(path.join(dir, name), JSON.stringify(value));
  return path.join(dir, 'odd.map');
}

describe('size: model RAM = arena + inference stack, next to the liveness optimum', () => {
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('adds the measured inference stack to the arena and shows the optimum from build.json', async () => {
    const map = mapDir({
      'run.json': { peakStackBytes: 500, inferenceStackBytes: 200 },
      'build.json': { codegen: { livenessBytes: 768 } },
    });
    const { report } = await loadSize(map);
    expect(report.ram.model).toEqual({
      arena: 1024,
      inferenceStack: 200,
      total: 1224,
      livenessBytes: 768,
      source: path.join(path.dirname(map), 'run.json'),
    });
    expect(formatSizeTable(report)).toContain(
      'model RAM = arena 1,024 B + inference stack 200 B = 1,224 B; liveness optimum 768 B',
    );
  });

  it('leaves the optimum out without build.json, and the line out without a measured inference stack', async () => {
    const only = (await loadSize(mapDir({ 'run.json': { inferenceStackBytes: 96 } }))).report;
    expect(only.ram.model?.livenessBytes).toBeNull();
    expect(formatSizeTable(only)).toContain('model RAM = arena 1,024 B + inference stack 96 B = 1,120 B\n');
    const none = (await loadSize(mapDir({ 'run.json': { peakStackBytes: 300 } }))).report;
    expect(none.ram.model).toBeUndefined();
    expect(formatSizeTable(none)).not.toContain('model RAM');
  });
});
