// Static memory plan of a graph: every activation tensor gets an offset in ONE arena.
//
// Tensor 0 is the model input (the caller's buffer), tensor i+1 the output of step i. A tensor is
// live from the step that produces it to the last step that reads it (the graph's liveness). A view
// (Flatten) IS its input, an in-place step (ReLU) may overwrite its input when nothing reads that
// input later; such tensors share one buffer. The buffer that holds the final output is the
// caller's `logits`, so neither end costs arena bytes.
//
// When every step reads only the step before (a chain), at most two buffers are live at any step,
// and consecutive buffers alternate between the bottom and the top of the arena (ping-pong), with
// the step's scratch in the gap between them. The arena is then exactly max over steps of (live
// buffer bytes + scratch bytes), the lower bound for any placement. Other graphs are placed by
// first fit, largest buffer first, among the buffers whose lifetimes overlap (scratch is a buffer
// that lives during its step).

/** Offsets and sizes are multiples of this (int16 scratch and a later word-wise DSP path). */
export const ARENA_ALIGN = 4;

export function alignUp(n: number, a = ARENA_ALIGN): number {
  return Math.ceil(n / a) * a;
}

/**
 * How a step's output relates to its input:
 * 'view': always the same bytes (Flatten); 'inplace': may overwrite its input element by element
 * (ReLU; an elementwise merge overwrites its first input), which the planner allows unless the input
 * is the caller's (const) buffer or read later; 'shrink': a smaller output written over the first
 * bytes of its input, whose index never overtakes the input still to be read (a 1D pooling whose
 * stride exceeds its left padding), allowed like 'inplace' when the plan asks for in-place shrinking
 * (the small-RAM plans; fast plans keep today's layout); 'none'.
 */
export type AliasKind = 'none' | 'view' | 'inplace' | 'shrink';

export interface PlanOptions {
  /** Let 'shrink' steps write over their input (else they are 'none'). */
  shrink?: boolean;
}

export interface PlanStep {
  name: string;
  /** Tensors the step reads (0 = model input, j + 1 = output of step j); absent = [its own index]. */
  inputs?: number[];
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
  /**
   * The liveness optimum of the DAG: the most bytes of int8 tensors live in the arena during any one
   * step (each tensor aligned; the caller's input and logits are not arena bytes), with every view,
   * in-place and shrinking step sharing its input's bytes. No plan of these operators needs less
   * arena (kernel scratch comes on top); the same figure for every --ram mode.
   */
  livenessBytes: number;
  /** The output is a view of the input (no computing step): tf_model_run copies it to logits. */
  copyOutput: boolean;
  tensors: TensorPlacement[];
  steps: StepPlacement[];
}

/** Tensors each step reads. */
function readsOf(steps: PlanStep[]): number[][] {
  return steps.map((s, j) => s.inputs ?? [j]);
}

/**
 * Nothing reads the buffer of tensor `src` after step j: neither `src` nor another tensor that
 * already shares its buffer (a view of the same bytes) is read later.
 */
function deadAfter(root: number[], lastRead: number[], src: number, j: number): boolean {
  return root.every((r, t) => r !== root[src] || lastRead[t] <= j);
}

/** Buffer of each tensor (the tensor that owns it): views and safe in-place steps share. */
function buffers(bytes: number[], steps: PlanStep[], reads: number[][], shrink: boolean): number[] {
  const lastRead = bytes.map(() => -1);
  reads.forEach((ins, j) => ins.forEach((t) => (lastRead[t] = Math.max(lastRead[t], j))));
  const root = [0];
  steps.forEach((s, j) => {
    const t = j + 1;
    const src = reads[j][0];
    const single = reads[j].length === 1;
    // An in-place step of several inputs (an elementwise Add) overwrites its first input.
    const overwrites = s.alias === 'inplace' || (shrink && s.alias === 'shrink' && single);
    const share =
      (single && s.alias === 'view') || (overwrites && root[src] !== 0 && deadAfter(root, lastRead, src, j));
    const fits = s.alias === 'shrink' ? bytes[t] <= bytes[src] : bytes[t] === bytes[src];
    if (share && !fits) throw new RangeError(`step '${s.name}': an aliased output must fit its input's size`);
    root.push(share ? root[src] : t);
  });
  return root;
}

