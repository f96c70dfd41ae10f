// Outputs that are sets of files are atomic too (issue 20): a `tinyforge build` or a `tinyforge
// sweep` SIGKILLed while writing leaves the previous set, or one that the CLI's own reader refuses
// (no build.json: `run` says it is no build folder; no results.json: `sweep --budget` says there are
// no results), or the new set complete; never a mix that a reader accepts.
//
// Each is killed at the moments that matter, seen by a watch on the output folder: when its staging
// folder appears (the start), when the swap begins (the first change to a visible name), a few ms
// into the swap, and at a time across the whole run. A build costs ~4 CPU seconds and the sweep's
// first run ~20, so these run only with TF_KILL_TESTS=1 or in the long fuzzing mode (README,
// "Fuzzing"); the single-file outputs (train, compress, import) are kill-tested in CI (atomic.test.ts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBuildInfo } from '../../src/measure/firmware.js';
import { checkResultFiles, type ResultsFile } from '../../src/sweep/results.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { stagingDir } from '../../src/util/files.js';
import { tempDir } from '../helpers/temp.js';
import { FUZZ_LONG } from './property.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const ENABLED = process.env.TF_KILL_TESTS === '1' || FUZZ_LONG;

/** Content hash of a folder's visible files (hidden staging folders of killed runs left out). */
function digest(dir: string, only?: (name: string) => boolean): string | null {
  if (!existsSync(dir)) return null;
  const h = createHash('sha256');
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort())
        if (!f.startsWith('.') && (p !== dir || !only || only(f))) walk(join(p, f));
    } else h.update(relative(dir, p)).update('\0').update(readFileSync(p));
  };
  walk(dir);
  return h.digest('hex');
}

interface Exit {
  code: number | null;
  stderr: string;
}

