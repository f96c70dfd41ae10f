// Sources and seed corpora of the libFuzzer harnesses (fuzz/*.c). Every piece of C under test is
// rendered by the project's own code generator (generateC, templates/), never copied: the decoder
// harnesses include a generated model.c whose decoders they call directly, the model harness
// includes one and overwrites its weight bitstreams, the windows-file harness links the firmware's
// harness.c with one. Seeds are the real bitstreams of compressed weight matrices (Laplacian
// weights at 2..8 bits, the codings the compressor writes) and real windows files.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateC, type GeneratedC } from '../../../src/codegen/index.js';
import { flashTableParts } from '../../../src/qmodel/coding/decodeTables.js';
import { encodeWeights } from '../../../src/qmodel/coding/weights.js';
import type { CodedWeights, CompressedModel } from '../../../src/qmodel/model.js';
import { encodeWindowsFile } from '../../../src/measure/windows.js';
import { laplacianWeights, makeRng, randInt, randomInput, randomModel } from '../../helpers/randomModel.js';
import { isWeighted } from '../../helpers/layers.js';

export const HARNESSES = ['packed', 'huffman', 'rle', 'model', 'small', 'windows'] as const;
export type HarnessName = (typeof HARNESSES)[number];

/** Decoder functions each harness needs in its model.c (the generator emits only those used). */
const NEEDS: Record<HarnessName, string[]> = {
  packed: ['tf_packed_rows', 'tf_expand8_rows'],
  huffman: ['tf_huff_rows', 'tf_huff_rows_fast'],
  rle: ['tf_rle_rows', 'tf_rle_list', 'tf_rle_list_fast'],
  model: ['tf_packed_rows', 'tf_huff_rows_fast', 'tf_rle_rows', 'tf_rle_list'],
  // The fast model of the small harness; its small-RAM twin must have SMALL_NEEDS.
  small: ['tf_packed_rows'],
  windows: ['tf_huff_rows_fast', 'tf_rle_rows'],
};

const CODING_OF: Partial<Record<HarnessName, 'packed' | 'huffman' | 'rle-huffman'>> = {
  packed: 'packed',
  huffman: 'huffman',
  rle: 'rle-huffman',
};

/**
 * What the small-RAM twin (--ram small, prefix tfs_) must hold: Huffman tokens (huffman and
 * rle-huffman rows) and packed fields read one at a time (every small kernel, weighted or
 * depthwise, 1D or 2D, decodes by these two: templates/kernels/small.c.hbs).
 */
