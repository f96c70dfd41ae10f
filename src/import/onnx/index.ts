// ONNX import: a ModelProto (onnx-proto) into the IR with float weights, channels last.
// A rank-3/4 input is read channels first when the graph allows it (an NCHW graph: the IR input is
// the channels-last transpose of the ONNX input), as it is otherwise (a graph that transposes its
// channels-last input itself, or has no channels-first operator).
import { classNamesFor, type ImportedModel, type ImportOptions } from '../common.js';
import { convertGraph, layoutError, type InputLayout } from './convert.js';
import { LayoutMismatch } from './layout.js';
import { readOnnx } from './proto.js';

/** Imports an ONNX file; TinyforgeError('model', exit code 4) names any node outside the supported set. */
export async function importOnnx(file: string, opts: ImportOptions = {}): Promise<ImportedModel> {
  const g = readOnnx(file);
  const rank = g.inputs[0]?.dims?.length ?? 0;
  const layouts: InputLayout[] = rank >= 3 ? ['channels-first', 'channels-last'] : ['channels-last'];
  const classNames = (K: number) => classNamesFor(file, K, opts.classNames);
  let failure: LayoutMismatch | undefined;
  for (const layout of layouts) {
    try {
      const c = convertGraph(file, g, layout, opts, classNames);
      return {
        model: { graph: c.graph, params: c.params },
        source: {
          format: 'onnx',
          file,
          inputShape: c.inputDims,
          inputLayout: layout,
          inputMeaning: c.meaning,
        },
      };
    } catch (e) {
      if (!(e instanceof LayoutMismatch)) throw e;
      // Of two readings that both fail, the one that got further says more.
      if (!failure || e.node.index > failure.node.index) failure = e;
    }
  }
  return layoutError(file, failure!);
}