function cli(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

async function ok(args: string[]): Promise<void> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`tinyforge ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
}

type Moment = { on: 'staging' | 'swap'; afterMs: number } | { atFraction: number };

/** The names in the output folder that mark the staging of a new set and the start of its swap. */
interface Marks {
  staging(name: string): boolean;
  swap(name: string): boolean;
}

/**
 * Runs the CLI and SIGKILLs it at `m`: `afterMs` after the first change in `dir` to a name of the
 * moment's mark, or at a fraction of `fullMs`. Resolves with whether the process was killed (false:
 * it finished first).
 */
function runAndKill(args: string[], dir: string, marks: Marks, m: Moment, fullMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    let w: ReturnType<typeof watch> | undefined;
    const kill = (ms: number) => setTimeout(() => p.kill('SIGKILL'), ms);
    if ('on' in m)
      w = watch(dir, (_e, name) => {
        if (!name || !marks[m.on](name)) return;
        w?.close();
        w = undefined;
        kill(m.afterMs);
      });
    else kill(m.atFraction * fullMs);
    p.on('exit', (_code, signal) => {
      w?.close();
      resolve(signal === 'SIGKILL');
    });
  });
}

// A build stages into .build-<pid>-<hex>/ and its swap starts by removing build.json; a sweep's result
// set starts with a temporary plot or results file and its swap by removing results.json.
const BUILD_MARKS: Marks = { staging: (n) => n.startsWith('.build-'), swap: (n) => n === 'build.json' };
const SWEEP_MARKS: Marks = {
  staging: (n) => /^\.(results|error-vs|accuracy-vs)/.test(n),
  swap: (n) => n === 'results.json',
};

const MOMENTS: Moment[] = [
  { on: 'staging', afterMs: 0 },
  { on: 'swap', afterMs: 0 },
  { on: 'swap', afterMs: 1 },
  { on: 'swap', afterMs: 4 },
  { atFraction: 0.5 },
  { atFraction: 0.97 },
];

// Registered only when enabled (a heavy run behind an env var, not a skipped test).
if (ENABLED)
  describe('sets of output files survive SIGKILL (dist/ CLI)', () => {
    let root: string;
    beforeAll(() => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
      root = tempDir('tf-killset-');
    });

    it('build --out: the previous build folder, one `run` refuses, or the new one complete', async () => {
      const data = 'synthetic:train=64,test=32,seed=4';
      await ok(['train', '--data', data, '--epochs', '1', '--seed', '1', '--out', join(root, 'm')]);
      const [m8, m4] = [join(root, 'm8.tfm'), join(root, 'm4.tfm')];
      await ok(['compress', join(root, 'm'), '--out', m8, '--bits', '8']);
      await ok(['compress', join(root, 'm'), '--out', m4, '--bits', '4']);
      // The new build's firmware image, built apart (its HEX does not depend on the folder).
      const ref = join(root, 'ref');
      await ok(['build', m4, '--out', ref]);
      const refHex = readFileSync(join(ref, 'firmware.hex'));
      const out = join(root, 'fw');
      const t0 = Date.now();
      await ok(['build', m8, '--out', out]);
      const fullMs = Date.now() - t0;
      // The user's own file in the build folder stays whatever happens.
      writeFileSync(join(out, 'notes.txt'), 'mine');
      let previous = digest(out);
      const seen = new Set<string>();
      for (const m of MOMENTS) {
        const killed = await runAndKill(['build', m4, '--out', out], out, BUILD_MARKS, m, fullMs);
        expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
        const now = digest(out);
        let outcome: string;
        if (now === previous) outcome = 'previous';
        else if (!existsSync(join(out, 'build.json'))) {
          // What `run` reads first: refused as no build folder.
          expect(() => readBuildInfo(out)).toThrow(TinyforgeError);
          const r = await cli(['run', out, '--data', data, '--limit', '1']);
          expect(r.code).toBe(3);
          expect(r.stderr).toMatch(/is not a tinyforge build folder \(no build\.json\)/);
          outcome = 'refused';
        } else {
          const info = readBuildInfo(out);
          expect(info.model.crc32).toBe(readBuildInfo(ref).model.crc32);
          expect(readFileSync(join(out, 'model.tfm'))).toEqual(readFileSync(join(ref, 'model.tfm')));
          expect(readFileSync(join(out, info.files.hex as string))).toEqual(refHex);
          for (const f of Object.values(info.files).flat())
            expect(existsSync(join(out, f as string))).toBe(true);
          outcome = 'new';
        }
        seen.add(`${outcome}${killed ? '' : ' (not killed)'}`);
        if (now !== previous) {
          await ok(['build', m8, '--out', out]);
          previous = digest(out);
        }
      }
      // The staging folders of killed builds are gone after a build that finished.
      expect(readdirSync(out).filter((f) => f.startsWith('.build-'))).toEqual([]);
      console.log(`build killed at ${MOMENTS.length} moments: ${[...seen].join(', ')}`);
    }, 900_000);

    it('sweep: the previous result set, one `sweep --budget` refuses, or the new one complete', async () => {
      const out = join(root, 'sweep');
      const config = (name: string) => {
        const f = join(root, `${name}.json`);
        writeFileSync(
          f,
          JSON.stringify({
            format: 'tinyforge-sweep/1',
            name,
            data: 'synthetic:seed=3,train=64,test=32,subjects=4',
            seed: 1,
            training: { epochs: 1, batchSize: 32 },
            axes: { widths: [8], bits: [8], prune: [0], coding: ['packed'], finetuneEpochs: [0] },
          }),
        );
        return f;
      };
      const [one, two] = [config('one'), config('two')];
      const sweep = (f: string) => ['sweep', '--config', f, '--out', out, '--jobs', '1'];
      await ok(sweep(one));
      // A rerun computes nothing (the point is cached): it rewrites the result set, named 'two'.
      const t0 = Date.now();
      await ok(sweep(two));
      const fullMs = Date.now() - t0;
      await ok(sweep(one));
      const isResult = (f: string) => f.startsWith('results.') || f.endsWith('.svg') || f.endsWith('.png');
      let previous = digest(out, isResult);
      const seen = new Set<string>();
      for (const m of MOMENTS) {
        const killed = await runAndKill(sweep(two), out, SWEEP_MARKS, m, fullMs);
        const now = digest(out, isResult);
        let outcome: string;
        if (now === previous) outcome = 'previous';
        else if (!existsSync(join(out, 'results.json'))) {
          const r = await cli(['sweep', '--out', out, '--budget', '1024']);
          expect(r.code).toBe(3);
          expect(r.stderr).toMatch(/has no results\.json/);
          outcome = 'refused';
        } else {
          const file = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
          expect(file.name).toBe('two');
          expect(Object.keys(file.files ?? {}).length).toBeGreaterThanOrEqual(3);
          expect(checkResultFiles(out, file)).toEqual([]);
          expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('two');
          expect((await cli(['sweep', '--out', out, '--budget', '1024'])).code).toBe(0);
          outcome = 'new';
        }
        seen.add(`${outcome}${killed ? '' : ' (not killed)'}`);
        if (now !== previous) {
          await ok(sweep(one));
          previous = digest(out, isResult);
        }
      }
      console.log(`sweep killed at ${MOMENTS.length} moments: ${[...seen].join(', ')}`);
    }, 900_000);
  });

describe('a result set whose files changed is refused', () => {
  it('checkResultFiles names the missing and the changed files', () => {
    const dir = tempDir('tf-results-');
    const hash = (s: string) => createHash('sha256').update(s).digest('hex');
    writeFileSync(join(dir, 'results.csv'), 'a\n');
    writeFileSync(join(dir, 'results.md'), 'changed\n');
    const file = { files: { 'results.csv': hash('a\n'), 'results.md': hash('b\n'), 'x.png': hash('') } };
    expect(checkResultFiles(dir, file)).toEqual(['results.md', 'x.png']);
  });
});

describe('stagingDir', () => {
  it('removes the staging folders of processes that are gone, keeps those of running ones', async () => {
    const dir = tempDir('tf-staging-');
    // The id of a process that has exited.
    const gone = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, ['-e', '0']);
      p.on('exit', () => resolve(p.pid!));
    });
    for (const name of [`.build-${gone}-00ff`, `.build-${process.pid}-0a0a`, `.other-${gone}-00ff`, 'keep'])
      mkdirSync(join(dir, name));
    const made = stagingDir(dir, 'build');
    expect(made).toMatch(new RegExp(`/\\.build-${process.pid}-[0-9a-f]{8}$`));
    expect(readdirSync(dir).sort()).toEqual(
      [`.build-${process.pid}-0a0a`, `.other-${gone}-00ff`, 'keep', made.split('/').pop()!].sort(),
    );
  });
});
