// Bit-exactness does not depend on the optimization level (a rounding shift or an aliasing slip
// that only shows at -O3, a call the optimizer drops at -Os): random and corner-case models at
// -O0, -Os and -O3 with -funroll-loops, and with clang -O2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareReference, runPrepared } from '../../src/reference/index.js';
import { randomInput, randomModel } from '../helpers/randomModel.js';
import { opSuite } from '../helpers/randomOps/index.js';
import { buildRunner, runRunner } from './cbuild.js';
import { edgeModels } from './models.js';

const models = [
  ...Array.from({ length: 10 }, (_, i) => randomModel(600 + i)),
  ...edgeModels().map((e) => e.model),
  ...opSuite(1, 1).map((e) => e.model),
];
const inputs = models.map((m, i) => Array.from({ length: 8 }, (_, k) => randomInput(m, 9000 + i * 100 + k)));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('generated C at other optimization levels', () => {
  const builds = [
    { cc: 'gcc', opt: ['-O0'] },
    { cc: 'gcc', opt: ['-Os'] },
    { cc: 'gcc', opt: ['-O3', '-funroll-loops'] },
    // The other compiler: its warnings are errors too, and its optimizer takes other liberties.
    { cc: 'clang', opt: ['-O2'] },
  ];
  for (const { cc, opt } of builds) {
    it(`${cc} ${opt.join(' ')}: same logits as the reference`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tf-codegen-opt-'));
      dirs.push(dir);
      const out = await runRunner(await buildRunner(dir, models, { cc, cflags: opt }), dir, models, inputs);
      expect(out.stderr).toBe('');
      expect(out.exitCode).toBe(0);
      models.forEach((m, i) => {
        const p = prepareReference(m);
        inputs[i].forEach((x, k) => {
          const got = out.results[i].windows[k];
          expect({ model: i, window: k, rc: got.rc, logits: Array.from(got.logits) }).toEqual({
            model: i,
            window: k,
            rc: 0,
            logits: Array.from(runPrepared(p, x).logits),
          });
        });
      });
    });
  }
});
