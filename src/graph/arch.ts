// Architecture files: a dataset-independent description of a sequential 1D CNN, turned into a
// ModelGraph once the input shape and classes are known. Format (JSON, validated with zod):
//
//   {
//     "format": "tinyforge-arch/1",            optional
//     "name": "har-default",                    optional
//     "description": "...",                     optional
//     "layers": [
//       { "type": "conv1d", "filters": 16, "kernelSize": 9, "stride": 1, "padding": "same",
//         "activation": "relu", "useBias": true },
//       { "type": "batchnorm", "epsilon": 0.001 },
//       { "type": "maxpool1d", "poolSize": 2, "stride": 2, "padding": "valid" },
//       { "type": "avgpool1d", "poolSize": 2 },
//       { "type": "relu" }, { "type": "gap1d" }, { "type": "flatten" },
//       { "type": "dropout", "rate": 0.2 },
//       { "type": "dense", "units": "classes", "activation": "linear" },
//       { "type": "softmax" }
//     ]
//   }
//
// Defaults: stride 1 (pooling: stride = poolSize), padding "valid", activation "linear",
// useBias true, epsilon 0.001. `units: "classes"` is the number of classes of the data set.
// Each layer may carry a "name" (else conv1d_1, dense_1, ...); names must be unique.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TinyforgeError } from '../util/errors.js';
import { inferShapes, type Layer, type ModelGraph, type Shape } from './ir.js';

export const ARCH_FORMAT = 'tinyforge-arch/1';

const name = z
  .string()
  .regex(/^[A-Za-z0-9][-A-Za-z0-9._]*$/, 'letters, digits, - . _ (starting with a letter or digit)')
  .optional();
const positive = z.number().int().min(1);
const padding = z.enum(['same', 'valid']).default('valid');
const activation = z.enum(['linear', 'relu']).default('linear');

const LayerSpec = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('conv1d'),
    name,
    filters: positive,
    kernelSize: positive,
    stride: positive.default(1),
    padding,
    activation,
    useBias: z.boolean().default(true),
  }),
  z.strictObject({
    type: z.literal('dense'),
    name,
    units: z.union([positive, z.literal('classes')]),
    activation,
    useBias: z.boolean().default(true),
  }),
  z.strictObject({
    type: z.enum(['maxpool1d', 'avgpool1d']),
    name,
    poolSize: positive,
    stride: positive.optional(),
    padding,
  }),
  z.strictObject({ type: z.enum(['gap1d', 'flatten', 'relu', 'softmax']), name }),
  z.strictObject({ type: z.literal('batchnorm'), name, epsilon: z.number().positive().default(0.001) }),
  z.strictObject({ type: z.literal('dropout'), name, rate: z.number().min(0).lt(1) }),
]);

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
      'layer types: conv1d, dense, maxpool1d, avgpool1d, gap1d, flatten, relu, softmax, batchnorm, dropout (see src/graph/arch.ts)',
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
  data: { inputShape: Shape; classNames: string[] },
  where = 'architecture',
): ModelGraph {
  const spec = parseArch(arch, where);
  const counters = new Map<string, number>();
  const layers: Layer[] = spec.layers.map((l) => {
    const n = (counters.get(l.type) ?? 0) + 1;
    counters.set(l.type, n);
    const layerName = l.name ?? `${l.type}_${n}`;
    switch (l.type) {
      case 'conv1d':
        return {
          kind: 'conv1d',
          name: layerName,
          filters: l.filters,
          kernelSize: l.kernelSize,
          stride: l.stride,
          padding: l.padding,
          activation: l.activation,
          useBias: l.useBias,
        };
      case 'dense':
        return {
          kind: 'dense',
          name: layerName,
          units: l.units === 'classes' ? data.classNames.length : l.units,
          activation: l.activation,
          useBias: l.useBias,
        };
      case 'maxpool1d':
      case 'avgpool1d':
        return {
          kind: l.type,
          name: layerName,
          poolSize: l.poolSize,
          stride: l.stride ?? l.poolSize,
          padding: l.padding,
        };
      case 'batchnorm':
        return { kind: 'batchnorm', name: layerName, epsilon: l.epsilon };
      case 'dropout':
        return { kind: 'dropout', name: layerName, rate: l.rate };
      default:
        return { kind: l.type, name: layerName };
    }
  });
  const graph: ModelGraph = { inputShape: [...data.inputShape], classNames: [...data.classNames], layers };
  const infos = inferShapes(graph);
  const out = infos[infos.length - 1].outShape;
  if (out[0] !== 1 || out[1] !== data.classNames.length)
    throw new TinyforgeError(
      `${where}: the last layer outputs [${out.join(', ')}], expected one score per class (${data.classNames.length})`,
      'model',
      'end with GlobalAveragePooling (gap1d) or flatten, then { "type": "dense", "units": "classes" }',
    );
  return graph;
}
