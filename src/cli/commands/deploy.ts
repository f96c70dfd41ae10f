// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const deployCommand: CommandModule = {
  command: 'deploy <model>',
  describe: 'compress -> compile -> build -> run in one command',
  handler: () => {
    throw new TinyforgeError("'deploy' is not available in this build yet", 'usage');
  },
};
