import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../src/qmodel/crc32.js';
import { FORMAT_VERSION, packTfm, PREAMBLE_BYTES, unpackTfm } from '../../src/qmodel/container.js';
import { decodeTfm, encodeTfm, readTfm, writeTfm } from '../../src/qmodel/tfm.js';
import { runReference } from '../../src/reference/interpreter.js';
import { TinyforgeError } from '../../src/util/errors.js';
import { makeRng, randInt, randomInput, randomModel } from '../helpers/randomModel.js';
import { isConv } from '../helpers/layers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Edits a valid file's header (and optionally payload) and re-frames it with a correct checksum. */
function edited(bytes: Uint8Array, edit: (h: Json, payload: Uint8Array) => Uint8Array | void): Uint8Array {
  const { header, payload } = unpackTfm(bytes, 'x');
  const p = payload.slice();
  const newPayload = edit(header, p) ?? p;
  return packTfm(header, newPayload);
}

function expectInputError(f: () => unknown, re: RegExp, name = 'model.tfm'): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TinyforgeError);
    expect((e as TinyforgeError).category).toBe('input');
    expect((e as Error).message.startsWith(`${name}: `)).toBe(true);
    expect((e as Error).message).toMatch(re);
    return;
  }
  throw new Error(`accepted a file that should fail with ${re}`);
}

const model = randomModel(77, { codings: ['huffman'] });
const good = encodeTfm(model);
const load = (b: Uint8Array) => () => decodeTfm(b, 'model.tfm');

describe('.tfm round trip', () => {
  it('reads back exactly the model it wrote (many random models, every coding)', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const m = randomModel(seed, { codings: seed % 5 === 0 ? ['auto'] : undefined });
      m.meta = { ...m.meta, nested: { a: [1, 2.5, 'x'], b: null }, floatAccuracy: 0.912 };
      const back = decodeTfm(encodeTfm(m));
      expect(back).toEqual(m);
      const x = randomInput(m, seed);
      expect(runReference(back, x).logits).toEqual(runReference(m, x).logits);
    }
  });

  it('lays out magic, version, lengths and a trailing CRC-32 as documented', () => {
    expect([...good.subarray(0, 4)]).toEqual([0x54, 0x46, 0x4d, 0x00]);
    const dv = new DataView(good.buffer, good.byteOffset);
    expect(dv.getUint32(4, true)).toBe(FORMAT_VERSION);
    const H = dv.getUint32(8, true);
    const P = dv.getUint32(12, true);
    expect(good.length).toBe(PREAMBLE_BYTES + H + P + 4);
    expect(dv.getUint32(good.length - 4, true)).toBe(crc32(good.subarray(0, good.length - 4)));
    const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + H)));
    expect(header.layers[0].weights.bitstream).toEqual({
      offset: expect.any(Number),
      bytes: expect.any(Number),
    });
  });

  it('computes the standard CRC-32 with and without node:zlib', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Table(check)).toBe(0xcbf43926);
    const rng = makeRng(3);
    const data = Uint8Array.from({ length: 5000 }, () => randInt(rng, 0, 255));
    expect(crc32Table(data)).toBe(crc32(data));
  });
});

