// `tinyforge check [model] [--config tinyforge.check.json]`: on-target accuracy tests for CI. Builds
// the model for each board (reusing cached builds), runs the windows on QEMU, and holds the figures
// to thresholds and to a baseline; exit 0 when all hold, 1 naming the ones that fail (docs/ci.md).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Options } from 'yargs';
import type { CommandModule } from 'yargs';
import {
  configFileToUse,
  DEFAULT_CACHE_DIR,
  DEFAULT_CONFIG_FILE,
  EVERY_CLASS,
  mergeConfig,
  parseCheckConfig,
  readCheckConfigFile,
  type RawConfig,
} from '../../check/config.js';
import { formatJunit } from '../../check/junit.js';
import { formatMarkdown } from '../../check/markdown.js';
import { measureCheck } from '../../check/measure.js';
import { formatCheckResult } from '../../check/report.js';
import { checkMeasurements, readCheckJson, thresholdError, type CheckResult } from '../../check/result.js';
import { DEFAULT_OPT_LEVEL } from '../../measure/index.js';
import { TinyforgeError } from '../../util/errors.js';
import { toJsonText, writeFileAtomic } from '../../util/files.js';
import { printJson } from '../output.js';
import { optLevelFrom, splitCFlags, withOptLevel, type OptLevelArgs } from './build.js';
import { COMPRESS_OPTIONS } from './compress.js';
import { dataOptionText } from '../data.js';

/** compress's flags without their defaults: an unset flag must not hide the configuration's value. */
const COMPRESSION_FLAGS = Object.fromEntries(
  Object.entries(COMPRESS_OPTIONS)
    .filter(([k]) => k !== 'eval-split')
    .map(([k, o]) => {
      const { default: d, ...rest } = o as Options;
      return [
        k,
        {
          ...rest,
          describe: `${String(rest.describe ?? `as tinyforge compress --${k}`)} (float model; default ${String(d)})`,
        },
      ];
    }),
) as Record<string, Options>;

/** Flag -> configuration key, for the compression settings. */
const COMPRESSION_KEYS: Record<string, string> = {
  prune: 'prune',
  structured: 'structured',
  'prune-scope': 'pruneScope',
  bits: 'bits',
  'per-channel': 'perChannel',
  coding: 'coding',
  'finetune-epochs': 'finetuneEpochs',
  seed: 'seed',
  lr: 'lr',
  'batch-size': 'batchSize',
};

/** Flag -> thresholds key (values stay strings: the schema reads "92%", "10 kB", "700k"). */
const THRESHOLD_FLAGS: Record<string, { key: string; describe: string }> = {
  'min-accuracy': { key: 'minAccuracy', describe: 'minimum on-target accuracy: 0.92 or 92%' },
  'max-accuracy-drop': {
    key: 'maxAccuracyDrop',
    describe: 'maximum float accuracy minus on-target accuracy, same windows: 0.01 or 1pt',
  },
  'max-model-flash': {
    key: 'maxModelFlash',
    describe: 'maximum model flash (weights + tables + kernels): bytes or 10kB',
  },
  'max-total-flash': { key: 'maxTotalFlash', describe: 'maximum firmware flash' },
  'max-model-ram': { key: 'maxModelRam', describe: 'maximum model RAM (arena + inference stack)' },
  'max-total-ram': { key: 'maxTotalRam', describe: 'maximum RAM (static + peak stack)' },
  'max-instructions': {
    key: 'maxInstructions',
    describe: 'maximum instructions per inference: 700000 or 700k',
  },
  agreement: {
    key: 'agreement',
    describe:
      'host agreement: bit-exact (default), off, or a minimum share of windows with the host class (0.99)',
  },
};

const THRESHOLD_OPTIONS = Object.fromEntries(
  Object.entries(THRESHOLD_FLAGS).map(([flag, t]) => [flag, { type: 'string', describe: t.describe }]),
) as Record<string, Options>;

interface CheckArgs extends OptLevelArgs {
  model?: string;
  config?: string;
  data?: string;
  split?: 'test' | 'train';
  limit?: number;
  board?: string[];
  cflags?: string;
  timeout?: number;
  'float-model'?: string;
  'cache-dir'?: string;
  'min-class-accuracy'?: string[];
  baseline?: string;
  tolerance?: string[];
  measured?: string;
  junit?: string;
  markdown?: string;
  results?: string;
  json: boolean;
}

