// The harness's embed mode: quantized windows and their labels as C data in flash
// (tf_windows.h / tf_windows.c), for a board that has no host to read a windows file from.
// The windows live in .rodata.tf_data: the size report counts them as runtime, not model.
// The C itself is in templates/firmware/windows.{c,h}.hbs.
import { render } from '../codegen/templates.js';

export const EMBED_FILES = { header: 'tf_windows.h', source: 'tf_windows.c' } as const;

/** C sources holding n quantized windows (n * T * C int8) and their labels (class indices). */
export function embedSources(
  inputs: Int8Array,
  labels: ArrayLike<number>,
  T: number,
  C: number,
  numClasses: number,
): { name: string; content: string }[] {
  const n = labels.length;
  if (n < 1 || inputs.length !== n * T * C) {
    throw new RangeError(`embed: ${inputs.length} values for ${n} windows of ${T} x ${C}`);
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses || y > 255) {
      throw new RangeError(`embed: label ${y} of window ${i} is not a class index 0..${numClasses - 1}`);
    }
  }
  const view = {
    header: EMBED_FILES.header,
    n,
    T,
    C,
    windowValues: n * T * C,
    windows: inputs,
    labels,
  };
  return [
    { name: EMBED_FILES.header, content: render('firmware/windows.h', view) },
    { name: EMBED_FILES.source, content: render('firmware/windows.c', view) },
  ];
}
