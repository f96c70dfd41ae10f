// --ram small|fast|auto[:BYTES] (compile, build, deploy): the kernel family per layer
// (src/codegen/ramChoice.ts).
import { AUTO_SLACK_BYTES, parseRamOption, type RamOption } from '../codegen/index.js';
import { TinyforgeError } from '../util/errors.js';

export const RAM_OPTION = {
  ram: {
    type: 'string',
    default: 'fast',
    describe:
      'kernels per layer: fast (int16 input copies, RAM decode tables), small (int8 operands from the ' +
      'arena, no decode table, in-place 1D pooling), auto[:BYTES] (fast unless the arena would exceed ' +
      `BYTES; default the liveness optimum + ${AUTO_SLACK_BYTES} B)`,
  },
} as const;

/** The parsed --ram value; a usage error names the flag and the accepted forms. */
export function ramFrom(text: string | undefined): RamOption {
  const ram = parseRamOption(text ?? 'fast');
  if (!ram)
    throw new TinyforgeError(
      `--ram ${text}: expected small, fast, auto or auto:BYTES`,
      'usage',
      'e.g. --ram small, or --ram auto:4096 to keep fast kernels while the arena fits 4,096 B',
    );
  return ram;
}