describe('.tfm validation', () => {
  it('wrong magic', () => {
    const b = good.slice();
    b[0] = 0x50;
    expectInputError(load(b), /not a tinyforge model file \(wrong magic/);
    expectInputError(load(new TextEncoder().encode('{"layers": []}')), /wrong magic/);
    expectInputError(load(new Uint8Array(0)), /wrong magic/);
  });

  it('unsupported version; version 1 (a subset of 2) still reads', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, 3, true);
    expectInputError(load(b), /unsupported \.tfm format version 3 \(this tinyforge reads versions 1 and 2\)/);
    new DataView(b.buffer).setUint32(4, 0, true);
    expectInputError(load(b), /unsupported \.tfm format version 0/);
    const { header, payload } = unpackTfm(good, 'x');
    expect(decodeTfm(packTfm(header, payload, 1), 'v1.tfm')).toEqual(decodeTfm(good, 'good.tfm'));
  });

  it('truncation, at any length', () => {
    for (const n of [3, 10, 19, PREAMBLE_BYTES + 5, good.length - 100, good.length - 1]) {
      expectInputError(load(good.slice(0, n)), n <= 3 ? /wrong magic|truncated/ : /truncated/);
    }
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expectInputError(load(longer), /3 unexpected bytes after its end/);
  });

  it('checksum mismatch', () => {
    for (const at of [PREAMBLE_BYTES + 2, good.length - 20, good.length - 2]) {
      const b = good.slice();
      b[at] ^= 0x10;
      expectInputError(load(b), /checksum mismatch .* damaged/);
    }
  });

  it('header that is not JSON or does not match the schema', () => {
    // A header of 4 bytes that are not JSON, with a correct checksum.
    const notJson = packTfm(1234, new Uint8Array(0));
    notJson.set(new TextEncoder().encode('{x:1'), PREAMBLE_BYTES);
    new DataView(notJson.buffer).setUint32(
      notJson.length - 4,
      crc32(notJson.subarray(0, notJson.length - 4)),
      true,
    );
    expectInputError(load(notJson), /header is not valid UTF-8 JSON/);
    expectInputError(load(packTfm(null, new Uint8Array(0))), /invalid header/);
    expectInputError(
      load(edited(good, (h) => void (h.layers[0].weights.bits = 9))),
      /invalid header: layers\[0\]\.weights\.bits/,
    );
    expectInputError(
      load(edited(good, (h) => void (h.layers[1].kind = 'lstm'))),
      /invalid header: layers\[1\]/,
    );
    expectInputError(load(edited(good, (h) => void (h.extra = 1))), /invalid header: .*extra/i);
  });

  it('inconsistent shapes', () => {
    expectInputError(
      load(
        edited(
          good,
          (h) => void (h.layers[0].outShape = [h.layers[0].outShape[0] + 1, h.layers[0].outShape[1]]),
        ),
      ),
      new RegExp(`inconsistent model: layer '${model.layers[0].name}'.*outShape`),
    );
    expectInputError(
      load(edited(good, (h) => void (h.inputShape = [h.inputShape[0], h.inputShape[1] + 1]))),
      /inconsistent model/,
    );
    expectInputError(load(edited(good, (h) => void h.classNames.push('extra'))), /logits but there are/);
  });

  it('a bitstream shorter than its header says', () => {
    expectInputError(
      load(
        edited(
          good,
          (h) =>
            void (h.layers[0].weights.bitstream.bytes = Math.ceil(h.layers[0].weights.bitLength / 8) - 1),
        ),
      ),
      new RegExp(
        `bitstream of layer '${model.layers[0].name}' has \\d+ bytes, shorter than its \\d+ bits need`,
      ),
    );
    expectInputError(
      load(edited(good, (h, p) => void (h.layers[0].weights.bitstream.offset = p.length - 1))),
      /bitstream of layer .* outside the \d+-byte payload/,
    );
    expectInputError(
      load(edited(good, (h) => void (h.layers[0].bias.count += 1000))),
      /bias of layer .* outside/,
    );
  });

  it('a bitstream that does not decode to its weights', () => {
    // One extra bit in the declared length: the decoder ends one bit early.
    expectInputError(
      load(
        edited(good, (h) => {
          const w = h.layers[0].weights;
          w.bitLength += 1;
          if (Math.ceil(w.bitLength / 8) > w.bitstream.bytes) w.bitstream.bytes += 1;
        }),
      ),
      /does not decode to exactly/,
    );
  });

  it('invalid Huffman tables', () => {
    const first = model.layers[0];
    if (!isConv(first)) throw new Error('randomModel puts a conv1d first');
    expect(first.weights.table!.maxLength).toBeGreaterThanOrEqual(2); // the over-subscription edit needs it
    expectInputError(
      load(edited(good, (h) => void h.layers[0].weights.table.symbols.pop())),
      /invalid coded weights: its Huffman table's counts add up to \d+ codes but it lists \d+ symbols/,
    );
    expectInputError(
      load(
        edited(good, (h) => {
          // Move a code one length shorter: over-subscribes a complete code.
          const t = h.layers[0].weights.table;
          t.counts = [0, 2 + t.counts[1], ...t.counts.slice(2)];
          t.counts[t.maxLength] -= 2;
          while (t.counts[t.maxLength] === 0) {
            t.counts.pop();
            t.maxLength--;
          }
        }),
      ),
      /over-subscribed/,
    );
    expectInputError(
      load(edited(good, (h) => void delete h.layers[0].weights.table)),
      /Huffman table is missing/,
    );
    expectInputError(
      load(edited(good, (h) => void h.layers[0].weights.table.symbols.splice(0, 1, 300))),
      /'huffman' table has a zero-run token 300/,
    );
  });
});

