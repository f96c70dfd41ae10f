// Outputs are atomic (issue 20): a command killed mid-write (SIGKILL) leaves the previous output or
// none, never a half-written one. Each command is run from dist/ (`make test` builds it first) over
// an existing output, and killed at several moments around its write: a watch on the output's
// folder sees the first temporary file or folder appear and kills after 0..20 ms, and a plain timer
// kills at points across the whole run. After each kill the output must be exactly the previous one,
// or absent, or complete and from the new run.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeTfm } from '../../src/qmodel/tfm.js';
import { loadModelDir } from '../../src/train/modelDir.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Content hash of a file or of every file under a directory (relative names included). */
function digest(path: string): string | null {
  if (!existsSync(path)) return null;
  const h = createHash('sha256');
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const f of readdirSync(p).sort()) walk(join(p, f));
    else h.update(relative(path, p)).update('\0').update(readFileSync(p));
  };
  walk(path);
  return h.digest('hex');
}

/** Runs the CLI to completion; throws on a non-zero exit. */
function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tinyforge ${args.join(' ')}: exit ${code}\n${err}`)),
    );
  });
}

/**
 * Runs the CLI and SIGKILLs it: `afterWrite` ms after something new appears in `watchDir` (the
 * command's temporary output), or at `atMs` after the start. Resolves when the process is gone.
 */
function runAndKill(
  args: string[],
  kill: { watchDir: string; afterWrite: number } | { atMs: number },
): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const before = 'watchDir' in kill ? new Set(readdirSync(kill.watchDir)) : new Set<string>();
    let w: ReturnType<typeof watch> | undefined;
    const doKill = () => p.kill('SIGKILL');
    if ('watchDir' in kill)
      w = watch(kill.watchDir, { recursive: true }, (_e, name) => {
        if (name && !before.has(name)) {
          w?.close();
          w = undefined;
          setTimeout(doKill, kill.afterWrite);
        }
      });
    else setTimeout(doKill, kill.atMs);
    p.on('exit', () => {
      w?.close();
      resolve();
    });
  });
}

const KILLS: ({ afterWrite: number } | { atMs: number })[] = [
  { afterWrite: 0 },
  { afterWrite: 5 },
  { atMs: 1500 },
];

describe.runIf(existsSync(CLI) || process.env.CI === 'true')('outputs survive SIGKILL (dist/ CLI)', () => {
  let root: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (make test does)`);
    root = tempDir('tf-kill-');
  });

  const data = 'synthetic:train=64,test=32,seed=4';

  it('train --out: the previous model directory, or the new one complete', async () => {
    const out = join(root, 'model');
    await run(['train', '--data', data, '--epochs', '1', '--seed', '1', '--out', out]);
    let previous = digest(out);
    const outcomes = new Set<string>();
    for (const k of KILLS) {
      await runAndKill(
        ['train', '--data', data, '--epochs', '1', '--seed', '2', '--out', out],
        'afterWrite' in k ? { watchDir: root, afterWrite: k.afterWrite } : k,
      );
      const now = digest(out);
      if (now === previous) outcomes.add('previous');
      else if (now === null) outcomes.add('none');
      else {
        // Complete and from the new run: it loads, and its training record is the new seed's.
        loadModelDir(out);
        const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')) as { seed: number };
        expect(training.seed).toBe(2);
        outcomes.add('new');
      }
      // A previous model again for the next kill (its timestamps make it another one).
      if (now !== previous) {
        await run(['train', '--data', data, '--epochs', '1', '--seed', '1', '--out', out]);
        previous = digest(out);
      }
    }
    console.log(`train killed ${KILLS.length} times: outputs ${[...outcomes].join(', ')}`);
  }, 300_000);

  it('compress --out model.tfm: the previous file, or the new one complete', async () => {
    const model = join(root, 'float');
    await run(['train', '--data', data, '--epochs', '1', '--seed', '3', '--out', model]);
    const dir = join(root, 'tfm');
    const out = join(dir, 'm.tfm');
    mkdirSync(dir);
    await run(['compress', model, '--out', out, '--bits', '8']);
    let previous = digest(out);
    for (const k of KILLS) {
      await runAndKill(
        ['compress', model, '--out', out, '--bits', '4'],
        'afterWrite' in k ? { watchDir: dir, afterWrite: k.afterWrite } : k,
      );
      const now = digest(out);
      if (now !== previous) {
        expect(now).not.toBeNull();
        expect(decodeTfm(readFileSync(out), out).meta.bits).toBe(4);
        await run(['compress', model, '--out', out, '--bits', '8']);
        previous = digest(out);
      }
    }
  }, 300_000);

  it('import --out: the previous model directory, or the new one complete', async () => {
    const file = join(ROOT, 'test', 'fixtures', 'import', 'onnx', 'cnn2d_flatten_linear.onnx');
    const out = join(root, 'imported');
    await run(['import', file, '--out', out, '--input-mean', '0', '--input-std', '1']);
    let previous = digest(out);
    for (const k of KILLS) {
      await runAndKill(
        ['import', file, '--out', out, '--input-mean', '0.5', '--input-std', '2'],
        'afterWrite' in k ? { watchDir: root, afterWrite: k.afterWrite } : k,
      );
      const now = digest(out);
      if (now !== previous && now !== null) {
        const loaded = loadModelDir(out);
        expect(loaded.normalization.std[0]).toBe(2);
        await run(['import', file, '--out', out, '--input-mean', '0', '--input-std', '1']);
        previous = digest(out);
      }
    }
  }, 300_000);
});
