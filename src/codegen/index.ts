// The C generator: compressed model -> fixed-point C sources and a static memory plan.
export {
  generateC,
  type GenerateOptions,
  type GeneratedC,
  type GeneratedFile,
  type CodegenReport,
} from './generate.js';
export {
  planMemory,
  alignUp,
  ARENA_ALIGN,
  type MemoryPlan,
  type PlanStep,
  type AliasKind,
} from './planner.js';
export { FILE_NAMES } from './viewTypes.js';
export { writeSources } from './writeSources.js';
export { parseRamOption, ramOptionText, fastKeptWarning, AUTO_SLACK_BYTES } from './ramChoice.js';
export type { RamOption } from './viewTypes.js';
export { applyPrefix, checkPrefix, DEFAULT_PREFIX, prefixedFileName } from './prefix.js';
