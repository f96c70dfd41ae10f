// Every Cortex-M core on QEMU: a model compressed on the synthetic data set is built for one board
// per core and run on the synthetic test split; its logits must equal the host reference on every
// window (tinyforge run's agreement check). The DSP kernels are compiled where the core has the DSP
// extension (M4, M7, M33, M55) and the portable C elsewhere (M0, M3): the model's code is
// disassembled for DSP instructions. The other weight codings run on the M0 (plain C decoders), and
// the M0's Thumb-1 fault handler reports a fault.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBoard } from '../../src/boards/boards.js';
import { buildFirmware } from '../../src/crossbuild/compile.js';
import { parseTfRecords, TARGET_EXIT } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { buildCommand } from '../../src/cli/commands/build.js';
import { compressCommand } from '../../src/cli/commands/compress.js';
import { runCommand as runCmd } from '../../src/cli/commands/run.js';
import { allItems, parseMapFile } from '../../src/size/parseMap.js';
import { runCommand } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { fixture } from '../foundation/helpers.js';

process.env.TINYFORGE_CACHE = tempDir('tf-cores-cache-');
const MODEL = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'import',
  'tflite',
  'har_conv1d.tflite',
);
const DATA = 'synthetic:seed=5,train=64,test=12,subjects=4';

/**
 * One board per core; `dsp`: the core has the DSP extension (ARMv7E-M and ARMv8-M with DSP); `hz`:
 * the core clock of QEMU's machine (hw/arm/mps2.c, mps2-tz.c, nrf51_soc.c), which clocks SysTick.
 */
const CORES = [
  { core: 'M0', board: 'microbit', cpu: 'cortex-m0', dsp: false, hz: 16e6 },
  { core: 'M3', board: 'mps2-an385', cpu: 'cortex-m3', dsp: false, hz: 25e6 },
  { core: 'M4', board: 'mps2-an386', cpu: 'cortex-m4', dsp: true, hz: 25e6 },
  { core: 'M7', board: 'mps2-an500', cpu: 'cortex-m7', dsp: true, hz: 25e6 },
  { core: 'M33', board: 'mps2-an505', cpu: 'cortex-m33', dsp: true, hz: 20e6 },
  { core: 'M55', board: 'mps3-an547', cpu: 'cortex-m55', dsp: true, hz: 32e6 },
];

/**
 * Instructions of the DSP extension (Armv7-M ARM, A4.4.x "DSP" and the parallel add/subtract
 * group), none of which a core without it can execute. The kernels use SMLAD, SXTB16, PKHBT/TB,
 * SSAT16 and SMMLAR among them.
 */
const DSP_MNEMONIC =
  /^(smla(d|dx|ld|ldx|sd|sdx|lsd|lsdx|bb|bt|tb|tt|wb|wt|lbb|lbt|ltb|ltt)|smm(la|lar|ls|lsr|ul|ulr)|smu(ad|adx|sd|sdx|lbb|lbt|ltb|ltt|lwb|lwt|bb|bt|tb|tt)|smul(bb|bt|tb|tt|wb|wt)|[su]xtab16|[su]xtb16|pkh(bt|tb)|[su]sat16|sel|usada?8|q(add|sub|dadd|dsub)(8|16)?|q(asx|sax)|[su]h?(add|sub)(8|16)|[su]h?(asx|sax)|uq(add|sub)(8|16)|uq(asx|sax))(\.w)?$/;

/** Mnemonics of the model's code (the .text.tf_kernels.* input sections the map lists) in an ELF. */
async function modelMnemonics(fwDir: string): Promise<string[]> {
  const map = await parseMapFile(join(fwDir, 'firmware.map'));
  const kernels = allItems(map).filter(
    (i) => i.kind === 'input' && /^\.text\.tf_kernels(\.|$)/.test(i.name) && i.size > 0,
  );
  expect(kernels.length).toBeGreaterThan(3);
  const mnemonics: string[] = [];
  for (const k of kernels) {
    if (k.kind !== 'input') continue;
    const { stdout } = await execa('arm-none-eabi-objdump', [
      '-d',
      '--no-show-raw-insn',
      `--start-address=0x${k.address.toString(16)}`,
      `--stop-address=0x${(k.address + k.size).toString(16)}`,
      join(fwDir, 'firmware.elf'),
    ]);
    for (const line of stdout.split('\n')) {
      const m = /^\s*[0-9a-f]+:\s+([a-z][a-z0-9.]*)/.exec(line);
      if (m) mnemonics.push(m[1]);
    }
  }
  return mnemonics;
}

