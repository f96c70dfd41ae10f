// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const compileCommand: CommandModule = {
  command: 'compile <model>',
  describe: 'Generate fixed-point C from a .tfm file',
  handler: () => {
    throw new TinyforgeError("'compile' is not available in this build yet", 'usage');
  },
};
