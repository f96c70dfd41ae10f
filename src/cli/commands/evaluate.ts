// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const evaluateCommand: CommandModule = {
  command: 'evaluate <model>',
  describe: 'Accuracy of a float model or a compressed .tfm (host reference)',
  handler: () => {
    throw new TinyforgeError("'evaluate' is not available in this build yet", 'usage');
  },
};
