// Static memory plan of a sequential graph: every activation tensor gets an offset in ONE arena.
//
// Tensor 0 is the model input (the caller's buffer), tensor i+1 the output of step i. A tensor is
// live from the step that produces it to the last step that reads it. Flatten is a view (its output
// IS its input), a standalone ReLU may run in place; such tensors share one buffer. The buffer that
// holds the final output is the caller's `logits`, so neither end costs arena bytes.
//
// In a sequential graph at most two buffers are live at any step (the step's input and output),
// and consecutive buffers alternate between the bottom and the top of the arena (ping-pong), with
// the step's scratch in the gap between them. The arena is therefore exactly
// max over steps of (live buffer bytes + scratch bytes), the lower bound for any placement.

/** Offsets and sizes are multiples of this (int16 scratch and a later word-wise DSP path). */
export const ARENA_ALIGN = 4;

export function alignUp(n: number, a = ARENA_ALIGN): number {
  return Math.ceil(n / a) * a;
}

/**
 * How a step's output relates to its input:
 * 'view': always the same bytes (Flatten); 'inplace': may overwrite its input element by element
 * (ReLU), which the planner allows unless the input is the caller's (const) buffer; 'none'.
 */
export type AliasKind = 'none' | 'view' | 'inplace';

export interface PlanStep {
  name: string;
  outBytes: number;
  alias: AliasKind;
  /** Bytes of scratch the step needs while it runs (decoded filter, non-zero list). */
  scratchBytes: number;
}

export type Location = 'input' | 'logits' | 'arena';

export interface TensorPlacement {
  /** 0 = model input, i + 1 = output of step i. */
  tensor: number;
  bytes: number;
  /** Tensor whose buffer this one shares (itself when it owns its buffer). */
  buffer: number;
  location: Location;
  /** Byte offset in the arena (0 when not in the arena). */
  offset: number;
}

export interface StepPlacement {
  name: string;
  /** The output shares the input's buffer (view or in place). */
  aliased: boolean;
  scratchOffset: number;
  scratchBytes: number;
  /** Arena bytes in use while this step runs: live buffers plus scratch (aligned). */
  liveBytes: number;
}

export interface MemoryPlan {
  arenaBytes: number;
  /** Largest scratch of any step (part of the arena). */
  scratchBytes: number;
  /** Largest sum of live arena tensor bytes at any step (aligned, without scratch). */
  peakTensorBytes: number;
  /** The output is a view of the input (no computing step): tf_model_run copies it to logits. */
  copyOutput: boolean;
  tensors: TensorPlacement[];
  steps: StepPlacement[];
}

export function planMemory(inputBytes: number, steps: PlanStep[]): MemoryPlan {
  const n = steps.length;
  const bytes = [inputBytes, ...steps.map((s) => s.outBytes)];
  for (const [i, b] of bytes.entries()) {
    if (!Number.isInteger(b) || b < 1) throw new RangeError(`tensor ${i}: bad size ${b}`);
  }

  // Buffer of each tensor (the tensor that owns it).
  const root = [0];
  for (let j = 0; j < n; j++) {
    const t = j + 1;
    const { alias } = steps[j];
    const share = alias === 'view' || (alias === 'inplace' && root[j] !== 0);
    if (share && bytes[t] !== bytes[j]) {
      throw new RangeError(`step '${steps[j].name}': an aliased output must have its input's size`);
    }
    root.push(share ? root[j] : t);
  }
  const finalRoot = root[n];
  const copyOutput = finalRoot === 0;
  const locationOf = (r: number): Location => (r === 0 ? 'input' : r === finalRoot ? 'logits' : 'arena');

  // Arena buffers in order; alternate bottom (even) / top (odd).
  const arenaRoots = [...new Set(root)].filter((r) => locationOf(r) === 'arena');
  const parity = new Map(arenaRoots.map((r, k) => [r, k % 2] as const));
  const size = (r: number): number => (locationOf(r) === 'arena' ? alignUp(bytes[r]) : 0);

  let arenaBytes = 0;
  let peakTensorBytes = 0;
  let scratchBytes = 0;
  const stepLive: number[] = [];
  for (let j = 0; j < n; j++) {
    const tensorsLive = size(root[j]) + (root[j + 1] !== root[j] ? size(root[j + 1]) : 0);
    const live = tensorsLive + alignUp(steps[j].scratchBytes);
    stepLive.push(live);
    peakTensorBytes = Math.max(peakTensorBytes, tensorsLive);
    scratchBytes = Math.max(scratchBytes, alignUp(steps[j].scratchBytes));
    arenaBytes = Math.max(arenaBytes, live);
  }

  const offsetOf = (r: number): number =>
    locationOf(r) !== 'arena' ? 0 : parity.get(r) === 0 ? 0 : arenaBytes - size(r);

  const tensors: TensorPlacement[] = bytes.map((b, t) => ({
    tensor: t,
    bytes: b,
    buffer: root[t],
    location: locationOf(root[t]),
    offset: offsetOf(root[t]),
  }));

  const placedSteps: StepPlacement[] = steps.map((s, j) => {
    // Scratch sits just above the bottom buffer live at this step (if any).
    const bottom = [root[j], root[j + 1]].find((r) => locationOf(r) === 'arena' && parity.get(r) === 0);
    return {
      name: s.name,
      aliased: root[j + 1] === root[j],
      scratchOffset: s.scratchBytes > 0 && bottom !== undefined ? size(bottom) : 0,
      scratchBytes: s.scratchBytes,
      liveBytes: stepLive[j],
    };
  });

  return { arenaBytes, scratchBytes, peakTensorBytes, copyOutput, tensors, steps: placedSteps };
}
