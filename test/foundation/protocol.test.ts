// The results protocol: TF lines, and the exit codes agreeing between tf_target.h and TypeScript.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_INCLUDE_DIR } from '../../src/crossbuild/runtime.js';
import { describeTargetExit, integerRecords, parseTfRecords, TARGET_EXIT } from '../../src/qemu/tfLines.js';

describe('results protocol', () => {
  it('exit codes in tf_target.h and src/qemu/tfLines.ts agree', () => {
    const header = readFileSync(join(FIRMWARE_INCLUDE_DIR, 'tf_target.h'), 'utf8');
    const fromHeader = Object.fromEntries(
      [...header.matchAll(/^#define TF_EXIT_([A-Z_]+) (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
    );
    expect(fromHeader).toEqual(TARGET_EXIT);
    for (const code of Object.values(TARGET_EXIT)) {
      expect(describeTargetExit(code)).not.toMatch(/unexpected/);
    }
    expect(describeTargetExit(77)).toBe('exited with unexpected status 77');
  });

  it('parses TF lines among other output, with line numbers', () => {
    const out = 'hello\nTF instr conv1 1234\nTF  stack  peak 96 \nnot TF x\nTF error 3 input.bin\n';
    const records = parseTfRecords(out);
    expect(records).toEqual([
      { key: 'instr', fields: ['conv1', '1234'], line: 2 },
      { key: 'stack', fields: ['peak', '96'], line: 3 },
      { key: 'error', fields: ['3', 'input.bin'], line: 5 },
    ]);
    expect(integerRecords(records, 'instr')).toEqual(new Map([['conv1', 1234]]));
    expect(() => integerRecords(parseTfRecords('TF instr x y\n'), 'instr')).toThrow(/line 1/);
  });

  it('handles thousands of lines quickly and without a final newline', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `TF pred ${i} ${i % 6}`);
    const records = parseTfRecords(lines.join('\n'));
    expect(records).toHaveLength(5000);
    expect(records[4999]).toEqual({ key: 'pred', fields: ['4999', String(4999 % 6)], line: 5000 });
  });
});
