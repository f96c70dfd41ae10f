// The harness's embed mode: quantized windows and their labels as C data in flash
// (tf_windows.h / tf_windows.c), for a board that has no host to read a windows file from.
// The windows live in .rodata.tf_data: the size report counts them as runtime, not model.

export const EMBED_FILES = { header: 'tf_windows.h', source: 'tf_windows.c' } as const;

function cBytes(values: ArrayLike<number>, perLine: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++) row.push(String(values[j]));
    lines.push('    ' + row.join(', ') + ',');
  }
  return lines.join('\n');
}

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
  const header = [
    '/* Windows embedded in flash for the tinyforge harness (embed mode). Generated; do not edit. */',
    '#ifndef TF_WINDOWS_H',
    '#define TF_WINDOWS_H',
    '#include <stdint.h>',
    `#define TF_EMBED_N ${n}`,
    `#define TF_EMBED_T ${T}`,
    `#define TF_EMBED_C ${C}`,
    '/* Window i is tf_embed_windows[i * T * C ...], int8 model input, channels last. */',
    `extern const int8_t tf_embed_windows[${n * T * C}];`,
    '/* Class index of window i. */',
    `extern const uint8_t tf_embed_labels[${n}];`,
    '#endif',
    '',
  ].join('\n');
  const source = [
    '/* Windows embedded in flash for the tinyforge harness (embed mode). Generated; do not edit. */',
    `#include "${EMBED_FILES.header}"`,
    '',
    `const int8_t tf_embed_windows[${n * T * C}] __attribute__((section(".rodata.tf_data.windows"))) = {`,
    cBytes(inputs, 24),
    '};',
    '',
    `const uint8_t tf_embed_labels[${n}] __attribute__((section(".rodata.tf_data.labels"))) = {`,
    cBytes(labels, 32),
    '};',
    '',
  ].join('\n');
  return [
    { name: EMBED_FILES.header, content: header },
    { name: EMBED_FILES.source, content: source },
  ];
}
