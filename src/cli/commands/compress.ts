// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const compressCommand: CommandModule = {
  command: 'compress <model>',
  describe: 'Prune, quantize and code a trained model into a .tfm file',
  handler: () => {
    throw new TinyforgeError("'compress' is not available in this build yet", 'usage');
  },
};
