// Cache keys: the same inputs always give the same key, any changed input a different one.
import { cpSync, mkdirSync, renameSync, statSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { parseSweepConfig, type SweepConfigInput } from '../../src/sweep/config.js';
import {
  canonicalJson,
  CODE_FOLDERS,
  codeDigest,
  codeVersion,
  dataIdentity,
  hashOf,
  PACKAGE_ROOT,
  pointKey,
  toolVersions,
} from '../../src/sweep/hash.js';
import { planSweep } from '../../src/sweep/sweep.js';
import { tempDir } from '../helpers/temp.js';

const DATA = {
  spec: 'synthetic',
  id: 'synthetic:abc',
  inputShape: [128, 9] as [number, number],
  classNames: ['a', 'b', 'c'],
};

const BASE: SweepConfigInput = {
  seed: 1,
  training: { epochs: 3, batchSize: 32, lr: 0.002, patience: 0 },
  compression: { lr: 0.0005, batchSize: 64, pruneScope: 'layer', calibrationWindows: 256 },
  points: [
    { width: 8, bits: 4, prune: 0.5, structured: false, perChannel: true, coding: 'auto', finetuneEpochs: 1 },
  ],
};

function keys(cfg: SweepConfigInput, data = DATA) {
  const [p] = planSweep(parseSweepConfig(cfg), data, '/out');
  return { point: p.task.hash, model: p.model.hash };
}

describe('cache keys', () => {
  it('canonical JSON ignores key order and undefined fields', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }], u: undefined })).toBe(
      '{"a":[1,{"c":3,"d":2}],"b":1}',
    );
    expect(hashOf({ x: 1, y: 2 })).toBe(hashOf({ y: 2, x: 1 }));
    expect(hashOf({ x: 1 })).not.toBe(hashOf({ x: 2 }));
    expect(() => hashOf({ x: NaN })).toThrow(RangeError);
  });

  it('the same configuration gives the same keys, also written in another order', () => {
    const a = keys(BASE);
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const reordered = reverse(BASE) as SweepConfigInput;
    expect(Object.keys(reordered)[0]).toBe('points');
    expect(keys(BASE)).toEqual(a);
    expect(keys(reordered)).toEqual(a);
    expect(a.point).toMatch(/^[0-9a-f]{16}$/);
  });

  it('every point setting changes the point key but not the model key', () => {
    const a = keys(BASE);
    const p0 = BASE.points![0];
    const variants = [
      { ...p0, bits: 5 },
      { ...p0, prune: 0.6 },
      { ...p0, structured: true },
      { ...p0, perChannel: false },
      { ...p0, coding: 'huffman' as const },
      { ...p0, finetuneEpochs: 2 },
      { ...p0, bits: 'float' as const },
    ];
    const seen = new Set([a.point]);
    for (const v of variants) {
      const k = keys({ ...BASE, points: [v] });
      expect(k.model, JSON.stringify(v)).toBe(a.model);
      expect(seen.has(k.point), JSON.stringify(v)).toBe(false);
      seen.add(k.point);
    }
  });

  it('compression settings change the point key only', () => {
    const a = keys(BASE);
    for (const c of [
      { lr: 0.001 },
      { batchSize: 32 },
      { pruneScope: 'global' as const },
      { calibrationWindows: 128 },
    ]) {
      const k = keys({ ...BASE, compression: { ...BASE.compression, ...c } });
      expect(k.model).toBe(a.model);
      expect(k.point, JSON.stringify(c)).not.toBe(a.point);
    }
  });

  it('width, training, seed and data change both keys', () => {
    const a = keys(BASE);
    const changed = [
      keys({ ...BASE, points: [{ ...BASE.points![0], width: 12 }] }),
      keys({ ...BASE, points: [{ ...BASE.points![0], width: [8, 8, 9] }] }),
      keys({ ...BASE, training: { ...BASE.training, epochs: 4 } }),
      keys({ ...BASE, training: { ...BASE.training, lr: 0.003 } }),
      keys({ ...BASE, seed: 2 }),
      keys(BASE, { ...DATA, id: 'synthetic:abd' }),
    ];
    for (const k of changed) {
      expect(k.model).not.toBe(a.model);
      expect(k.point).not.toBe(a.point);
    }
    expect(new Set(changed.map((k) => k.point)).size).toBe(changed.length);
  });

  it('equal widths written differently share the model: 8 and [8, 8, 8]', () => {
    // Both mean 8 filters in each of the 3 Conv1D layers: same architecture, same float model.
    const a = keys(BASE);
    const b = keys({ ...BASE, points: [{ ...BASE.points![0], width: [8, 8, 8] }] });
    expect(b.model).toBe(a.model);
  });

  it('the code version is part of the key', () => {
    const [p] = planSweep(parseSweepConfig(BASE), DATA, '/out');
    const recipe = {
      code: codeVersion(),
      data: DATA.id,
      model: p.model.hash,
      point: p.point,
      compression: parseSweepConfig(BASE).compression,
      seed: 1,
    };
    expect(pointKey(recipe)).toBe(p.task.hash);
    expect(pointKey({ ...recipe, code: codeVersion() + '+1' })).not.toBe(p.task.hash);
  });

  it('the data identity follows the content, not the spec', () => {
    const a = generateSynthetic({ seed: 1, train: 30, test: 12, subjects: 4 });
    const b = generateSynthetic({ seed: 1, train: 30, test: 12, subjects: 4 });
    const c = generateSynthetic({ seed: 2, train: 30, test: 12, subjects: 4 });
    expect(dataIdentity({ ...b, spec: 'elsewhere' })).toBe(dataIdentity(a));
    expect(dataIdentity(c)).not.toBe(dataIdentity(a));
    b.train.x[5] += 1e-3;
    expect(dataIdentity(b)).not.toBe(dataIdentity(a));
  });
});

