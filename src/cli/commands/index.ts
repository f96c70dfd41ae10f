// Every CLI command, in pipeline order.
import type { CommandModule } from 'yargs';
import { doctorCommand } from './doctor.js';
import { dataCommand } from './data.js';
import { trainCommand } from './train.js';
import { importCommand } from './import.js';
import { evaluateCommand } from './evaluate.js';
import { compressCommand } from './compress.js';
import { compileCommand } from './compile.js';
import { buildCommand } from './build.js';
import { exportCommand } from './export.js';
import { sizeCommand } from './size.js';
import { runCommand } from './run.js';
import { deployCommand } from './deploy.js';
import { sweepCommand } from './sweep.js';
import { checkCommand } from './check.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  doctorCommand,
  dataCommand,
  trainCommand,
  importCommand,
  evaluateCommand,
  compressCommand,
  compileCommand,
  buildCommand,
  exportCommand,
  sizeCommand,
  runCommand,
  deployCommand,
  sweepCommand,
  checkCommand,
];