describe('.tfm fuzzing', () => {
  it('answers every mutated header with a model or an input error, never a crash', () => {
    const rng = makeRng(99);
    const values = [-1, 0, 1, 2, 3, 7, 8, 9, 16, 2 ** 31, 1e9, 0.5, 'x', null, true, []];
    let accepted = 0;
    const trials = 300;
    for (let trial = 0; trial < trials; trial++) {
      const { header } = unpackTfm(good, 'x');
      // Collect every (object, key) leaf and mutate one or two of them.
      const leaves: [Json, string | number][] = [];
      const walk = (o: Json): void => {
        for (const k of Object.keys(o)) {
          const key = Array.isArray(o) ? Number(k) : k;
          if (o[key] !== null && typeof o[key] === 'object') walk(o[key]);
          else leaves.push([o, key]);
        }
      };
      walk(header);
      for (let m = 0; m < 1 + (trial % 2); m++) {
        const [o, k] = leaves[randInt(rng, 0, leaves.length - 1)];
        if (rng() < 0.15 && !Array.isArray(o)) delete o[k];
        else
          o[k] =
            typeof o[k] === 'number' && rng() < 0.5
              ? o[k] + randInt(rng, -2, 2)
              : values[randInt(rng, 0, values.length - 1)];
      }
      try {
        decodeTfm(packTfm(header, unpackTfm(good, 'x').payload), 'fuzz.tfm');
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(TinyforgeError);
        expect((e as TinyforgeError).category).toBe('input');
      }
    }
    // Some edits are legal (names, meta, normalization, relu flags); most are not.
    expect(accepted).toBeLessThan(trials / 2);
  });
});

describe('.tfm files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tfm-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes atomically and reads back', async () => {
    const path = join(dir, 'm.tfm');
    await writeTfm(path, model);
    expect(await readdir(dir)).toEqual(['m.tfm']); // no temporary file left
    expect(await readTfm(path)).toEqual(model);
    expect(new Uint8Array(await readFile(path))).toEqual(good);
  });

  it('leaves an existing file untouched when the model is invalid or the directory is missing', async () => {
    const path = join(dir, 'keep.tfm');
    await writeFile(path, good);
    const bad = { ...model, classNames: ['one'] };
    await expect(writeTfm(path, bad)).rejects.toThrow(/logits but there are 1 classes/);
    expect(new Uint8Array(await readFile(path))).toEqual(good);
    await expect(writeTfm(join(dir, 'missing', 'x.tfm'), model)).rejects.toThrow(/cannot write model file/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the file when it is missing or damaged', async () => {
    const missing = join(dir, 'nope.tfm');
    await expect(readTfm(missing)).rejects.toThrow(
      new RegExp(`cannot read model file '${missing}': no such file`),
    );
    const damaged = join(dir, 'damaged.tfm');
    await writeFile(damaged, good.slice(0, good.length - 7));
    await expect(readTfm(damaged)).rejects.toThrow(new RegExp(`^${damaged}: file is truncated`));
  });
});
