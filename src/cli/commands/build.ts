// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const buildCommand: CommandModule = {
  command: 'build <model>',
  describe: 'Cross-compile model + harness into firmware (ELF, HEX, BIN, map, size report)',
  handler: () => {
    throw new TinyforgeError("'build' is not available in this build yet", 'usage');
  },
};
