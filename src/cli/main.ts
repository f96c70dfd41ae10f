#!/usr/bin/env node
// tinyforge CLI: one yargs command module per pipeline stage (src/cli/commands/*).
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { reportError } from './output.js';

// TensorFlow.js's own console notes are not for tinyforge's users: on the first tensor of a
// command that does not train (import writes a tfjs model directory) its CPU backend urged them to
// install tfjs-node, which cannot be installed offline. tinyforge says which backend it trains on.
tf.enableProdMode();

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('tinyforge')
    .usage(
      '$0 <command> [options]\n\nTrained 1D CNN -> compressed Cortex-M4 firmware, measured on the target.',
    )
    .strict()
    .demandCommand(1, 'Name a command: see the list above.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      if (err) throw err;
      throw Object.assign(new Error(msg), { usage: true });
    });
  for (const c of commands) cli = cli.command(c);
  await cli.parseAsync();
}

main().catch((err: unknown) => {
  process.exitCode = reportError(err);
});
