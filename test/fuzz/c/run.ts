// Builds the libFuzzer harnesses (fuzz/*.c over sources rendered by render.ts) with clang,
// AddressSanitizer and UndefinedBehaviorSanitizer, and runs them: `make fuzz` (main.ts) and the CI
// budget (test/fuzz/cHarnesses.test.ts). Build products, working corpora and findings stay in
// .cache/fuzz/ (ignored by git).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { HARNESSES, renderFuzzSources, type HarnessName } from './render.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FUZZ_DIR = join(ROOT, 'fuzz');
export const CACHE_DIR = join(ROOT, '.cache', 'fuzz');

const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];
const CFLAGS = ['-g', '-O1', '-std=gnu99', '-DTF_NO_SECTIONS', ...SANITIZE];

async function clang(args: string[], cwd: string): Promise<void> {
  const r = await execa('clang', args, { cwd, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`clang ${args.join(' ')} failed:\n${r.all}`);
}

/** Renders the sources and seeds, then compiles every harness (two at a time). */
export async function buildHarnesses(root = CACHE_DIR): Promise<Record<HarnessName, string>> {
  renderFuzzSources(root);
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  const build = async (h: HarnessName): Promise<string> => {
    const src = join(root, 'src', h);
    const exe = join(bin, h);
    const inc = ['-I', src, '-I', FUZZ_DIR];
    if (h !== 'windows') {
      const extra = h === 'packed' && hasFunction(src, 'tf_expand8_rows') ? ['-DTF_FUZZ_EXPAND8'] : [];
      // The small harness is the model harness over two builds of one model (fuzz/fuzz_model.c).
      if (h === 'small') extra.push('-DTF_FUZZ_SMALL', '-DTFS_NO_SECTIONS');
      const source = h === 'small' ? 'model' : h;
      await clang(
        [...CFLAGS, '-fsanitize=fuzzer', ...inc, ...extra, join(FUZZ_DIR, `fuzz_${source}.c`), '-o', exe],
        src,
      );
      return exe;
    }
    // The firmware harness unchanged, main renamed, its file I/O served from memory.
    const fw = ['-I', join(ROOT, 'firmware', 'harness'), '-I', join(ROOT, 'firmware', 'include')];
    const hooks = '-DTF_HOOKS_HEADER="tf_harness_hooks.h"';
    const obj = (name: string) => join(src, `${name}.o`);
    const c = [...CFLAGS, '-fsanitize=fuzzer-no-link', ...inc, ...fw, '-c'];
    await Promise.all([
      clang([...c, hooks, join(src, 'model.c'), '-o', obj('model')], src),
      clang(
        [
          ...c,
          hooks,
          '-Dmain=tf_harness_main',
          '-Dfopen=tf_fuzz_fopen',
          '-Dfclose=tf_fuzz_fclose',
          join(ROOT, 'firmware', 'harness', 'harness.c'),
          '-o',
          obj('harness'),
        ],
        src,
      ),
      clang([...c, join(FUZZ_DIR, 'fuzz_windows.c'), '-o', obj('fuzz_windows')], src),
    ]);
    await clang(
      [...CFLAGS, '-fsanitize=fuzzer', obj('fuzz_windows'), obj('harness'), obj('model'), '-o', exe],
      src,
    );
    return exe;
  };
  const out = {} as Record<HarnessName, string>;
  for (let i = 0; i < HARNESSES.length; i += 2) {
    const pair = HARNESSES.slice(i, i + 2);
    const exes = await Promise.all(pair.map(build));
    pair.forEach((h, k) => (out[h] = exes[k]));
  }
  return out;
}

/**
 * The packed harness built with TF_FUZZ_SELFTEST: its operand buffers are one word short, so the
 * fuzzer must report a heap overflow (the pipeline's own check: flags, sanitizers, exit status).
 */
export async function buildSelftest(root = CACHE_DIR): Promise<string> {
  const src = join(root, 'src', 'packed');
  const exe = join(root, 'bin', 'packed-selftest');
  const inc = ['-I', src, '-I', FUZZ_DIR];
  await clang(
    [
      ...CFLAGS,
      '-fsanitize=fuzzer',
      ...inc,
      '-DTF_FUZZ_SELFTEST',
      join(FUZZ_DIR, 'fuzz_packed.c'),
      '-o',
      exe,
    ],
    src,
  );
  return exe;
}

function hasFunction(src: string, name: string): boolean {
  const file = join(src, 'model.c');
  return existsSync(file) && new RegExp(`\\b${name}\\(`).test(readFileSync(file, 'utf8'));
}

export interface FuzzRun {
  harness: HarnessName;
  /** libFuzzer's exit code: 0 = no finding. */
  exitCode: number;
  executions: number;
  /** Coverage counters (cov:) and features (ft:) at the end. */
  cov: number;
  ft: number;
  seconds: number;
  /** The finding's report (empty without one), and where libFuzzer saved the input. */
  report: string;
  artifacts: string[];
}

export interface FuzzBudget {
  seconds?: number;
  runs?: number;
}

/** Runs one harness on its working corpus (seeded from the real-model seeds) for a budget. */
export async function runHarness(
  h: HarnessName,
  exe: string,
  budget: FuzzBudget,
  root = CACHE_DIR,
): Promise<FuzzRun> {
  const corpus = join(root, 'corpus', h);
  const findings = join(root, 'findings');
  mkdirSync(corpus, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const before = new Set(readdirSync(findings));
  const args = [
    `-artifact_prefix=${findings}/${h}-`,
    '-print_final_stats=1',
    // A hang (5 s for one input) and an allocation above 256 MB are findings too.
    '-timeout=5',
    '-malloc_limit_mb=256',
    '-rss_limit_mb=1024',
    ...(budget.runs !== undefined ? [`-runs=${budget.runs}`] : []),
    ...(budget.seconds !== undefined ? [`-max_total_time=${budget.seconds}`] : []),
    corpus,
    join(root, 'seeds', h),
  ];
  const t0 = Date.now();
  const r = await execa(exe, args, { reject: false, all: true, cwd: root });
  const text = r.all ?? '';
  const num = (re: RegExp): number => {
    const all = [...text.matchAll(re)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  };
  const artifacts = readdirSync(findings).filter((f) => !before.has(f) && f.startsWith(`${h}-`));
  const failed = r.exitCode !== 0;
  return {
    harness: h,
    exitCode: r.exitCode ?? -1,
    executions: num(/stat::number_of_executed_units:\s*(\d+)/g),
    cov: num(/\bcov: (\d+)/g),
    ft: num(/\bft: (\d+)/g),
    seconds: (Date.now() - t0) / 1000,
    report: failed ? text.split('\n').slice(-80).join('\n') : '',
    artifacts: artifacts.map((f) => join(findings, f)),
  };
}

export function describeRun(r: FuzzRun): string {
  const head = `${r.harness}: ${r.executions} executions in ${r.seconds.toFixed(0)} s, cov ${r.cov}, ft ${r.ft}`;
  return r.exitCode === 0
    ? `${head}, no finding`
    : `${head}, FINDING (exit ${r.exitCode}) ${r.artifacts.join(' ')}`;
}