async function buildAndRun(tfm: string, board: string, out: string) {
  const b = await runCommand(buildCommand, ['build', tfm, '--board', board, '--out', out]);
  expect(b.code, b.err).toBe(0);
  const r = await runCommand(runCmd, ['run', out, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}

const dir = tempDir('tf-cores-');
const tfm = (name: string) => join(dir, `${name}.tfm`);

beforeAll(async () => {
  for (const [name, flags] of [
    ['p8', ['--bits', '8']],
    ['h4', ['--bits', '4', '--coding', 'huffman']],
    ['r4', ['--bits', '4', '--coding', 'rle-huffman', '--prune', '0.7']],
  ] as const) {
    const c = await runCommand(compressCommand, [
      'compress',
      MODEL,
      '--data',
      DATA,
      ...flags,
      '--out',
      tfm(name),
    ]);
    expect(c.code, c.err).toBe(0);
  }
}, 120_000);

describe.each(CORES.map((c) => [c.core, c] as const))('Cortex-%s', (_, c) => {
  it(`${c.board}: logits equal the host reference on every window; DSP code iff the core has it`, async () => {
    const board = getBoard(c.board);
    expect(board.cpu).toBe(c.cpu);
    const out = join(dir, `p8-${c.board}`);
    const run = await buildAndRun(tfm('p8'), c.board, out);
    expect(run.board).toBe(c.board);
    expect(run.agreement).toMatchObject({ equal: true, matching: 12, mismatching: 0 });
    expect(run.instructions.mean).toBeGreaterThan(10_000);
    // One SysTick tick under -icount shift=0 (1 ns per instruction) is 1e9 / clock instructions.
    expect(run.instructions.resolution).toBe(1e9 / c.hz);

    const dsp = (await modelMnemonics(out)).filter((m) => DSP_MNEMONIC.test(m));
    if (c.dsp) expect(dsp).toEqual(expect.arrayContaining(['smlad']));
    else expect(dsp).toEqual([]);
  }, 120_000);
});

describe('the other weight codings on the Cortex-M0 (portable C decoders)', () => {
  for (const name of ['h4', 'r4']) {
    it(`${name}: logits equal the host reference on every window`, async () => {
      const run = await buildAndRun(tfm(name), 'microbit', join(dir, `${name}-microbit`));
      expect(run.agreement).toMatchObject({ equal: true, matching: 12, mismatching: 0 });
    }, 120_000);
  }
});

describe('the Thumb-1 runtime on the Cortex-M0', () => {
  it('reports a fault with its PC and no fault status register (ARMv6-M has none)', async () => {
    const board = getBoard('microbit');
    const out = tempDir('tf-cores-fault-');
    const b = await buildFirmware({ board, sources: [fixture('fault.c')], outDir: out, name: 'fault' });
    const run = await runOnQemu({ board, elf: b.elf, timeoutMs: 30_000 });
    expect(run.exitCode).toBe(TARGET_EXIT.FAULT);
    expect(run.stdout).toContain('before the fault\n');
    const error = parseTfRecords(run.stdout).find((r) => r.key === 'error');
    const dis = (await execa('arm-none-eabi-objdump', ['-d', b.elf])).stdout;
    const udf = /^\s*([0-9a-f]+):\s+[0-9a-f ]+\s+udf\b/m.exec(dis);
    expect(udf).not.toBeNull();
    expect(error?.fields).toEqual([
      '8',
      'fault',
      'hardfault',
      `pc=0x${udf?.[1].padStart(8, '0')}`,
      'cfsr=0x00000000',
    ]);
  });
});
