// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const sweepCommand: CommandModule = {
  command: 'sweep',
  describe: 'Grid of compression settings on real binaries: accuracy vs true memory',
  handler: () => {
    throw new TinyforgeError("'sweep' is not available in this build yet", 'usage');
  },
};
