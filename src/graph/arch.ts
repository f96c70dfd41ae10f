// Architecture files: a dataset-independent description of a sequential network, turned into a
// ModelGraph once the input shape and classes are known. JSON, validated with zod:
//
//   { "format": "tinyforge-arch/1", "name": "...", "description": "...",   (all three optional)
//     "layers": [ { "type": <kind>, "name": <optional>, "inputs": <optional>,
//                   ...the operator's own fields }, ... ] }
//
// A layer reads the layer before it (the input for the first); "inputs" names the tensors it reads
// instead: earlier layers' names, or "<input>" for the model input (residual connections, merges).
// Each operator module declares its entry (src/ops/<kind>.ts, `arch.schema`, defaults included);
// docs/architecture.md lists the kinds and src/train/archs/*.json are complete examples. A layer
// without a name gets <type>_<n>; names must be unique.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TinyforgeError } from '../util/errors.js';
import { opOf, registeredOps } from '../ops/registry.js';
import { GRAPH_INPUT, inferShapes, type Layer, type ModelGraph, type InputShape } from './ir.js';
import { archName } from '../ops/archFields.js';

export const ARCH_FORMAT = 'tinyforge-arch/1';

/** Names of the tensors a layer reads (a graph's layers, or GRAPH_INPUT). */
const inputsField = {
  inputs: z
    .array(z.union([z.literal(GRAPH_INPUT), archName.unwrap()]))
    .min(1)
    .optional(),
};

// Each operator module describes its own entry (src/ops); the file is any sequence of them.
const LayerSpec = z.discriminatedUnion(
  'type',
  registeredOps().map((op) =>
    'inputs' in op.arch.schema.shape ? op.arch.schema : op.arch.schema.extend(inputsField),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const ArchSpecSchema = z.strictObject({
  format: z.literal(ARCH_FORMAT).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  layers: z.array(LayerSpec).min(1),
});

/** An architecture file as written (defaults not yet applied). */
export type ArchSpec = z.input<typeof ArchSpecSchema>;

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.length
        ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
        : '';
      return `${path ? path.replace(/^\./, '') + ': ' : ''}${i.message}`;
    })
    .join('; ');
}

/** Validates an architecture object; `where` names its origin in errors. */
export function parseArch(value: unknown, where = 'architecture'): z.output<typeof ArchSpecSchema> {
  const r = ArchSpecSchema.safeParse(value);
  if (!r.success)
    throw new TinyforgeError(
      `${where} is not a valid architecture: ${describeIssues(r.error)}`,
      'input',
      `layer types: ${registeredOps()
        .map((op) => op.kind)
        .join(', ')} (see docs/architecture.md)`,
    );
  return r.data;
}

/** Reads and validates an architecture JSON file. */
export function readArchFile(path: string): z.output<typeof ArchSpecSchema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TinyforgeError(`cannot read architecture file ${path}: ${(e as Error).message}`, 'input');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TinyforgeError(`${path} is not valid JSON: ${(e as Error).message}`, 'input');
  }
  return parseArch(json, path);
}

/** Builds the graph for a data set: shapes are checked (TinyforgeError 'model' naming the layer). */
export function archToGraph(
  arch: ArchSpec,
  data: { inputShape: InputShape; classNames: string[] },
  where = 'architecture',
): ModelGraph {
  const spec = parseArch(arch, where);
  const counters = new Map<string, number>();
  const layers: Layer[] = spec.layers.map((l) => {
    const entry = l as { type: string; name?: string; inputs?: string[] };
    const inputs = entry.inputs;
    const n = (counters.get(entry.type) ?? 0) + 1;
    counters.set(entry.type, n);
    const name = entry.name ?? `${entry.type}_${n}`;
    const layer = opOf(entry.type).arch.toLayer(entry, { name, classes: data.classNames.length });
    return inputs ? { ...layer, inputs } : layer;
  });
  const graph: ModelGraph = {
    inputShape: [data.inputShape[0], data.inputShape[1]],
    classNames: [...data.classNames],
    layers,
  };
  const infos = inferShapes(graph);
  const out = infos[infos.length - 1].outShape;
  if (out.length !== 2 || out[0] !== 1 || out[1] !== data.classNames.length)
    throw new TinyforgeError(
      `${where}: the last layer outputs [${out.join(', ')}], expected one score per class (${data.classNames.length})`,
      'model',
      'end with a global pooling or Flatten layer, then a Dense layer with "units": "classes"',
    );
  return graph;
}
