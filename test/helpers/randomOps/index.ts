// Random valid quantized models around any operator: each quantized kind has a generator
// (test/helpers/randomOps/<kind>.ts, listed below) that appends it to a ModelBuilder. A model for
// a list of kinds starts from a random [T, C] input, reshapes it when a kind needs an image or a
// flat vector, appends the kinds in order and ends with Flatten + Dense to the classes.
// test/ops/coverage.test.ts fails for a quantized kind without a generator.
import { CODINGS, type CompressedModel } from '../../../src/qmodel/model.js';
import { checkModel } from '../../../src/qmodel/check.js';
import { ModelBuilder, type BuilderOptions, type OpGenerator } from './builder.js';
import { makeRng, randInt } from '../randomModel.js';
import { conv1d } from './conv1d.js';
import { conv2d } from './conv2d.js';
import { dense, denseLayer } from './dense.js';
import { avgpool1d, maxpool1d } from './pool1d.js';
import { flatten, gap1d, gmp1d, relu } from './keeping.js';
import { reshape } from './reshape.js';
import { avgpool2d, maxpool2d } from './pool2d.js';
import { gap2d, gmp2d } from './global2d.js';
import { zeropad1d, zeropad2d } from './zeropad.js';
import { depthwise1d } from './depthwise1d.js';
import { depthwise2d } from './depthwise2d.js';
import { add } from './add.js';
import { concat } from './concat.js';
import { clippedrelu } from './clippedrelu.js';
import { leakyrelu } from './leakyrelu.js';
import { sigmoid } from './sigmoid.js';
import { tanh } from './tanh.js';
import { hardswish } from './hardswish.js';

const GENERATORS: readonly OpGenerator[] = [
  conv1d,
  conv2d,
  dense,
  maxpool1d,
  avgpool1d,
  gap1d,
  gmp1d,
  flatten,
  relu,
  reshape,
  maxpool2d,
  avgpool2d,
  gap2d,
  gmp2d,
  zeropad1d,
  zeropad2d,
  depthwise1d,
  depthwise2d,
  add,
  concat,
  clippedrelu,
  leakyrelu,
  sigmoid,
  tanh,
  hardswish,
];

const byKind = new Map(GENERATORS.map((g) => [g.kind, g]));

/** Kinds that have a generator. */
export function generatedKinds(): string[] {
  return GENERATORS.map((g) => g.kind);
}

export function generatorOf(kind: string): OpGenerator {
  const g = byKind.get(kind);
  if (!g) throw new Error(`test/helpers/randomOps has no generator for '${kind}'`);
  return g;
}

/** Brings the current tensor to what a generator needs (reshape or flatten). */
function prepare(b: ModelBuilder, need: OpGenerator['input'], image: [number, number]): void {
  const t = b.current;
  const C = t.shape[t.shape.length - 1];
  if (need === 'any') return;
  if (need === 'flat') {
    if (!t.flat) b.flatten();
    return;
  }
  if (t.flat)
    throw new Error(`randomOpModel: a ${need} operator cannot follow a flat vector; list it earlier`);
  if (need === 'image' && t.shape.length === 2) {
    // [T, C] with T = H * W: the input was drawn so; later sequences fold into H = 1 rows.
    const [H, W] = t.shape[0] === image[0] * image[1] ? image : [1, t.shape[0]];
    b.reshape([H, W, C]);
  } else if (need === 'seq' && t.shape.length === 3) b.reshape([t.shape[0] * t.shape[1], C]);
}

/**
 * A small valid model with the listed kinds in order (each drawn by its generator), deterministic
 * from the seed: odd sizes, random attributes, widths, codings and formats.
 */
export function randomOpModel(
  seed: number,
  kinds: readonly string[],
  options: BuilderOptions = {},
): CompressedModel {
  const rng = makeRng(seed ^ 0x0b5e55ed);
  const image: [number, number] = [randInt(rng, 3, 9), randInt(rng, 3, 9)];
  const needsImage = kinds.some((k) => generatorOf(k).input === 'image');
  const T0 = needsImage ? image[0] * image[1] : randInt(rng, 9, 24);
  const b = new ModelBuilder(seed, [T0, randInt(rng, 1, 6)], options);
  kinds.forEach((kind, i) => {
    const g = generatorOf(kind);
    const before = b.current;
    prepare(b, g.input, image);
    g.add(b);
    // A flat result with sequence operators still to come is a side branch: they read on from
    // the tensor before it, and its output is left unread (the planner frees it).
    const later = kinds.slice(i + 1).map((k) => generatorOf(k).input);
    if (b.current.flat && !before.flat && later.some((n) => n === 'seq' || n === 'image')) b.current = before;
  });
  prepare(b, 'flat', image);
  denseLayer(b, randInt(rng, 2, 5), false);
  const model = b.model({ generator: 'test/helpers/randomOps', seed, kinds });
  checkModel(model); // a generator bug should fail here, not deep inside a test
  return model;
}

/** Every kind with a generator in random order, those reading flat vectors last. */
export function mixedKinds(seed: number): string[] {
  const rng = makeRng(seed);
  const kinds = GENERATORS.map((g) => g.kind);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = randInt(rng, 0, i);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const flat = (k: string) => generatorOf(k).input === 'flat';
  return [...kinds.filter((k) => !flat(k)), ...kinds.filter(flat)];
}

/** A stable seed per kind, so that adding a generator leaves the other kinds' models as they were. */
function kindSeed(kind: string): number {
  let h = 2166136261;
  for (const ch of kind) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h >>> 0) % 100_000;
}

/**
 * The models the bit-exactness suites run for the operators: each kind alone at each coding
 * (its weighted neighbours too), and `mixed` models with every kind in one graph.
 */
export function opSuite(perCoding = 1, mixed = 2): { name: string; model: CompressedModel }[] {
  const out: { name: string; model: CompressedModel }[] = [];
  for (const kind of generatedKinds())
    for (const coding of CODINGS)
      for (let i = 0; i < perCoding; i++) {
        const seed = kindSeed(kind) + 7 * i + CODINGS.indexOf(coding);
        out.push({
          name: `${kind} ${coding} ${seed}`,
          model: randomOpModel(seed, [kind], { codings: [coding] }),
        });
      }
  for (let s = 1; s <= mixed; s++)
    out.push({ name: `every operator ${s}`, model: randomOpModel(900 + s, mixedKinds(s)) });
  return out;
}
