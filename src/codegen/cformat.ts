// Small formatting helpers for C literals and names. The structure of the generated C lives in
// templates/; these only turn values into tokens (array bodies, string literals, identifiers).

/** Body of a C array initializer: values separated by commas, `perLine` to a line, indented. */
export function cArrayBody(values: ArrayLike<number>, perLine = 16, indent = '    '): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) row.push(cInt(values[j]));
    lines.push(indent + row.join(', ') + (i + perLine < values.length ? ',' : ''));
  }
  return lines.join('\n');
}

/**
 * An integer as a C literal that has the intended value in any context: INT32_MIN cannot be
 * written as -2147483648 (that is -(2147483648), a long), so it becomes (-2147483647 - 1).
 */
export function cInt(v: number): string {
  if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
  if (v === -2147483648) return '(-2147483647 - 1)';
  if (v > 2147483647 || v < -2147483648) throw new RangeError(`outside int32: ${v}`);
  return String(v);
}

/** A C string literal (ASCII-safe: anything outside printable ASCII becomes an octal escape). */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (byte >= 0x20 && byte < 0x7f && ch !== '?')
      out += ch; // '?' would risk trigraphs
    else out += '\\' + byte.toString(8).padStart(3, '0');
  }
  return out + '"';
}

/** A float for a header constant meant for the caller (never used in the integer path). */
export function cFloat(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  const s = Math.fround(v).toPrecision(9);
  return (s.includes('.') || s.includes('e') ? s : s + '.0') + 'f';
}

/** Text safe inside a C block comment. */
export function cComment(s: string): string {
  return s.replace(/\*\//g, '* /').replace(/[\r\n]+/g, ' ');
}

/**
 * Identifier-safe form of a layer name, unique within `taken` (which it extends): characters
 * outside [A-Za-z0-9_] become '_', a leading digit gets a prefix, collisions get a numeric suffix.
 */
export function uniqueIdent(name: string, taken: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (base === '' || /^[0-9]/.test(base)) base = 'l_' + base;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

/**
 * A double as a C99 hexadecimal floating literal: exactly its binary64 value, so C reads the very
 * number the host computes with (a decimal literal would rest on the compiler's rounding). With
 * `single`, the value must be a float32 and the literal gets the f suffix.
 */
export function cHexFloat(v: number, single = false): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  if (single && Math.fround(v) !== v) throw new RangeError(`not a float32 value: ${v}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? '-' : '';
  const biased = (hi >>> 20) & 0x7ff;
  const mant = ((hi & 0xfffff).toString(16).padStart(5, '0') + lo.toString(16).padStart(8, '0')).replace(
    /0+$/,
    '',
  );
  const frac = mant ? `.${mant}` : '';
  const suffix = single ? 'f' : '';
  if (biased === 0) return `${sign}0x0${frac}p-1022${suffix}`;
  return `${sign}0x1${frac}p${biased - 1023 >= 0 ? '+' : ''}${biased - 1023}${suffix}`;
}
