// docs/import.md lists what imports: every Keras class, TFLite builtin and ONNX op type an operator
// module maps appears there, so the page cannot fall behind the registry.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registeredOps } from '../../src/ops/registry.js';

const DOC = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'import.md'),
  'utf8',
);

describe('docs/import.md', () => {
  it('names every mapped Keras class, TFLite operator and ONNX op type', () => {
    const names = registeredOps().flatMap((op) => [
      ...(op.keras?.classNames ?? []),
      ...(op.tflite?.opNames ?? []),
      ...(op.onnx?.opTypes ?? []),
    ]);
    const missing = [...new Set(names)].filter((n) => !new RegExp(`\\b${n}\\b`).test(DOC));
    expect(missing).toEqual([]);
  });
});
