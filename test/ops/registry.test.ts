// The operator registry's rules (docs/architecture.md): outside the operator modules and the
// templates no source file names a layer kind; every operator has what every stage asks of it;
// the source tree has no import cycles.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registeredOps } from '../../src/ops/registry.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : ext.test(name) ? [path] : [];
  });
}

const kinds = registeredOps().map((op) => op.kind);

describe('operator registry', () => {
  it('no source file outside src/ops names a layer kind', () => {
    const quoted = new RegExp(`(['"\`])(${kinds.join('|')})\\1`);
    // Comments too: a comment listing kinds is per-kind knowledge a new operator would have to update.
    const hits = files(SRC, /\.ts$/)
      .filter((f) => !relative(SRC, f).startsWith('ops/'))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (quoted.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(hits).toEqual([]);
  });

  it('the check would catch a kind named outside the registry', () => {
    const quoted = new RegExp(`(['"\`])(${kinds.join('|')})\\1`);
    expect(quoted.test(`if (l.kind === 'conv1d')`)).toBe(true);
    expect(quoted.test(`{ "type": "dense" }`)).toBe(true);
    expect(quoted.test('// a Conv1D layer')).toBe(false);
  });

  it('every operator has a unique kind, an architecture entry, a tfjs forward and a float forward', () => {
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const op of registeredOps()) {
      expect(op.arch.schema.shape.type.def.values, op.kind).toEqual([op.kind]);
      expect(typeof op.tfjs.forward, op.kind).toBe('function');
      expect(typeof op.floatForward, op.kind).toBe('function');
    }
  });

  it('every operator with C code has its template, and every quantized operator has a reference kernel', () => {
    for (const op of registeredOps()) {
      if (op.codegen) {
        const template = join(ROOT, 'templates', 'kernels', `${op.kind}.c.hbs`);
        expect(statSync(template, { throwIfNoEntry: false })?.isFile(), template).toBe(true);
        expect(op.quantized, op.kind).toBeDefined();
      }
      if (op.quantized) expect(typeof op.quantized.reference, op.kind).toBe('function');
    }
  });
});

/** Relative imports of a module that exist at run time (type-only imports are erased). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+'(\.[^']+)'/gms)].map(
    (m) => m[1],
  );
  const bare = [...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)].map((m) => m[1]);
  return [...specs, ...bare].map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

describe('source tree', () => {
  it('has no import cycles', () => {
    const graph = new Map(files(SRC, /\.ts$/).map((f) => [f, runtimeImports(f)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) if (graph.has(g)) visit(g, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
