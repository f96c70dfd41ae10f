// Canonical, length-limited Huffman codes (src/qmodel/model.ts, DEFLATE-style canonical form).
// Code lengths come from package-merge, which is optimal under the length limit.
import { TinyforgeError } from '../../util/errors.js';
import { MAX_CODE_LENGTH, type HuffmanTable } from '../model.js';

/** Code-length limit the encoder uses unless told otherwise. */
export const DEFAULT_MAX_CODE_LENGTH = 12;

/** Largest token value (a run of MAX_RUN zeros). */
export const MAX_TOKEN = 511;

/** Occurrences of each token. */
export function tokenFrequencies(tokens: ArrayLike<number>): Map<number, number> {
  const freq = new Map<number, number>();
  for (let i = 0; i < tokens.length; i++) freq.set(tokens[i], (freq.get(tokens[i]) ?? 0) + 1);
  return freq;
}

interface PmNode {
  w: number;
  /** Leaf index, or -1 for a package. */
  leaf: number;
  a?: PmNode;
  b?: PmNode;
}

/**
 * Optimal code lengths, each <= limit, for positive weights (package-merge, Larmore & Hirschberg).
 * One symbol gets length 1 (a code must have at least one bit).
 */
export function limitedCodeLengths(weights: readonly number[], limit: number): number[] {
  const n = weights.length;
  if (n === 0) return [];
  if (n === 1) return [1];
  if (2 ** limit < n) {
    throw new TinyforgeError(
      `cannot code ${n} symbols with codes of at most ${limit} bits`,
      'usage',
      `use a code-length limit of at least ${Math.ceil(Math.log2(n))}`,
    );
  }
  const leaves: PmNode[] = weights
    .map((w, i) => ({ w, leaf: i }))
    .sort((x, y) => x.w - y.w || x.leaf - y.leaf);
  let list = leaves;
  for (let level = 1; level < limit; level++) {
    const packages: PmNode[] = [];
    for (let i = 0; i + 1 < list.length; i += 2) {
      packages.push({ w: list[i].w + list[i + 1].w, leaf: -1, a: list[i], b: list[i + 1] });
    }
    // Merge two sorted lists; leaves first on ties.
    const merged: PmNode[] = [];
    let i = 0;
    let j = 0;
    while (i < leaves.length || j < packages.length) {
      if (j >= packages.length || (i < leaves.length && leaves[i].w <= packages[j].w))
        merged.push(leaves[i++]);
      else merged.push(packages[j++]);
    }
    list = merged;
  }
  // A symbol's length is the number of times it occurs among the first 2n - 2 items.
  const lengths = new Array<number>(n).fill(0);
  const stack = list.slice(0, 2 * n - 2);
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.leaf >= 0) lengths[node.leaf]++;
    else stack.push(node.a!, node.b!);
  }
  return lengths;
}

/** Canonical table from token lengths: symbols sorted by (length, token value). */
export function canonicalTable(lengthOf: Map<number, number>): HuffmanTable {
  const entries = [...lengthOf.entries()].filter(([, l]) => l > 0).sort((x, y) => x[1] - y[1] || x[0] - y[0]);
  const maxLength = entries.length ? entries[entries.length - 1][1] : 0;
  const counts = new Array<number>(maxLength + 1).fill(0);
  for (const [, l] of entries) counts[l]++;
  return { counts, symbols: entries.map(([t]) => t), maxLength };
}

