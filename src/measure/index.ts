// The target stage: build a model into measurement firmware, run it on the (emulated) board, and
// measure it against the host reference. The CLI (build, run, deploy), `make demo`, the benchmark
// and the sweep call this API.
export {
  buildModelFirmware,
  readBuildInfo,
  modelCrc,
  crcHex,
  flagsLine,
  BUILD_FILES,
  BUILD_SCHEMA,
  DEFAULT_BOARD,
  DEFAULT_OPT_LEVEL,
  HARNESS_DIR,
  type BuildInfo,
  type BuildModelFirmwareOptions,
  type ModelFirmware,
} from './firmware.js';
export {
  measureOnTarget,
  hostReference,
  agreementError,
  targetResultJson,
  TARGET_SCHEMA,
  RUN_SCHEMA,
  type HostReferenceRun,
  type LayerDifference,
  type LayerResult,
  type MeasureOnTargetOptions,
  type Mismatch,
  type TargetResult,
  type TargetResultJson,
} from './onTarget.js';
export { layerMacs, modelMacs } from './macs.js';
export { formatTargetResult } from './summary.js';
export { quantizeWindows, encodeWindowsFile, readWindowsFile, writeWindowsFile } from './windows.js';
export { parseHarnessOutput, type HarnessOutput } from './records.js';
