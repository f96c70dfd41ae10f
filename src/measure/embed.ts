// The harness's embed mode: quantized windows and their labels as C data in flash
// (tf_windows.h / tf_windows.c), for a board that has no host to read a windows file from.
// The windows live in .rodata.tf_data: the size report counts them as runtime, not model.
// The C itself is in templates/firmware/windows.{c,h}.hbs.
import { render } from '../codegen/templates.js';

export const EMBED_FILES = { header: 'tf_windows.h', source: 'tf_windows.c' } as const;

/**
 * C sources holding n quantized windows (n * T * C int8) and their labels (class indices); for the
 * self-test (harness TF_HARNESS_SELFTEST) also the host reference's logits (n * numClasses int8).
 */
export function embedSources(
  inputs: Int8Array,
  labels: ArrayLike<number>,
  T: number,
  C: number,
  numClasses: number,
  expected?: Int8Array,
): { name: string; content: string }[] {
  const n = labels.length;
  if (n < 1 || inputs.length !== n * T * C) {
    throw new RangeError(`embed: ${inputs.length} values for ${n} windows of ${T} x ${C}`);
  }
  if (expected && expected.length !== n * numClasses) {
    throw new RangeError(
      `embed: ${expected.length} expected logits for ${n} windows of ${numClasses} classes`,
    );
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
    // strict templates: every field present; null leaves the self-test table out.
    expected: expected ?? null,
    K: numClasses,
    expectedValues: expected?.length ?? 0,
  };
  return [
    { name: EMBED_FILES.header, content: render('firmware/windows.h', view) },
    { name: EMBED_FILES.source, content: render('firmware/windows.c', view) },
  ];
}