const SMALL_NEEDS = [/\btfs_small_token\(/, /tfs_window\(s\.data, s\.nbytes, s\.pos\) >>/];

/** The small harness's twin: the same model's C with every small-RAM kernel, names prefixed tfs_. */
export const SMALL_PREFIX = 'tfs_';

interface HarnessModel {
  model: CompressedModel;
  generated: GeneratedC;
  /** The small harness only: the same model with --ram small, prefixed SMALL_PREFIX. */
  small?: GeneratedC;
}

/** A model whose generated C defines every function the harness needs (first seed that does). */
export function harnessModel(h: HarnessName): HarnessModel {
  const coding = CODING_OF[h];
  for (let seed = 1; seed < 500; seed++) {
    const model = randomModel(seed, coding ? { codings: [coding] } : {});
    const generated = generateC(model, { sourceName: `fuzz ${h} (random model ${seed})` });
    const c = generated.files[0].content;
    if (!NEEDS[h].every((f) => new RegExp(`\\b${f}\\(`).test(c))) continue;
    if (h !== 'small') return { model, generated };
    const small = generateC(model, {
      sourceName: `fuzz small (random model ${seed}, --ram small)`,
      ram: { mode: 'small' },
      prefix: SMALL_PREFIX,
    });
    if (SMALL_NEEDS.every((re) => re.test(small.files[0].content))) return { model, generated, small };
  }
  throw new Error(
    `no random model has ${NEEDS[h].join(', ')}${h === 'small' ? ' and small-RAM tokens' : ''}`,
  );
}

interface Matrix {
  coded: CodedWeights;
  /** LUT bits the compiler would choose (kernelPlan): only used in seeds. */
  kb: number;
}

/** Real coded weight matrices: Laplacian weights at every width, sparse and dense, both Huffman codings. */
function matrices(coding: 'packed' | 'huffman' | 'rle-huffman'): Matrix[] {
  const out: Matrix[] = [];
  const rng = makeRng(coding.length * 7919);
  for (let bits = 2; bits <= 8; bits++) {
    for (const sparsity of [0, 0.5, 0.9]) {
      const rows = randInt(rng, 1, 9);
      const rowLength = randInt(rng, 1, 70);
      const scale = Math.max(0.6, 2 ** (bits - 2) * (0.3 + rng()));
      const values = laplacianWeights(rng, rows * rowLength, bits, scale, sparsity);
      const coded = encodeWeights(values, rows, rowLength, bits, coding);
      const L = coded.table?.maxLength ?? 0;
      out.push({ coded, kb: Math.max(1, Math.min(L, 10)) });
    }
  }
  // A one-symbol code (all weights equal) and a long row.
  out.push({ coded: encodeWeights(new Int8Array(12).fill(1), 3, 4, 4, coding), kb: 1 });
  const long = laplacianWeights(rng, 4 * 300, 8, 40, 0.2);
  const coded = encodeWeights(long, 4, 300, 8, coding);
  out.push({ coded, kb: Math.min(coded.table?.maxLength ?? 1, 10) });
  return out;
}

function cArray(values: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) parts.push(String(values[i]));
  return parts.length ? parts.join(', ') : '0';
}

/** The decode tables the harness draws from (fuzz_tables.h): real canonical codes. */
function tablesHeader(ms: Matrix[]): string {
  const lines = ['/* Generated by test/fuzz/c/render.ts: real Huffman decode tables. */'];
  const entries: string[] = [];
  ms.forEach((m, i) => {
    const t = flashTableParts(m.coded.table!);
    const data = [...t.firstCode, ...t.count, ...t.offset, ...t.symbols];
    let kraft = 0;
    for (let l = 1; l <= t.L; l++) kraft += t.count[l] * 2 ** (t.L - l);
    const complete = kraft === 2 ** t.L ? 1 : 0;
    lines.push(`static const uint16_t tf_fuzz_t${i}[${data.length}] = { ${cArray(data)} };`);
    entries.push(`    { tf_fuzz_t${i}, ${t.L}u, ${complete}u },`);
  });
  lines.push(
    'typedef struct { const uint16_t *t; uint32_t L; uint32_t complete; } tf_fuzz_table;',
    'static const tf_fuzz_table tf_fuzz_tables[] = {',
    ...entries,
    '};',
    `#define TF_FUZZ_TABLES ${ms.length}u`,
    '',
  );
  return lines.join('\n');
}

function u16(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff];
}

/** Seed of a decoder harness: header (see fuzz/fuzz_huffman.c) then the real bitstream. */
function decoderSeed(head: number[], m: CodedWeights): Uint8Array {
  return Uint8Array.from([...head, ...u16(m.rows - 1), ...u16(m.rowLength - 1), ...m.bitstream]);
}

function writeModel(dir: string, g: GeneratedC): void {
  for (const f of g.files) writeFileSync(join(dir, f.name), f.content);
}

/** Coded weight arrays of a generated model, in layer order. */
function codedArrays(g: GeneratedC) {
  return g.report.layers.filter((l) => l.coding !== null && l.bitstreamBytes > 0);
}

/**
 * The model harness's list of coded weight arrays (fuzz/fuzz_model.c reads it); with `small`, also
 * the twin's arrays (tf_fuzz_w_small), which hold the same bitstreams.
 */
