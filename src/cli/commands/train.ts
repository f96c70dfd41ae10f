// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const trainCommand: CommandModule = {
  command: 'train',
  describe: 'Train a 1D CNN on UCI HAR or synthetic windows',
  handler: () => {
    throw new TinyforgeError("'train' is not available in this build yet", 'usage');
  },
};