/** Length-limited canonical Huffman table for token frequencies (every listed token gets a code). */
export function buildHuffmanTable(
  freq: Map<number, number>,
  maxCodeLength: number = DEFAULT_MAX_CODE_LENGTH,
): HuffmanTable {
  if (!Number.isInteger(maxCodeLength) || maxCodeLength < 1 || maxCodeLength > MAX_CODE_LENGTH) {
    throw new TinyforgeError(
      `Huffman code-length limit ${maxCodeLength} is out of range`,
      'usage',
      `use an integer in 1..${MAX_CODE_LENGTH}`,
    );
  }
  const tokens = [...freq.keys()].filter((t) => (freq.get(t) ?? 0) > 0).sort((a, b) => a - b);
  if (tokens.length === 0) throw new TinyforgeError('cannot build a Huffman code for no symbols', 'model');
  const lengths = limitedCodeLengths(
    tokens.map((t) => freq.get(t)!),
    maxCodeLength,
  );
  return canonicalTable(new Map(tokens.map((t, i) => [t, lengths[i]])));
}

/** Canonical first code of each length 0..maxLength (DEFLATE's next_code). */
export function firstCodes(counts: readonly number[]): number[] {
  const first = new Array<number>(counts.length).fill(0);
  let code = 0;
  for (let l = 1; l < counts.length; l++) {
    code = (code + counts[l - 1]) << 1;
    first[l] = code;
  }
  return first;
}

/** Encoder view: token -> (code, length). */
export function canonicalCodes(table: HuffmanTable): Map<number, { code: number; length: number }> {
  const first = firstCodes(table.counts);
  const codes = new Map<number, { code: number; length: number }>();
  let k = 0;
  for (let l = 1; l <= table.maxLength; l++) {
    for (let i = 0; i < table.counts[l]; i++)
      codes.set(table.symbols[k++], { code: first[l] + i, length: l });
  }
  return codes;
}

/** Kraft sum: <= 1 for a decodable prefix code, exactly 1 for a complete one. */
export function kraftSum(table: HuffmanTable): number {
  let s = 0;
  for (let l = 1; l < table.counts.length; l++) s += table.counts[l] * 2 ** -l;
  return s;
}

/**
 * Structural check of a table, whatever its origin (file, compressor): returns the problem in
 * words, or null when a decoder can use it. `allowToken` restricts the token set (e.g. by coding).
 */
export function huffmanTableProblem(
  table: unknown,
  allowToken?: (t: number) => string | null,
): string | null {
  if (typeof table !== 'object' || table === null) return 'the Huffman table is missing';
  const { counts, symbols, maxLength } = table as Partial<HuffmanTable>;
  if (!Array.isArray(counts) || !Array.isArray(symbols)) return 'the Huffman table has no counts or symbols';
  if (!Number.isInteger(maxLength) || maxLength! < 1 || maxLength! > MAX_CODE_LENGTH) {
    return `the Huffman table's maxLength ${String(maxLength)} is not in 1..${MAX_CODE_LENGTH}`;
  }
  const L = maxLength!;
  if (counts.length !== L + 1)
    return `the Huffman table has ${counts.length} counts, expected maxLength + 1 = ${L + 1}`;
  if (!counts.every((c) => Number.isInteger(c) && c >= 0))
    return 'the Huffman table has a negative or fractional count';
  if (counts[0] !== 0) return 'the Huffman table has codes of length 0';
  if (counts[L] === 0) return `the Huffman table's maxLength is ${L} but no code has that length`;
  const total = counts.reduce((s, c) => s + c, 0);
  if (total !== symbols.length) {
    return `the Huffman table's counts add up to ${total} codes but it lists ${symbols.length} symbols`;
  }
  // Kraft sum in integers: sum count[l] * 2^(L-l) <= 2^L.
  let kraft = 0;
  for (let l = 1; l <= L; l++) kraft += counts[l] * 2 ** (L - l);
  if (kraft > 2 ** L) return 'the Huffman code is over-subscribed (Kraft sum > 1): it is not a prefix code';
  const seen = new Set<number>();
  for (const t of symbols) {
    if (!Number.isInteger(t) || t < 0 || t > MAX_TOKEN)
      return `the Huffman table has an invalid token ${String(t)}`;
    if (seen.has(t)) return `the Huffman table lists token ${t} twice`;
    seen.add(t);
    const why = allowToken?.(t);
    if (why) return why;
  }
  return null;
}
