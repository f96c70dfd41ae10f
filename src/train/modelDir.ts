// A trained model on disk: model.json + weights.bin in the tfjs Layers format (loadable by
// tf.loadLayersModel and Keras tooling), plus tinyforge's own files:
//   graph.json          the IR (layer names, class names), format tinyforge-graph/1
//   normalization.json  per-channel mean/std the input must be scaled with, and their source
//   training.json       history, accuracy, time, backend, seed, and `data`: the data trained on, as
//                       a spec loadable from any working directory (reloadableDataSpec) (optional)
// @tensorflow/tfjs has no file:// handler in Node, so saving goes through tf.io.withSaveHandler.
import type { CompressedModel } from '../qmodel/model.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Normalization } from '../data/normalize.js';
import { identityNormalization } from '../data/normalize.js';
import { parseSyntheticSpec } from '../data/load.js';
import { importTfjsLayersModel } from '../graph/importTfjs.js';
import type { FloatModel, ModelGraph, NodeInfo } from '../graph/types.js';
import type { ModelSource } from '../import/common.js';
import { opOf } from '../ops/registry.js';
import { inferShapes } from '../graph/ir.js';
import { TinyforgeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { requireFiniteNormalization, requireFiniteParams } from '../util/finite.js';

export const GRAPH_FORMAT = 'tinyforge-graph/1';

/**
 * A tf.LayersModel with the model's weights (the caller disposes it): Sequential for a chain,
 * a functional model when layers read other tensors than the previous output.
 */
export function toLayersModel(model: FloatModel): tf.LayersModel {
  const infos = inferShapes(model.graph);
  const chain = infos.every((n, i) => n.inputs.length === 1 && n.inputs[0] === i - 1);
  const seq = chain ? sequentialModel(model.graph, infos) : functionalModel(model.graph, infos);
  for (const info of infos) {
    const specs = opOf(info.layer.kind).params?.(info.layer, info) ?? [];
    if (specs.length === 0) continue;
    const p = model.params[info.layer.name];
    const ws = specs.map((spec) => tf.tensor(p[spec.key]!, spec.shape));
    seq.getLayer(info.layer.name).setWeights(ws);
    ws.forEach((t) => t.dispose());
  }
  return seq;
}

function sequentialModel(graph: ModelGraph, infos: NodeInfo[]): tf.LayersModel {
  const seq = tf.sequential({ name: 'tinyforge' });
  seq.add(tf.layers.inputLayer({ inputShape: [...graph.inputShape], name: 'input' }));
  infos.forEach(({ layer }) => seq.add(opOf(layer.kind).tfjs.layer(layer)));
  return seq;
}

function functionalModel(graph: ModelGraph, infos: NodeInfo[]): tf.LayersModel {
  const input = tf.input({ shape: [...graph.inputShape], name: 'input' });
  const outputs: tf.SymbolicTensor[] = [];
  for (const { layer, inputs } of infos) {
    const xs = inputs.map((p) => (p < 0 ? input : outputs[p]));
    const y = opOf(layer.kind)
      .tfjs.layer(layer)
      .apply(xs.length === 1 ? xs[0] : xs);
    outputs.push(y as tf.SymbolicTensor);
  }
  return tf.model({ inputs: input, outputs: outputs[outputs.length - 1], name: 'tinyforge' });
}

/** Saves a tf.LayersModel as model.json + weights.bin in `dir`. */
export async function saveLayersModel(m: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await m.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(join(dir, 'weights.bin'), new Uint8Array(data));
      writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

export interface ModelDirExtra {
  normalization: Normalization;
  /** Written to training.json when given. */
  training?: Record<string, unknown>;
  /** Written to source.json when given (an imported model). */
  source?: ModelSource;
}

/**
 * `out` may be new, empty or a model directory, which `command` replaces whole (replaceDirectory);
 * a directory with anything else in it is the user's and is refused.
 */
export function checkModelDirOut(out: string, command: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new TinyforgeError(`${out} exists and is not a directory`, 'usage', 'choose another --out');
  if (readdirSync(out).length > 0 && !existsSync(join(out, 'model.json')))
    throw new TinyforgeError(
      `${out} is not a model directory (no model.json) and not empty`,
      'usage',
      `choose another --out: ${command} replaces a model directory whole`,
    );
}

/**
 * Writes the files of a model directory into `dir` (each atomically). Commands write the directory
 * as a whole through replaceDirectory (src/util/files.ts): a kill leaves the previous one or none.
 */
export async function saveModelDir(dir: string, model: FloatModel, extra: ModelDirExtra): Promise<void> {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new TinyforgeError(`${dir} exists and is not a directory`, 'usage', 'choose another --out');
  const C = model.graph.inputShape[1];
  if (extra.normalization.mean.length !== C || extra.normalization.std.length !== C)
    throw new RangeError(
      `normalization has ${extra.normalization.mean.length} channels, the model takes ${C}`,
    );
  // Trained or imported weights: a NaN or infinite one is never written.
  requireFiniteParams(model.params, `the model to write to ${dir}`, { category: 'model' });
  requireFiniteNormalization(extra.normalization, `the model to write to ${dir}`);
  await tf.ready();
  const m = toLayersModel(model);
  try {
    await saveLayersModel(m, dir);
  } finally {
    m.dispose();
  }
  writeFileAtomic(
    join(dir, 'graph.json'),
    JSON.stringify({ format: GRAPH_FORMAT, graph: model.graph }, null, 2) + '\n',
  );
  writeFileAtomic(join(dir, 'normalization.json'), JSON.stringify(extra.normalization, null, 2) + '\n');
  if (extra.training)
    writeFileAtomic(join(dir, 'training.json'), JSON.stringify(extra.training, null, 2) + '\n');
  if (extra.source) writeFileAtomic(join(dir, 'source.json'), JSON.stringify(extra.source, null, 2) + '\n');
}

const NormalizationSchema = z.object({
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
  channels: z.array(z.string()).optional(),
  source: z.string().optional(),
});

const GraphFileSchema = z.object({
  format: z.literal(GRAPH_FORMAT),
  graph: z.object({
    inputShape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    classNames: z.array(z.string()).min(1),
    layers: z.array(z.object({ kind: z.string(), name: z.string() }).loose()),
  }),
});

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TinyforgeError(`cannot read ${path}: ${(e as Error).message}`, 'input');
  }
}