/** A placement before its liveness optimum is added. */
type Placed = Omit<MemoryPlan, 'livenessBytes'>;

export function planMemory(inputBytes: number, steps: PlanStep[], opts: PlanOptions = {}): MemoryPlan {
  const bytes = [inputBytes, ...steps.map((s) => s.outBytes)];
  for (const [i, b] of bytes.entries()) {
    if (!Number.isInteger(b) || b < 1) throw new RangeError(`tensor ${i}: bad size ${b}`);
  }
  const reads = readsOf(steps);
  const root = buffers(bytes, steps, reads, opts.shrink ?? false);
  const chain = reads.every((ins, j) => ins.length === 1 && ins[0] === j);
  const plan = (chain ? planChain : planGraph)(bytes, steps, root, reads);
  return { ...plan, livenessBytes: livenessOptimum(bytes, steps, reads) };
}

/**
 * The DAG's liveness optimum (MemoryPlan.livenessBytes): per step, the live arena tensors (produced
 * at or before it, read at or after it), those sharing one buffer counted once at the largest.
 */
export function livenessOptimum(
  bytes: number[],
  steps: PlanStep[],
  reads: number[][] = readsOf(steps),
): number {
  const root = buffers(bytes, steps, reads, true);
  const locationOf = locations(root);
  const lastRead = bytes.map((_b, t) => (t === bytes.length - 1 ? steps.length - 1 : -1));
  reads.forEach((ins, j) => ins.forEach((t) => (lastRead[t] = Math.max(lastRead[t], j))));
  let best = 0;
  for (let j = 0; j < steps.length; j++) {
    const perBuffer = new Map<number, number>();
    for (let t = 1; t < bytes.length; t++) {
      if (t - 1 > j || Math.max(lastRead[t], t - 1) < j || locationOf(root[t]) !== 'arena') continue;
      perBuffer.set(root[t], Math.max(perBuffer.get(root[t]) ?? 0, alignUp(bytes[t])));
    }
    best = Math.max(
      best,
      [...perBuffer.values()].reduce((a, b) => a + b, 0),
    );
  }
  return best;
}

function locations(root: number[]): (r: number) => Location {
  const finalRoot = root[root.length - 1];
  return (r) => (r === 0 ? 'input' : r === finalRoot ? 'logits' : 'arena');
}

