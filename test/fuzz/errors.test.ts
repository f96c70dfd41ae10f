// docs/errors.md, row by row: each class of bad input (test/fuzz/errorCases.ts) gives the row's
// message and, through the CLI's own reportError, the row's exit code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/output.js';
import { EXIT_CODES, TinyforgeError } from '../../src/util/errors.js';
import { initBackend } from '../../src/train/backend.js';
import { ERROR_CASES } from './errorCases.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

interface Row {
  id: string;
  message: string;
  exit: number;
}

const rows: Row[] = [...DOC.matchAll(/^\| `([a-z0-9-]+)` \| .* \| `(.*)` \| (\d) \|$/gm)].map((m) => ({
  id: m[1],
  message: m[2],
  exit: Number(m[3]),
}));

/** The documented message as a regular expression: `<...>` placeholders match any text. */
function pattern(doc: string): RegExp {
  const parts = doc.split(/<[^<>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}$`, 's');
}

describe('docs/errors.md', () => {
  it('lists every case, and every row has one', () => {
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.map((r) => r.id).sort()).toEqual(Object.keys(ERROR_CASES).sort());
  });

  it('documents each category with its exit code', () => {
    for (const [category, code] of Object.entries(EXIT_CODES))
      expect(DOC).toContain(`| \`${category}\` | ${code} |`);
  });

  for (const row of rows) {
    it(`${row.id}: the documented message and exit code ${row.exit}`, async () => {
      await initBackend({ quiet: true });
      const dir = mkdtempSync(join(tmpdir(), `tf-err-${row.id}-`));
      let err: unknown;
      try {
        await ERROR_CASES[row.id](dir);
      } catch (e) {
        err = e;
      }
      try {
        expect(err).toBeInstanceOf(TinyforgeError);
        expect((err as TinyforgeError).message).toMatch(pattern(row.message));
        const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
        const code = reportError(err);
        quiet.mockRestore();
        expect(code).toBe(row.exit);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
