// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const sizeCommand: CommandModule = {
  command: 'size <file>',
  describe: 'True flash and RAM from a linker map, itemized',
  handler: () => {
    throw new TinyforgeError("'size' is not available in this build yet", 'usage');
  },
};
