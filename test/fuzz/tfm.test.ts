// Property-based fuzzing of the .tfm reader (src/qmodel/tfm.ts): raw byte damage (stopped by the
// frame and the CRC), payload damage with the CRC recomputed and header JSON edits repacked with a
// valid CRC, so that the mutations reach the schema, the model check and the bitstream decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packTfm, unpackTfm } from '../../src/qmodel/container.js';
import { decodeTfm, encodeTfm } from '../../src/qmodel/tfm.js';
import { MAX_DIM, MAX_MATRIX_WEIGHTS, MAX_TENSOR_VALUES } from '../../src/qmodel/schemaParts.js';
import { randomModel } from '../helpers/randomModel.js';
import {
  applyEdits,
  applyJsonEdits,
  byteEdits,
  forAll,
  jsonEdits,
  parsesOrRefuses,
  Tally,
  timeoutFor,
} from './property.js';
import { refusal } from '../helpers/errors.js';

const BASES = [1, 2, 3, 5, 8].map((s) => encodeTfm(randomModel(s)));
const frames = BASES.map((b) => {
  const { header, payload } = unpackTfm(b, 'base');
  return { header, payload: Uint8Array.from(payload) };
});
const base = fc.integer({ min: 0, max: BASES.length - 1 });
const NORMAL = 400;

describe('.tfm reader under generated damage', () => {
  it('every base file reads back (the mutations start from valid files)', () => {
    for (const b of BASES) expect(decodeTfm(b).layers.length).toBeGreaterThan(0);
  });

  it(
    'raw byte damage: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('.tfm raw bytes');
      await forAll({ normal: NORMAL, share: 0.2 }, fc.tuple(base, byteEdits()), ([i, edits]) => {
        t.add(parsesOrRefuses('decodeTfm', () => decodeTfm(applyEdits(BASES[i], edits), 'm.tfm')));
      });
      t.report();
    },
    timeoutFor(NORMAL, 2, 0.2),
  );

  it(
    'payload damage with the CRC recomputed: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('.tfm payload (valid CRC)');
      await forAll({ normal: NORMAL, share: 0.4 }, fc.tuple(base, byteEdits()), ([i, edits]) => {
        const f = frames[i];
        const bytes = packTfm(f.header, applyEdits(f.payload, edits));
        t.add(parsesOrRefuses('decodeTfm', () => decodeTfm(bytes, 'm.tfm')));
      });
      t.report();
    },
    timeoutFor(NORMAL, 2, 0.4),
  );

  it(
    'header JSON edits (and payload damage) with the CRC recomputed: parses or raises TinyforgeError',
    async () => {
      const t = new Tally('.tfm header JSON (valid CRC)');
      await forAll(
        { normal: NORMAL, share: 0.4 },
        fc.tuple(base, jsonEdits(), fc.option(byteEdits(2))),
        ([i, edits, payloadEdits]) => {
          const f = frames[i];
          const header = applyJsonEdits(f.header, edits);
          const payload = payloadEdits ? applyEdits(f.payload, payloadEdits) : f.payload;
          const bytes = packTfm(header, payload);
          t.add(parsesOrRefuses('decodeTfm', () => decodeTfm(bytes, 'm.tfm')));
        },
      );
      t.report();
    },
    timeoutFor(NORMAL, 3, 0.4),
  );
});

/** A one-layer model (global average pooling) of input [T, C]: no weights, so no bitstream bounds it. */
function poolingHeader(T: number, C: number): unknown {
  return {
    inputShape: [T, C],
    classNames: Array.from({ length: C }, (_, i) => `c${i}`),
    normalization: { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) },
    inputFrac: 4,
    layers: [{ kind: 'gap1d', name: 'g', inShape: [T, C], outShape: [1, C], frac: 4 }],
    meta: {},
  };
}

describe('finding tfm-unbounded-shapes: the header bounds what a file can make a reader allocate', () => {
  it('a [1e9, 2] input (2 GB per window, accepted before the bounds) is refused with the bound', () => {
    const e = refusal(() => decodeTfm(packTfm(poolingHeader(1e9, 2), new Uint8Array(0)), 'big.tfm'));
    expect(e.category).toBe('input');
    expect(e.message).toMatch(
      /big\.tfm: invalid header: inputShape\[0\]: Too big: expected number to be <=65536/,
    );
  });

  it('every dimension within MAX_DIM but the tensor beyond MAX_TENSOR_VALUES is refused', () => {
    const e = refusal(() => decodeTfm(packTfm(poolingHeader(MAX_DIM, 512), new Uint8Array(0)), 'wide.tfm'));
    expect(e.message).toContain(`a tensor holds at most ${MAX_TENSOR_VALUES} values`);
  });

  it('a model at the bounds still reads', () => {
    const T = MAX_TENSOR_VALUES / 256;
    expect(decodeTfm(packTfm(poolingHeader(T, 256), new Uint8Array(0))).inputShape).toEqual([T, 256]);
  });

  it('a weight matrix beyond MAX_MATRIX_WEIGHTS is refused before its bitstream is decoded', () => {
    const f = frames[0];
    const header = structuredClone(f.header) as {
      layers: { weights?: { rows: number; rowLength: number } }[];
    };
    const w = header.layers.find((l) => l.weights)!.weights!;
    w.rows = MAX_DIM;
    w.rowLength = MAX_MATRIX_WEIGHTS / MAX_DIM + 1;
    const e = refusal(() => decodeTfm(packTfm(header, f.payload), 'rows.tfm'));
    expect(e.message).toContain(`a weight matrix holds at most ${MAX_MATRIX_WEIGHTS} weights`);
  });
});
