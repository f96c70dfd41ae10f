// `tinyforge run dir/ [--data ...]`: runs a build folder's firmware on QEMU over a data split in one
// run and compares it with the host reference; exit code 8 when target and host disagree.
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { readTfm } from '../../qmodel/index.js';
import {
  agreementError,
  BUILD_FILES,
  formatTargetResult,
  measureOnTarget,
  readBuildInfo,
  targetResultJson,
} from '../../measure/index.js';
import { TinyforgeError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { pickSplit, takeWindows } from './build.js';
import { dataOptionText, describeData, type ModelData } from '../data.js';

interface RunArgs {
  dir: string;
  data?: string;
  split: 'test' | 'train';
  limit?: number;
  timeout?: number;
  trace: boolean;
  layers: boolean;
  json: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <dir>',
  describe: 'Run firmware under QEMU: on-target accuracy, host agreement, instructions, stack',
  builder: (y) =>
    y
      .positional('dir', {
        type: 'string',
        demandOption: true,
        describe: 'build folder (tinyforge build --out)',
      })
      .option('data', {
        type: 'string',
        describe: `${dataOptionText('the windows to run', 'compressed')}; not with a build with --embed`,
      })
      .option('split', { choices: ['test', 'train'] as const, default: 'test' as const })
      .option('limit', { type: 'number', describe: 'run only the first N windows of the split' })
      .option('timeout', {
        type: 'number',
        describe: 'QEMU time limit in seconds (default 60 + 0.1 per window)',
      })
      .option('trace', {
        type: 'boolean',
        default: true,
        describe: 'on a mismatch, trace the first differing window to name the layer (--no-trace: skip)',
      })
      .option('layers', {
        type: 'boolean',
        default: false,
        describe:
          'compare every layer of every window with the host reference (CRC-32 per layer; instruction counts then include it)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 run out/m8-fw', 'the whole test split of the data the model was compressed with')
      .example(
        '$0 run out/m8-fw --data ../shared/data/uci-har',
        'the whole UCI HAR test split on the target',
      ) as never,
  handler: async (a) => {
    const info = readBuildInfo(a.dir);
    const model = await readTfm(join(a.dir, BUILD_FILES.model));
    if (a.timeout !== undefined && !(a.timeout > 0)) {
      throw new TinyforgeError(`--timeout must be a positive number of seconds, got ${a.timeout}`, 'usage');
    }
    let data: { windows?: Float32Array; labels?: Int32Array; n?: number } = {};
    let chosen: ModelData | undefined;
    if (info.embed) {
      if (a.data || a.limit !== undefined) {
        throw new TinyforgeError(
          `${a.dir} was built with ${info.embed.windows} windows in flash: run it without --data / --limit`,
          'usage',
        );
      }
    } else {
      const picked = pickSplit(a.data, a.split, model, `${a.dir}/${BUILD_FILES.model}`);
      chosen = picked.data;
      const set = takeWindows(picked.set, a.limit, '--limit');
      data = { windows: set.x, labels: set.y, n: set.n };
    }
    const result = await measureOnTarget({
      buildDir: a.dir,
      model,
      ...data,
      timeoutMs: a.timeout !== undefined ? a.timeout * 1000 : undefined,
      trace: a.trace,
      layers: a.layers,
    });
    const dataLine = chosen
      ? { spec: chosen.spec, recorded: chosen.recorded, split: a.split }
      : { embedded: info.embed?.source };
    if (a.json) printJson({ ...targetResultJson(result), data: dataLine });
    else
      process.stdout.write(
        (chosen ? `data             ${describeData(chosen, a.split)}\n` : '') +
          formatTargetResult(result) +
          '\n',
      );
    const err = agreementError(result);
    if (err) throw err;
  },
};