export interface LoadedModelDir {
  model: FloatModel;
  normalization: Normalization;
  meta: {
    dir: string;
    /**
     * 'tinyforge' when graph.json is present, 'tfjs-import' for a plain tfjs Layers directory,
     * 'import' for a Keras/TFLite/ONNX file read directly (src/import/loadModel.ts).
     */
    origin: 'tinyforge' | 'tfjs-import' | 'import';
    /** The file a model was imported from (source.json of an imported model directory). */
    source?: ModelSource;
    /** Contents of training.json, when present. */
    training?: Record<string, unknown>;
  };
  /**
   * A fully int8 TFLite model whose quantization is kept (scheme 'tflite-int8'): `compress` codes its
   * weights losslessly instead of quantizing `model` (src/import/loadModel.ts).
   */
  int8?: CompressedModel;
}

export interface LoadModelDirOptions {
  /** Used when the directory has no normalization.json (default: identity). */
  normalization?: Normalization;
  /** Used when the directory has no graph.json (default: class_0..). */
  classNames?: string[];
}

/** Loads a model directory written by saveModelDir, or any tfjs Layers model directory / model.json. */
export function loadModelDir(path: string, opts: LoadModelDirOptions = {}): LoadedModelDir {
  if (!existsSync(path)) throw new TinyforgeError(`model ${path} does not exist`, 'input');
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const modelJson = statSync(path).isDirectory() ? join(dir, 'model.json') : path;
  if (!existsSync(modelJson))
    throw new TinyforgeError(
      `${dir} has no model.json`,
      'input',
      'give a directory written by `tinyforge train` or a tfjs Layers model',
    );
  const graphPath = join(dir, 'graph.json');
  let graph: ModelGraph | undefined;
  if (existsSync(graphPath)) {
    const r = GraphFileSchema.safeParse(readJson(graphPath));
    if (!r.success)
      throw new TinyforgeError(
        `${graphPath} is not a tinyforge graph: ${r.error.issues[0].message}`,
        'input',
      );
    graph = r.data.graph as unknown as ModelGraph;
  }
  const imported = importTfjsLayersModel(modelJson, { classNames: graph?.classNames ?? opts.classNames });
  let model: FloatModel = imported;
  if (graph) {
    // The same layers; a functional model.json may list independent branches in another order.
    const a = graph.layers
      .map((l) => `${l.kind}:${l.name}`)
      .sort()
      .join(',');
    const b = imported.graph.layers
      .map((l) => `${l.kind}:${l.name}`)
      .sort()
      .join(',');
    if (a !== b || graph.inputShape.join() !== imported.graph.inputShape.join())
      throw new TinyforgeError(
        `${graphPath} does not describe the model in ${modelJson}`,
        'input',
        'the directory mixes files of two models',
      );
    inferShapes(graph);
    model = { graph, params: imported.params };
  }
  const C = model.graph.inputShape[1];
  const normPath = join(dir, 'normalization.json');
  let normalization = opts.normalization ?? identityNormalization(C);
  if (existsSync(normPath)) {
    const r = NormalizationSchema.safeParse(readJson(normPath));
    if (!r.success)
      throw new TinyforgeError(`${normPath} is malformed: ${r.error.issues[0].message}`, 'input');
    normalization = r.data;
  }
  if (normalization.mean.length !== C || normalization.std.length !== C)
    throw new TinyforgeError(
      `normalization has ${normalization.mean.length} channels, the model takes ${C}`,
      'input',
    );
  requireFiniteNormalization(normalization, existsSync(normPath) ? normPath : dir);
  requireFiniteParams(model.params, modelJson, {
    hint: 'the weights hold NaN or infinite values (a diverged training?): retrain or restore the directory',
  });
  const trainingPath = join(dir, 'training.json');
  const training = existsSync(trainingPath) ? (readJson(trainingPath) as Record<string, unknown>) : undefined;
  const source = readSource(join(dir, 'source.json'));
  const origin = graph ? 'tinyforge' : 'tfjs-import';
  return { model, normalization, meta: { dir, origin, training, ...(source ? { source } : {}) } };
}

