// Sizes and addresses in board files: a number, or a string "0x08000000", "131072", "128K", "1M".
import { z } from 'zod';

export const quantity = z
  .union([z.number().int().nonnegative(), z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)[KM]?$/)])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const unit = v.endsWith('K') ? 1024 : v.endsWith('M') ? 1024 * 1024 : 1;
    return Number(unit === 1 ? v : v.slice(0, -1)) * unit;
  })
  .refine((n) => Number.isSafeInteger(n) && n <= 0xffffffff, 'must fit in 32 bits');
