import { runCommand } from '../helpers/cli.js';
// Shared by the target tests: temporary folders, a small model trained on synthetic data, the CLI
// run in process, and bit flips in a built firmware's weight arrays.
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import {
  compressModel,
  type CompressOptions,
  DEFAULT_COMPRESS_OPTIONS,
} from '../../src/compress/compress.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { ArchSpec } from '../../src/graph/arch.js';
import { trainModel, type TrainedModel } from '../../src/train/trainer.js';
import { tempDir as sharedTempDir } from '../helpers/temp.js';
import { isWeighted } from '../helpers/layers.js';

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = 'tf-target-'): string {
  return sharedTempDir(prefix);
}

/** Small enough to train in seconds, with every deployable kind the default model has and more. */
export const SMALL_ARCH: ArchSpec = {
  name: 'target-test-small',
  layers: [
    { type: 'conv1d', filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' },
    { type: 'maxpool1d', poolSize: 2 },
    { type: 'conv1d', filters: 12, kernelSize: 3, stride: 2, padding: 'valid', activation: 'relu' },
    { type: 'avgpool1d', poolSize: 2 },
    { type: 'conv1d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'gap1d' },
    { type: 'dense', units: 'classes' },
    { type: 'softmax' },
  ],
};

export const SYNTH = 'synthetic:seed=3,train=480,test=180,subjects=12';

export async function trainSmall(data = SYNTH, epochs = 4): Promise<TrainedModel> {
  return trainModel({ data, arch: SMALL_ARCH, epochs, seed: 2, progress: 'none', quietBackend: true });
}

const BASE: CompressOptions = {
  ...DEFAULT_COMPRESS_OPTIONS,
};

/** Compresses a trained model (no fine-tuning) with the given settings. */
export async function compressTrained(
  t: TrainedModel,
  opts: Partial<CompressOptions>,
  evalWindows = 64,
): Promise<CompressedModel> {
  const p = t.prepared;
  const k = Math.min(evalWindows, p.test.n);
  const w = p.test.steps * p.test.channels;
  const evalSet = { ...p.test, n: k, x: p.test.x.subarray(0, k * w), y: p.test.y.subarray(0, k) };
  const { model } = await compressModel(
    t.model,
    p.normalization,
    { train: p.train, val: p.val, eval: evalSet, evalName: 'test' },
    { ...BASE, ...opts },
  );
  return model;
}

/** Runs one CLI command in process; returns stdout, stderr and the exit code main.ts would give. */
export const runCli = runCommand;

interface ElfSymbol {
  value: number;
  size: number;
  section: number;
}

/** File offset and size of a (local or global) data symbol in an ELF, via readelf. */
export async function symbolInFile(elf: string, name: string): Promise<{ offset: number; size: number }> {
  const syms = (await execa('arm-none-eabi-readelf', ['-s', '-W', elf])).stdout;
  let sym: ElfSymbol | undefined;
  for (const line of syms.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length >= 8 && f[7] === name && /^\d+$/.test(f[6])) {
      sym = { value: parseInt(f[1], 16), size: Number(f[2]), section: Number(f[6]) };
    }
  }
  if (!sym) throw new Error(`symbol ${name} not in ${elf}`);
  const secs = (await execa('arm-none-eabi-readelf', ['-S', '-W', elf])).stdout;
  for (const line of secs.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m && Number(m[1]) === sym.section) {
      return { offset: parseInt(m[3], 16) + (sym.value - parseInt(m[2], 16)), size: sym.size };
    }
  }
  throw new Error(`section ${sym.section} of ${name} not found`);
}

/** XORs `mask` into byte `byte` of the symbol's data in the ELF file (the image QEMU loads). */
export async function flipInElf(elf: string, symbol: string, byte: number, mask: number): Promise<void> {
  const { offset, size } = await symbolInFile(elf, symbol);
  if (byte >= size) throw new Error(`byte ${byte} outside ${symbol} (${size} bytes)`);
  const buf = readFileSync(elf);
  buf[offset + byte] ^= mask;
  writeFileSync(elf, buf);
}

/** The same change applied to a model in memory: byte `byte` of layer `layer`'s bitstream. */
export function flipInModel(
  model: CompressedModel,
  layer: number,
  byte: number,
  mask: number,
): CompressedModel {
  const copy = structuredClone(model);
  const l = copy.layers[layer];
  if (!isWeighted(l)) throw new Error(`layer ${layer} has no weights`);
  l.weights.bitstream[byte] ^= mask;
  return copy;
}
