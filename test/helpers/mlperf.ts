// The MLPerf Tiny models for tests: the shared definitions (src/bench/mlperfModels.ts), and whether
// the tests run (under CI=true the models must be there: a missing directory fails, not skips).
import { haveMlperf as present } from '../../src/bench/mlperfModels.js';

export * from '../../src/bench/mlperfModels.js';
export const haveMlperf = present();
export const runMlperf = haveMlperf || process.env.CI === 'true';
