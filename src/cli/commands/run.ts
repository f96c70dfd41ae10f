// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const runCommand: CommandModule = {
  command: 'run <dir>',
  describe: 'Run firmware under QEMU: on-target accuracy, host agreement, instructions, stack',
  handler: () => {
    throw new TinyforgeError("'run' is not available in this build yet", 'usage');
  },
};
