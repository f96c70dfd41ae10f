// `tinyforge size <elf|map>`: flash and RAM from the linker map, itemized, as a table or --json.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { formatSizeTable, loadSize } from '../../size/index.js';

interface SizeArgs {
  file: string;
  json: boolean;
  top: number;
  stack?: number;
}

function count(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 0) {
    throw new TinyforgeError(`--${name} must be a whole number >= 0, got ${v}`, 'usage');
  }
  return v;
}

export const sizeCommand: CommandModule<object, SizeArgs> = {
  command: 'size <file>',
  describe: 'True flash and RAM from a linker map, itemized',
  builder: (y) =>
    y
      .positional('file', {
        type: 'string',
        demandOption: true,
        describe: 'Firmware .elf (its .map beside it, same base name) or the .map file',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('top', {
        type: 'number',
        default: 10,
        describe: 'How many of the largest input sections to list',
      })
      .option('stack', {
        type: 'number',
        describe: 'Measured peak stack in bytes (default: peakStackBytes of run.json beside the map/ELF)',
      }),
  handler: async (args) => {
    const { report } = await loadSize(args.file, {
      top: count('top', args.top),
      stack: count('stack', args.stack),
    });
    if (args.json) printJson(report);
    else process.stdout.write(formatSizeTable(report));
  },
};