const SourceSchema = z.object({
  format: z.enum(['keras-h5', 'keras', 'tflite', 'onnx']),
  file: z.string(),
  inputShape: z.array(z.number().int().positive()),
  inputLayout: z.enum(['channels-last', 'channels-first']),
  inputMeaning: z.enum(['vector', 'sequence', 'spectrogram', 'image']),
});

/** source.json of an imported model directory, if any. */
function readSource(path: string): ModelSource | undefined {
  if (!existsSync(path)) return undefined;
  const r = SourceSchema.safeParse(readJson(path));
  if (!r.success) throw new TinyforgeError(`${path} is malformed: ${r.error.issues[0].message}`, 'input');
  return r.data;
}

/**
 * A data spec as a model records it (training.json `data`, a .tfm's meta.source.data), loadable
 * again from any working directory: a synthetic spec as it is, a path (directory or dataset
 * description) made absolute.
 */
export function reloadableDataSpec(spec: string): string {
  return parseSyntheticSpec(spec) ? spec.trim() : resolve(spec);
}

/** The data a model directory records it was trained on (training.json `data`), if any. */
export function recordedTrainingData(loaded: LoadedModelDir): string | undefined {
  const d = loaded.meta.training?.data;
  return typeof d === 'string' && d.trim() !== '' ? d : undefined;
}

/** How training chose its validation subjects (training.json `hyper`), for the same split later. */
export function recordedValidation(loaded: LoadedModelDir): { valFraction?: number; splitSeed?: number } {
  const hyper = loaded.meta.training?.hyper as { valFraction?: unknown; splitSeed?: unknown } | undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { valFraction: num(hyper?.valFraction), splitSeed: num(hyper?.splitSeed) };
}
