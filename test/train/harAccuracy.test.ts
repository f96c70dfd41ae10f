// The acceptance figure, CI only (minutes): the default architecture trained with the default
// settings on UCI HAR reaches >= 92% float accuracy on the official test split with <= 20k
// parameters. Locally: TINYFORGE_SLOW_TESTS=1 npx vitest run test/train/harAccuracy.test.ts
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainModel } from '../../src/train/trainer.js';

const realDir = process.env.UCI_HAR_DIR ?? resolve(__dirname, '../../../shared/data/uci-har');
const enabled = process.env.CI === 'true' || process.env.TINYFORGE_SLOW_TESTS === '1';

describe('default HAR model on UCI HAR', () => {
  it.runIf(enabled)(
    'reaches >= 92% test accuracy with <= 20k parameters',
    async () => {
      expect(existsSync(realDir), `UCI HAR not found at ${realDir} (set UCI_HAR_DIR)`).toBe(true);
      const { summary } = await trainModel({ data: realDir, progress: 'log', quietBackend: true });
      expect(summary.testWindows).toBe(2947);
      expect(summary.params).toBeLessThanOrEqual(20_000);
      expect(summary.testAccuracy).toBeGreaterThanOrEqual(0.92);
    },
    30 * 60_000,
  );
});