describe('code version', () => {
  const TOOLS = { gcc: 'arm-none-eabi-gcc (test) 12.2.1', qemu: 'QEMU emulator version 7.2.0' };

  /** A copy of the package's code folders: the real tree may be edited while tests run. */
  function copyOfCode(): string {
    const root = tempDir('tf-code-');
    for (const f of CODE_FOLDERS) cpSync(join(PACKAGE_ROOT, f), join(root, f), { recursive: true });
    return root;
  }

  afterEach(() => {
    vi.doUnmock('node:child_process');
    vi.resetModules();
  });

  it('is stable and does not depend on where the code is', () => {
    const a = copyOfCode();
    const b = copyOfCode();
    const d = codeDigest(a, TOOLS);
    expect(d).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(codeDigest(a, TOOLS)).toBe(d);
    expect(codeDigest(b, TOOLS)).toBe(d);
  });

  it('follows the content of every file under src/, templates/ and firmware/', () => {
    const root = copyOfCode();
    const before = codeDigest(root, TOOLS);
    const seen = new Set([before]);
    for (const file of ['src/sweep/hash.ts', 'templates/model.c.hbs', 'firmware/src/startup.S']) {
      const path = join(root, file);
      const original = readFileSync(path);
      const edited = Buffer.from(original);
      edited[edited.length >> 1] ^= 1; // one bit, same length: only the content differs
      writeFileSync(path, edited);
      const changed = codeDigest(root, TOOLS);
      expect(seen.has(changed), file).toBe(false);
      seen.add(changed);
      writeFileSync(path, original);
      expect(codeDigest(root, TOOLS), file).toBe(before);
    }
    writeFileSync(join(root, 'src', 'new.ts'), '');
    expect(codeDigest(root, TOOLS)).not.toBe(before);
  });

  it('follows file names too, and ignores files outside the code folders', () => {
    const root = copyOfCode();
    const before = codeDigest(root, TOOLS);
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'main.js'), 'built');
    writeFileSync(join(root, 'README.md'), 'docs');
    expect(codeDigest(root, TOOLS)).toBe(before);
    renameSync(join(root, 'templates', 'model.h.hbs'), join(root, 'templates', 'model2.h.hbs'));
    expect(codeDigest(root, TOOLS)).not.toBe(before);
  });

  it('does not change when only mtimes change', () => {
    const root = copyOfCode();
    const before = codeDigest(root, TOOLS);
    const file = join(root, 'src', 'sweep', 'hash.ts');
    const old = new Date('2001-02-03T04:05:06Z');
    utimesSync(file, old, old);
    utimesSync(join(root, 'firmware'), old, old);
    expect(statSync(file).mtime.getTime()).toBe(old.getTime());
    expect(codeDigest(root, TOOLS)).toBe(before);
  });

  it('includes the compiler and QEMU versions', () => {
    const root = copyOfCode();
    const d = codeDigest(root, TOOLS);
    expect(codeDigest(root, { ...TOOLS, gcc: 'arm-none-eabi-gcc (test) 13.2.1' })).not.toBe(d);
    expect(codeDigest(root, { ...TOOLS, qemu: 'QEMU emulator version 8.0.0' })).not.toBe(d);
    expect(codeDigest(root, { ...TOOLS, qemu: 'missing' })).not.toBe(d);
  });

  it("calls a tool that is not on PATH 'missing'", () => {
    const path = process.env.PATH;
    process.env.PATH = tempDir('tf-empty-path-');
    try {
      expect(toolVersions()).toEqual({ gcc: 'missing', qemu: 'missing' });
    } finally {
      process.env.PATH = path;
    }
  });

  it('runs the tools only when first asked for, once per process', async () => {
    const calls: string[] = [];
    vi.resetModules();
    vi.doMock('node:child_process', async (importOriginal) => {
      const cp = await importOriginal<typeof import('node:child_process')>();
      const execFileSync = (file: string, ...rest: unknown[]) => {
        calls.push(file);
        return (cp.execFileSync as (...a: unknown[]) => unknown)(file, ...rest);
      };
      return { ...cp, execFileSync };
    });
    const hash = await import('../../src/sweep/hash.js');
    await import('../../src/sweep/sweep.js');
    expect(calls).toEqual([]);
    const v = hash.codeVersion();
    expect(calls.sort()).toEqual(['arm-none-eabi-gcc', 'qemu-system-arm']);
    expect(v).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(hash.codeVersion()).toBe(v);
    expect(calls).toHaveLength(2);
  });
});
