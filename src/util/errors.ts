// One error type for everything the user can cause or fix; the CLI prints its message and hint
// (never a stack trace) and exits with the code of its category.

export type ErrorCategory =
  | 'usage' // wrong flags or arguments
  | 'input' // a data, model or map file is missing, malformed or inconsistent
  | 'model' // the model graph is not supported or inconsistent
  | 'toolchain' // arm-none-eabi-gcc / qemu missing or failing
  | 'build' // the firmware does not compile or does not fit
  | 'run' // the emulator timed out, crashed or the firmware failed
  | 'mismatch' // target and host reference disagree
  | 'threshold'; // `tinyforge check`: a measured figure is beyond its limit

export const EXIT_CODES: Record<ErrorCategory, number> = {
  usage: 2,
  input: 3,
  model: 4,
  toolchain: 5,
  build: 6,
  run: 7,
  mismatch: 8,
  threshold: 1,
};

export class TinyforgeError extends Error {
  constructor(
    message: string,
    readonly category: ErrorCategory,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TinyforgeError';
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }
}
