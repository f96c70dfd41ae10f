// The results protocol of tinyforge firmware (firmware/include/tf_target.h, firmware/README.md):
// "TF <key> <field>..." lines on stdout and the exit codes. Host-side reading of a QEMU run.
import { TinyforgeError } from '../util/errors.js';
import type { QemuRun } from './runner.js';

/** Exit codes, as TF_EXIT_* in tf_target.h (a test keeps the two in step). */
export const TARGET_EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  INPUT_OPEN: 3,
  INPUT_FORMAT: 4,
  CORRUPT: 5,
  CHECK: 6,
  STACK: 7,
  FAULT: 8,
} as const;

const MEANING: Record<number, string> = {
  0: 'finished',
  1: 'failed (abort, assert or an unspecified error)',
  2: 'was started with a wrong command line',
  3: 'could not open an input file',
  4: 'found an input file of the wrong size or format',
  5: 'found corrupt model data',
  6: 'failed a self-check',
  7: 'overflowed its stack',
  8: 'crashed (CPU fault)',
};

/** What an exit code means, for messages. */
export function describeTargetExit(code: number): string {
  return MEANING[code] ?? `exited with unexpected status ${code}`;
}

export interface TfRecord {
  key: string;
  fields: string[];
  /** 1-based line number in stdout. */
  line: number;
}

/** Every "TF <key> ..." line of a run's stdout, in order; other lines are ignored. */
export function parseTfRecords(stdout: string): TfRecord[] {
  const records: TfRecord[] = [];
  let start = 0;
  for (let line = 1; start < stdout.length; line++) {
    let end = stdout.indexOf('\n', start);
    if (end < 0) end = stdout.length;
    if (stdout.startsWith('TF ', start)) {
      const parts = stdout
        .slice(start + 3, end)
        .trim()
        .split(/ +/);
      if (parts[0]) records.push({ key: parts[0], fields: parts.slice(1), line });
    }
    start = end + 1;
  }
  return records;
}

/** label -> value of the "TF <key> <label> <integer>" records (instr, stack). */
export function integerRecords(records: TfRecord[], key: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    if (r.key !== key) continue;
    const value = Number(r.fields[1]);
    if (r.fields.length !== 2 || !Number.isSafeInteger(value)) {
      throw new TinyforgeError(
        `firmware output line ${r.line}: 'TF ${key}' needs a label and an integer, got '${r.fields.join(' ')}'`,
        'run',
      );
    }
    out.set(r.fields[0], value);
  }
  return out;
}

/** Throws TinyforgeError('run') naming the exit code's meaning and the firmware's own message. */
export function requireTargetSuccess(run: QemuRun, what: string): void {
  if (run.exitCode === TARGET_EXIT.OK) return;
  const error = parseTfRecords(run.stdout)
    .reverse()
    .find((r) => r.key === 'error');
  const detail = error ? `: ${error.fields.slice(1).join(' ')}` : '';
  throw new TinyforgeError(
    `${what} ${describeTargetExit(run.exitCode)} (exit status ${run.exitCode})${detail}`,
    'run',
    'firmware/README.md lists the exit codes; the firmware output is in the run log.',
  );
}