/** "name=value" pairs (the value after the last '='), or a bare value under `bare`. */
function pairs(items: string[] | undefined, flag: string, bare?: string): Record<string, string> | undefined {
  if (!items?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.lastIndexOf('=');
    if (i < 0 && bare === undefined)
      throw new TinyforgeError(
        `--${flag} ${item}: give name=value`,
        'usage',
        'for example --tolerance modelFlash=64',
      );
    if (i < 0) out[bare as string] = item;
    else out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

/** model-flash -> modelFlash: tolerances are named either way on the command line. */
const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The flags given, in the configuration's shape (absent flags absent). */
function flagsAsConfig(a: CheckArgs): RawConfig {
  const args = a as unknown as Record<string, unknown>;
  const pick = (map: Record<string, string>) => {
    const o = Object.fromEntries(
      Object.entries(map)
        .map(([flag, key]) => [key, args[flag]])
        .filter(([, v]) => v !== undefined),
    );
    return Object.keys(o).length ? o : undefined;
  };
  const thresholds =
    pick(Object.fromEntries(Object.entries(THRESHOLD_FLAGS).map(([f, t]) => [f, t.key]))) ?? {};
  const classes = pairs(a['min-class-accuracy'], 'min-class-accuracy', EVERY_CLASS);
  if (classes) thresholds.minClassAccuracy = classes;
  const tol = pairs(a.tolerance, 'tolerance');
  const opt = optLevelFrom(a);
  return {
    model: a.model,
    data: a.data,
    split: a.split,
    limit: a.limit,
    boards: a.board?.length ? a.board : undefined,
    optLevel: opt,
    cflags: a.cflags,
    timeout: a.timeout,
    floatModel: a['float-model'],
    cacheDir: a['cache-dir'],
    compression: pick(COMPRESSION_KEYS),
    thresholds: Object.keys(thresholds).length ? thresholds : undefined,
    baseline: a.baseline,
    tolerances: tol ? Object.fromEntries(Object.entries(tol).map(([k, v]) => [camel(k), v])) : undefined,
  };
}

function writeOutput(path: string | undefined, text: string): void {
  if (path === undefined) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, text);
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [model]',
  describe: 'On-target accuracy tests for CI: build, run on QEMU, hold the figures to thresholds',
  builder: (y) => {
    return withOptLevel(
      y
        .positional('model', {
          type: 'string',
          describe: '.tfm, model directory or .h5/.keras/.tflite/.onnx (a float model is compressed first)',
        })
        .option('config', {
          type: 'string',
          describe: `check configuration (docs/ci.md; default ./${DEFAULT_CONFIG_FILE} if present); flags override it`,
        })
        .option('data', { type: 'string', describe: dataOptionText('the windows run on the target') })
        .option('split', { choices: ['test', 'train'] as const, describe: 'split to run (default test)' })
        .option('limit', { type: 'number', describe: 'run only the first N windows of the split' })
        .option('board', {
          type: 'string',
          array: true,
          describe:
            'board(s) to build and run on, e.g. --board netduinoplus2 mps2-an386 (default netduinoplus2)',
        })
        .option('cflags', { type: 'string', describe: 'extra compiler flags, one string' })
        .option('timeout', { type: 'number', describe: 'QEMU time limit in seconds per board' })
        .option('float-model', {
          type: 'string',
          describe: 'the float model, for --max-accuracy-drop (default: the one the .tfm records)',
        })
        .option('cache-dir', {
          type: 'string',
          describe: `where compressed models and builds are kept for later runs (default ${DEFAULT_CACHE_DIR})`,
        })
        .options(COMPRESSION_FLAGS)
        .option('min-class-accuracy', {
          type: 'string',
          array: true,
          describe: `minimum accuracy of every class (0.8) or of one (WALKING=0.9)`,
        })
        .options(THRESHOLD_OPTIONS)
        .option('baseline', {
          type: 'string',
          describe: "a previous check's --results (or --json) file: deltas and regressions",
        })
        .option('tolerance', {
          type: 'string',
          array: true,
          describe:
            'how much worse than the baseline a figure may be: accuracy=0.5pt modelFlash=64 instructions=2% (default 0)',
        })
        .option('measured', {
          type: 'string',
          describe:
            "check a previous check's --results file again (other limits), without building or running",
        })
        .option('junit', {
          type: 'string',
          describe: 'write JUnit XML: one test case per threshold and board',
        })
        .option('markdown', { type: 'string', describe: 'write a Markdown summary for the pull request' })
        .option('results', {
          type: 'string',
          describe: 'write the result as JSON (what --baseline reads later)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
        .example('$0 check', `everything from ./${DEFAULT_CONFIG_FILE}`)
        .example(
          '$0 check out/m.tfm --board netduinoplus2 mps2-an386 --min-accuracy 92% --max-model-flash 10kB',
          'on the data the .tfm was compressed with',
        )
        .example(
          '$0 check --baseline main.json --tolerance instructions=2% --junit junit.xml --markdown summary.md',
          'against the figures of the main branch',
        ),
    ) as never;
  },
  handler: async (a) => {
    const t0 = performance.now();
    const file = configFileToUse(a.config);
    const raw = mergeConfig(file ? readCheckConfigFile(file) : {}, flagsAsConfig(a));
    const config = parseCheckConfig(raw, file ? `${file} with the flags` : 'the flags', file !== undefined);
    const log = a.json ? () => {} : (s: string) => process.stderr.write(s + '\n');
    const optLevel = optLevelFrom({ opt: config.optLevel }) ?? DEFAULT_OPT_LEVEL;
    const measurements = a.measured
      ? readCheckJson(a.measured, '--measured')
      : await measureCheck({
          config,
          optLevel,
          cflags: splitCFlags(config.cflags),
          log,
          progress: a.json ? 'none' : 'auto',
          quiet: a.json,
        });
    const result: CheckResult = checkMeasurements(measurements, config, a.measured ?? 'this run');
    writeOutput(a.junit, formatJunit(result));
    writeOutput(a.markdown, formatMarkdown(result));
    writeOutput(a.results, toJsonText(result));
    if (a.json) printJson(result);
    else process.stdout.write(formatCheckResult(result));
    log(`check: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const err = thresholdError(result);
    if (err) throw err;
  },
};
