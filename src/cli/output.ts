// How the CLI talks to people and machines: errors as one message + hint and a meaningful exit code.
import { TinyforgeError } from '../util/errors.js';

/** Prints an error for a person and returns the process exit code. */
export function reportError(err: unknown): number {
  if (err instanceof TinyforgeError) {
    process.stderr.write(`tinyforge: error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && (err as Error & { usage?: boolean }).usage) {
    process.stderr.write(`tinyforge: ${err.message}\nRun 'tinyforge --help' for the commands.\n`);
    return 2;
  }
  // An unexpected failure is a tinyforge bug: keep the stack, it is what a bug report needs.
  process.stderr.write(
    `tinyforge: internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  return 1;
}

/** Prints a value as stable, indented JSON on stdout (the --json output of every command). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
