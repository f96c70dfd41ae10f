// The typed view of a compressed model that the C templates render. Templates receive numbers and
// flags only: every shape, stride, padding, shift and arena offset is a plain integer that lands in
// the C as a literal (gcc then unrolls and folds), and every C name is declared by a template.

/** Names of the generated files. */
export const FILE_NAMES = {
  source: 'model.c',
  header: 'model.h',
  fixedpoint: 'tf_fixedpoint.h',
  /** TFLite's int8 arithmetic: only models of scheme 'tflite-int8' include it. */
  fixedpointTflite: 'tf_fixedpoint_tflite.h',
} as const;

/** Where a kernel's input or output lives: the arena at a byte offset, or a caller's buffer. */
export interface TensorRef {
  arena: boolean;
  /** Byte offset in the arena. */
  offset: number;
  /** The caller's buffer (kernel parameter `input` or `logits`). */
  input: boolean;
  logits: boolean;
}

export interface HuffmanView {
  L: number;
  symbols: number;
  /** Offsets (in uint16 entries) of the parts of the table array. */
  firstCodeAt: number;
  countAt: number;
  offsetAt: number;
  symbolsAt: number;
  entries: number;
  /** Exact table bytes, 2 * entries (what the compressor reports as tableBytes). */
  bytes: number;
  /** Declared entries: rounded up to a multiple of 2 (4 bytes), see WeightsView.declaredBytes. */
  declaredEntries: number;
  data: Uint16Array;
}

export interface WeightsView {
  coding: 'packed' | 'huffman' | 'rle-huffman';
  packed: boolean;
  huffman: boolean;
  rle: boolean;
  bits: number;
  rows: number;
  rowLength: number;
  /** Bytes of the bitstream: the bound the bit reader enforces. */
  bytes: number;
  /**
   * Declared length: a multiple of 4 (at least 4). Every array in the weights and tables sections
   * is 4-aligned with a size that is a multiple of 4, so a section's size is the sum of its arrays
   * in any order the compiler emits them: the plan's byte counts are the linker map's.
   */
  declaredBytes: number;
  bitLength: number;
  /** The bitstream (one zero byte when empty: C has no empty arrays). */
  data: Uint8Array;
  /** 8-bit packed weights that are whole bytes: kernels read them straight from flash. */
  direct: boolean;
  table: HuffmanView | null;
}

/**
 * TFLite's requantization of an int8 weighted layer (scheme 'tflite-int8'): per output channel a Q0.31
 * multiplier and a shift (TFLite's sign: positive is left), the output zero point and the fused
 * activation's clamp. The layer's kernel calls tf_req8_<ident>(acc, o) (templates/kernels/req8def),
 * acc = bias + sum (x - input zero point) * w.
 */
export interface Int8RequantView {
  /** FullyConnected rounds once (tfl_requant_single), Conv2D and DepthwiseConv2D twice. */
  single: boolean;
  /** -(input zero point): added to every input value before it is multiplied. */
  inOffset: number;
  outZeroPoint: number;
  min: number;
  max: number;
  /** One multiplier and shift for every channel: literals, no arrays. */
  uniform: boolean;
  multiplier: number;
  shift: number;
  multipliers: Int32Array;
  shifts: Int8Array;
  /** Declared lengths (multiples of 4 bytes) and bytes in .rodata.tf_tables.<layer>. */
  shiftDeclared: number;
  tableBytes: number;
  /**
   * The Cortex-M4 form (tfl_requant_double_fast / _single_fast) gives the same bits for every channel
   * (tflite.ts fastRequant): then each channel's right shift and offset 2^(right - 1) + output zero
   * point * 2^right (arrays tf_e_ and tf_r_ instead of the shifts tf_q_ when not uniform; right and
   * offset: channel 0's).
   */
  fast: boolean;
  right: number;
  offset: number;
  rights: Uint8Array;
  offsets: Int32Array;
}

/** Requantization of a weighted layer: bias and shift per output channel. */
export interface RequantView {
  /** Scheme 'tflite-int8': TFLite's requantization (then relu and the shifts are unused). */
  int8: Int8RequantView | null;
  relu: boolean;
  /** The biases need an array (else one literal, `biasConst`, serves every channel). */
  biasArray: boolean;
  biasConst: number;
  bias: Int32Array;
  biasBytes: number;
  /** The shift when it is the same for every output channel, else null (then an array). */
  shift: number | null;
  shiftArray: boolean;
  shifts: number[];
  /** Declared length of the shift array (a multiple of 4). */
  shiftDeclared: number;
  shiftBytes: number;
}

/** The decoder and MAC functions model.c may emit: only those some kernel calls are. */
export type UsedFunction =
  | 'mac'
  | 'bits'
  | 'packed'
  | 'expand8'
  | 'packedRows'
  | 'huffToken'
  | 'huffRows'
  | 'huffRowsChecked'
  | 'huffRowsFast'
  | 'rle'
  | 'rleRows'
  | 'rleList'
  | 'rleListChecked'
  | 'rleListFast'
  | 'macDense'
  | 'macSparse'
  | 'huffLut'
  | 'smallToken';