function weightsHeader(
  model: CompressedModel,
  g: GeneratedC,
  small?: GeneratedC,
): { header: string; bytes: number } {
  const arrays = codedArrays(g);
  const total = arrays.reduce((s, l) => s + l.bitstreamBytes, 0);
  const twin: string[] = [];
  if (small) {
    const sa = codedArrays(small);
    const same =
      sa.length === arrays.length && sa.every((l, i) => l.bitstreamBytes === arrays[i].bitstreamBytes);
    if (!same) throw new Error('the small-RAM twin codes other weight arrays than the fast model');
    twin.push(
      'static uint8_t *const tf_fuzz_w_small[] = {',
      ...sa.map((l) => `    ${SMALL_PREFIX}w_${l.section},`),
      '};',
    );
  }
  const header = [
    '/* Generated by test/fuzz/c/render.ts: the coded weight bitstreams of the model, in layer order. */',
    'static uint8_t *const tf_fuzz_w[] = {',
    ...arrays.map((l) => `    tf_w_${l.section},`),
    '};',
    ...twin,
    `static const uint32_t tf_fuzz_w_bytes[] = { ${arrays.map((l) => `${l.bitstreamBytes}u`).join(', ')} };`,
    `#define TF_FUZZ_W_ARRAYS ${arrays.length}u`,
    `#define TF_FUZZ_W_TOTAL ${total}u`,
    `/* ${model.layers.filter(isWeighted).length} weighted layers; codings: ${arrays.map((l) => l.coding).join(', ')} */`,
    '',
  ].join('\n');
  return { header, bytes: total };
}

/**
 * Renders every harness's sources into <root>/src/<harness>/ and its seeds into
 * <root>/seeds/<harness>/ (both rewritten each time; the working corpora live elsewhere).
 */
export function renderFuzzSources(root: string): void {
  for (const h of HARNESSES) {
    const src = join(root, 'src', h);
    const seeds = join(root, 'seeds', h);
    rmSync(src, { recursive: true, force: true });
    rmSync(seeds, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    mkdirSync(seeds, { recursive: true });
    const { model, generated, small } = harnessModel(h);
    writeModel(src, generated);
    if (small) writeModel(src, small);
    const seed = (name: string, bytes: Uint8Array) => writeFileSync(join(seeds, name), bytes);
    const coding = CODING_OF[h];
    if (coding === 'packed') {
      matrices('packed').forEach((m, i) => seed(`m${i}`, decoderSeed([m.coded.bits - 2], m.coded)));
    } else if (coding) {
      const ms = matrices(coding);
      writeFileSync(join(src, 'fuzz_tables.h'), tablesHeader(ms));
      ms.forEach((m, i) => seed(`m${i}`, decoderSeed([i, m.kb - 1], m.coded)));
    } else {
      const { header, bytes } = weightsHeader(model, generated, small);
      writeFileSync(join(src, 'fuzz_weights.h'), header);
      const [T, C] = model.inputShape;
      for (let k = 0; k < 4; k++) {
        const x = randomInput(model, 900 + k);
        if (h !== 'windows') {
          const streams = model.layers
            .filter(isWeighted)
            .filter((l) => l.weights.bitstream.length > 0)
            .map((l) => [...l.weights.bitstream]);
          const all = Uint8Array.from([...x, ...streams.flat()]);
          if (all.length !== x.length + bytes) throw new Error('weights header and model disagree');
          seed(`w${k}`, all);
        } else {
          const n = k + 1;
          const inputs = new Int8Array(n * T * C);
          for (let i = 0; i < n; i++) inputs.set(randomInput(model, 950 + 10 * k + i), i * T * C);
          const file = encodeWindowsFile(inputs, n, T, C);
          // First byte: the length of the optional argument that follows (trace=K).
          const arg = k % 2 ? [...Buffer.from(`trace=${k - 1}`)] : [];
          seed(`f${k}`, Uint8Array.from([arg.length, ...arg, ...file]));
        }
      }
    }
  }
}
