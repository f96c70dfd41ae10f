// PLACEHOLDER until its issue lands: replaced by the real command.
import type { CommandModule } from 'yargs';
import { TinyforgeError } from '../../util/errors.js';

export const doctorCommand: CommandModule = {
  command: 'doctor',
  describe: 'Check the cross toolchain and emulator (versions found, or how to install them)',
  handler: () => {
    throw new TinyforgeError("'doctor' is not available in this build yet", 'usage');
  },
};