/** The kernel a weighted layer runs, for the codegen report. */
export interface KernelChoice {
  /**
   * SMLAD over four decoded filters at a time, SMLAD over four whole-byte rows read where they are
   * (one window: Dense), or SMLATB over one filter's non-zero list.
   */
  inner: 'smlad' | 'smlad-rows' | 'smlatb-list' | 'small';
  windows: number;
  lutBits: number | null;
  slowPath: boolean;
}

export interface LayerViewBase {
  index: number;
  /** The layer name (templates print it with cString / cComment). */
  name: string;
  /** C identifier fragment, unique in the model; also the <layer> of section names. */
  ident: string;
  /** The operator kind, as the report names it. */
  kind: string;
  /** Template partial name: 'kernels/<kind>'. */
  kernel: string;
  /** Positions of the input (T, or H x W of a rank-3 tensor) and its channels; likewise the output. */
  inT: number;
  inC: number;
  outT: number;
  outC: number;
  inSize: number;
  outSize: number;
  input: TensorRef;
  /** Every tensor the layer reads, in order (input is the first; merges read several). */
  inputs: TensorRef[];
  output: TensorRef;
  /** The output shares the input's bytes (view or in place). */
  inPlace: boolean;
  /** Arena byte offset of this layer's scratch. */
  scratchAt: number;
  scratchBytes: number;
  weightBytes: number;
  tableBytes: number;
  /** Of tableBytes: a lookup table computed at compile time (table activations). */
  lookupTableBytes: number;
  /** Coded weights and their requantization (weighted layers), else null. */
  weights: WeightsView | null;
  requant: RequantView | null;
  kernelChoice: KernelChoice | null;
  /** Decoder and MAC functions this layer's kernel calls. */
  uses: UsedFunction[];
  /** The kernel returns a status (it decodes a bitstream). */
  hasStatus: boolean;
  /** The layer has a kernel function (a view such as Flatten has none). */
  hasCode: boolean;
}

/** An operator's view: the base plus its own fields, which only its template reads. */
export type LayerView = LayerViewBase & Record<string, unknown>;

/** What an operator's view builder may ask of the model being compiled. */
export interface ViewContext {
  /** Data its codegen.prepare returned. */
  prepared: unknown;
}

/** A model of scheme 'tflite-int8': its input and output quantization (model.h states them). */
export interface AffineView {
  inputScale: number;
  inputZeroPoint: number;
  outputScale: number;
  outputZeroPoint: number;
  /** The TFLite arithmetic header model.c includes. */
  header: string;
}

/**
 * The host's input quantization (src/reference/input.ts quantizeWindow) as C literals that hold the
 * host's values exactly (hexadecimal floating constants): mean and std per channel (binary64), and
 * 2^inputFrac (pow2) or TFLite's float32 input scale and zero point (affine).
 */
export interface QuantizeView {
  mean: string[];
  std: string[];
  pow2: string;
  affine: { scale: string; zeroPoint: string; infFrom: string; fltMax: string } | null;
}

export interface ModelView {
  version: string;
  sourceName: string;
  fixedpointHeader: string;
  /** Scheme 'tflite-int8' (else null): TFLite's affine int8 arithmetic. */
  tflite: AffineView | null;
  header: string;
  inputT: number;
  inputC: number;
  inputSize: number;
  inputFrac: number;
  numClasses: number;
  classNames: string[];
  mean: number[];
  std: number[];
  arenaBytes: number;
  /** Length of tf_arena_t's byte view: arenaBytes, at least 4 (C has no empty arrays). */
  arenaDeclBytes: number;
  /** Alignment the plan's offsets assume (ARENA_ALIGN): TF_ARENA_ALIGN. */
  arenaAlign: number;
  scratchBytes: number;
  weightBytes: number;
  tableBytes: number;
  /** tf_quantize_input's constants, as exact C literals. */
  quantize: QuantizeView;
  /** Model output is the (viewed) input: tf_model_run copies it. */
  copyOutput: boolean;
  layers: LayerView[];
  /** Some layer decodes a bitstream (tf_model_run keeps a status). */
  anyCoded: boolean;
  /** Which decoder and MAC functions the kernels call: only those are emitted. */
  uses: Record<UsedFunction, boolean>;
}

/**
 * Kernel family per layer (--ram): 'fast' everywhere (the default), 'small' everywhere it exists, or
 * 'auto': fast for each layer unless its step pushes the arena over `bytes` (default: the liveness
 * optimum + AUTO_SLACK_BYTES), src/codegen/ramChoice.ts.
 */
export type RamOption = { mode: 'fast' } | { mode: 'small' } | { mode: 'auto'; bytes?: number };

export interface ViewOptions {
  /** Shown in the generated files' banner (e.g. the .tfm path); no timestamps, output is reproducible. */
  sourceName?: string;
  version?: string;
  ram?: RamOption;
  /** Namespace of every C name (src/codegen/prefix.ts); default 'tf_'. */
  prefix?: string;
}
