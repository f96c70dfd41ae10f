// Every unsupported fixture of every format, through `tinyforge import`: exit code 4, a message
// naming the file, the layer/operator/node and its position and type, a hint with what is supported,
// and nothing written (no --out, no temporary folder beside it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCommand } from '../../src/cli/commands/import.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');
const EXT: Record<string, string> = { h5: 'keras', keras: 'keras', tflite: 'tflite' };

/** Keras and TFLite error cases (expected/<name>.json, error: true) in each format they were saved in. */
function kerasAndTfliteCases(): string[] {
  return readdirSync(join(FIX, 'expected')).flatMap((f) => {
    const e = JSON.parse(readFileSync(join(FIX, 'expected', f), 'utf8')) as {
      error?: boolean;
      formats?: string[];
    };
    if (!e.error) return [];
    const name = f.replace(/\.json$/, '');
    return (e.formats ?? ['h5', 'keras', 'tflite'])
      .map((fmt) => join(FIX, EXT[fmt], `${name}.${fmt}`))
      .filter((p) => existsSync(p));
  });
}

const onnxCases = (): string[] =>
  (
    JSON.parse(readFileSync(join(FIX, 'onnx', 'fixtures.json'), 'utf8')) as {
      unsupported: { file: string }[];
    }
  ).unsupported.map((u) => join(FIX, 'onnx', u.file));

describe('unsupported models through tinyforge import', () => {
  const cases = [...kerasAndTfliteCases(), ...onnxCases()];

  it('there is a case of each kind in each format', () => {
    for (const ext of ['.h5', '.keras', '.tflite', '.onnx'])
      expect(cases.filter((c) => c.endsWith(ext)).length, ext).toBeGreaterThanOrEqual(3);
  });

  for (const file of cases)
    it(`${file.slice(FIX.length + 1)}: exit 4, the node named, nothing written`, async () => {
      const dir = tempDir('tf-unsupported-');
      const out = join(dir, 'model');
      const r = await runCommand(importCommand, ['import', file, '--out', out]);
      expect(r.code, r.err).toBe(4);
      expect(r.err).toContain(file);
      // The node and its position, or what of the whole file is outside the set.
      expect(r.err).toMatch(
        /(layer|operator|node) \d+ '[^']*' \([^)]+\)|input '[^']+': a dynamic shape|has \d+ subgraphs/,
      );
      expect(r.err).toMatch(/hint: \S/);
      expect(readdirSync(dir)).toEqual([]);
    });
});
