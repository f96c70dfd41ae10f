// Fields every architecture-file entry may have (src/graph/arch.ts documents the format).
import { z } from 'zod';

/** A layer name in an architecture file: letters, digits, - . _ (starting with a letter or digit). */
export const archName = z
  .string()
  .regex(/^[A-Za-z0-9][-A-Za-z0-9._]*$/, 'letters, digits, - . _ (starting with a letter or digit)')
  .optional();