/** The ping-pong placement of a chain (exact lower bound). */
function planChain(bytes: number[], steps: PlanStep[], root: number[]): Placed {
  const n = steps.length;
  const finalRoot = root[n];
  const copyOutput = finalRoot === 0;
  const locationOf = locations(root);
  // Arena buffers in order; alternate bottom (even) / top (odd).
  const arenaRoots = [...new Set(root)].filter((r) => locationOf(r) === 'arena');
  const parity = new Map(arenaRoots.map((r, k) => [r, k % 2] as const));
  // A buffer's size is its largest tensor's (a shrinking step's output is smaller than its input).
  const size = (r: number): number =>
    locationOf(r) !== 'arena' ? 0 : Math.max(...root.map((q, t) => (q === r ? alignUp(bytes[t]) : 0)));
  // Bytes of buffer r in use at step j: its tensors read or written by the step.
  const inUse = (r: number, j: number): number =>
    locationOf(r) !== 'arena'
      ? 0
      : Math.max(...[j, j + 1].map((t) => (root[t] === r ? alignUp(bytes[t]) : 0)));

  let arenaBytes = 0;
  let peakTensorBytes = 0;
  let scratchBytes = 0;
  const stepLive: number[] = [];
  const bottomUse: number[] = [];
  for (let j = 0; j < n; j++) {
    const live = [...new Set([root[j], root[j + 1]])];
    const tensorsLive = live.reduce((s, r) => s + inUse(r, j), 0);
    // A bottom buffer's tensors start at 0; a top buffer's at arena - size: it takes all its size.
    const bottom = live.filter((r) => parity.get(r) === 0).reduce((s, r) => s + inUse(r, j), 0);
    const top = live.filter((r) => parity.get(r) === 1).reduce((s, r) => s + size(r), 0);
    const extent = bottom + top + alignUp(steps[j].scratchBytes);
    stepLive.push(extent);
    bottomUse.push(bottom);
    peakTensorBytes = Math.max(peakTensorBytes, tensorsLive);
    scratchBytes = Math.max(scratchBytes, alignUp(steps[j].scratchBytes));
    arenaBytes = Math.max(arenaBytes, extent);
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

  // Scratch sits just above the bottom buffer's bytes in use at this step (if any).
  const placedSteps: StepPlacement[] = steps.map((s, j) => ({
    name: s.name,
    aliased: root[j + 1] === root[j],
    scratchOffset: s.scratchBytes > 0 ? bottomUse[j] : 0,
    scratchBytes: s.scratchBytes,
    liveBytes: stepLive[j],
  }));

  return { arenaBytes, scratchBytes, peakTensorBytes, copyOutput, tensors, steps: placedSteps };
}

/** Live range [first step, last step] of every buffer; scratch lives during its step. */
function lifetimes(root: number[], reads: number[][]): Map<number, [number, number]> {
  const life = new Map<number, [number, number]>();
  const touch = (r: number, j: number): void => {
    const cur = life.get(r);
    life.set(r, cur ? [Math.min(cur[0], j), Math.max(cur[1], j)] : [j, j]);
  };
  root.forEach((r, t) => t > 0 && touch(r, t - 1));
  reads.forEach((ins, j) => ins.forEach((t) => touch(root[t], j)));
  return life;
}

/** First fit, largest first, among buffers and scratch areas whose lifetimes overlap. */
function planGraph(bytes: number[], steps: PlanStep[], root: number[], reads: number[][]): Placed {
  const n = steps.length;
  const locationOf = locations(root);
  const life = lifetimes(root, reads);
  interface Block {
    key: string;
    size: number;
    from: number;
    to: number;
    offset: number;
  }
  const blocks: Block[] = [];
  for (const [r, [from, to]] of life)
    if (locationOf(r) === 'arena')
      blocks.push({ key: `t${r}`, size: alignUp(bytes[r]), from, to, offset: 0 });
  steps.forEach((s, j) => {
    if (s.scratchBytes > 0)
      blocks.push({ key: `s${j}`, size: alignUp(s.scratchBytes), from: j, to: j, offset: 0 });
  });
  const placed: Block[] = [];
  for (const b of [...blocks].sort((x, y) => y.size - x.size || x.from - y.from)) {
    const overlapping = placed
      .filter((p) => p.from <= b.to && b.from <= p.to)
      .sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const p of overlapping)
      if (offset + b.size > p.offset && p.offset + p.size > offset) offset = p.offset + p.size;
    b.offset = offset;
    placed.push(b);
  }
  const at = (key: string): Block | undefined => blocks.find((b) => b.key === key);
  const arenaBytes = blocks.reduce((m, b) => Math.max(m, b.offset + b.size), 0);
  const liveAt = (j: number): number =>
    blocks.filter((b) => b.from <= j && j <= b.to).reduce((s, b) => s + b.size, 0);
  const tensorsAt = (j: number): number =>
    blocks.filter((b) => b.key[0] === 't' && b.from <= j && j <= b.to).reduce((s, b) => s + b.size, 0);
  return {
    arenaBytes,
    scratchBytes: steps.reduce((m, s) => Math.max(m, alignUp(s.scratchBytes)), 0),
    peakTensorBytes: steps.reduce((m, _s, j) => Math.max(m, tensorsAt(j)), 0),
    copyOutput: root[n] === 0,
    tensors: bytes.map((b, t) => ({
      tensor: t,
      bytes: b,
      buffer: root[t],
      location: locationOf(root[t]),
      offset: at(`t${root[t]}`)?.offset ?? 0,
    })),
    steps: steps.map((s, j) => ({
      name: s.name,
      aliased: root[j + 1] === root[reads[j][0]],
      scratchOffset: at(`s${j}`)?.offset ?? 0,
      scratchBytes: s.scratchBytes,
      liveBytes: liveAt(j),
    })),
  };
}
