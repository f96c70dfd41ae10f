// Runs one CLI command in-process through yargs (a subprocess per case is too slow on 2 cores):
// stdout, stderr and the exit code the real CLI would return.
import type { CommandModule } from 'yargs';
import yargs from 'yargs';
import { vi } from 'vitest';
import { reportError } from '../../src/cli/output.js';

export async function runCommand(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  command: CommandModule<any, any>,
  args: string[],
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  let code = 0;
  try {
    await yargs(args)
      .scriptName('tinyforge')
      .exitProcess(false)
      .strict()
      .fail((msg, error) => {
        throw error ?? Object.assign(new Error(msg), { usage: true });
      })
      .command(command)
      .parseAsync();
  } catch (error) {
    code = reportError(error);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err, code };
}
