// `tinyforge sweep`: configuration, stages, runner, execution, results, plots (docs/sweep.md).
export * from './budget.js';
export * from './config.js';
export * from './defaults.js';
export * from './hash.js';
export * from './pareto.js';
export * from './plot.js';
export * from './pool.js';
export * from './progress.js';
export * from './result.js';
export * from './results.js';
export * from './runner.js';
export * from './stages.js';
export * from './sweep.js';
export * from './target.js';
export * from './width.js';
