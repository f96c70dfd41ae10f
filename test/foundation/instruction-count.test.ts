// Instruction counting under -icount shift=0: a loop of known length, the expected count derived
// from the firmware's own disassembly, measured on QEMU. TIM2 (netduinoplus2) is exact and identical
// from run to run; the SysTick of every other core's board is within one tick of the same count.
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { counterResolution, getBoard, listBoards } from '../../src/boards/boards.js';
import { buildFirmware, type FirmwareBuild } from '../../src/crossbuild/compile.js';
import { integerRecords, parseTfRecords, requireTargetSuccess } from '../../src/qemu/tfLines.js';
import { runOnQemu } from '../../src/qemu/runner.js';
import { fixture, tempDir } from './helpers.js';

const N1 = 1000;
const N2 = 300_000;

interface Insn {
  addr: number;
  mnemonic: string;
  operands: string;
}

/** The instructions of one function in `objdump -d --no-show-raw-insn` output. */
function functionBody(disassembly: string, name: string): Insn[] {
  const start = disassembly.indexOf(`<${name}>:\n`);
  expect(start, `${name} in the disassembly`).toBeGreaterThanOrEqual(0);
  const block = disassembly.slice(start).split('\n\n')[0];
  return block
    .split('\n')
    .slice(1)
    .map((l) => /^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ addr: parseInt(m[1], 16), mnemonic: m[2], operands: m[3] }));
}

const isBranch = (i: Insn) =>
  /^(b|bl|bx|blx|cbz|cbnz)(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)?(\.[nw])?$/.test(i.mnemonic);

/**
 * Instructions executed by tf_loop(n): straight-line code before the loop, the loop body (from
 * the target of the one backward branch to that branch) n times, straight-line code after it.
 */
function loopModel(insns: Insn[]) {
  const branches = insns.filter(isBranch);
  // Exactly one conditional backward branch and a return: the shape this model describes.
  expect(branches.map((b) => b.mnemonic.replace(/\.[nw]$/, ''))).toEqual(['bne', 'bx']);
  const back = branches[0];
  const target = parseInt(/^([0-9a-f]+)/.exec(back.operands)![1], 16);
  expect(target).toBeLessThan(back.addr);
  const before = insns.filter((i) => i.addr < target).length;
  const body = insns.filter((i) => i.addr >= target && i.addr <= back.addr).length;
  const after = insns.filter((i) => i.addr > back.addr).length;
  return { before, body, after };
}

/** Instructions of `measure` strictly between its two reads of TIM2 CNT (offset 0x24 = #36). */
function betweenCounterReads(insns: Insn[]): number {
  const reads = insns
    .map((insn, index) => ({ insn, index }))
    .filter(({ insn }) => insn.mnemonic.startsWith('ldr') && /\[\w+, #36\]/.test(insn.operands));
  expect(reads).toHaveLength(2);
  const between = insns.slice(reads[0].index + 1, reads[1].index);
  // Straight line except the call of tf_loop, so each runs once.
  expect(between.filter(isBranch).map((i) => i.mnemonic)).toEqual(['bl']);
  return between.length;
}

describe('instruction counting on netduinoplus2', () => {
  const board = getBoard('netduinoplus2');
  let build: FirmwareBuild;
  let disassembly: string;
  beforeAll(async () => {
    build = await buildFirmware({
      board,
      sources: [fixture('loop_count.c')],
      defines: { LOOP_N1: N1, LOOP_N2: N2 },
      outDir: tempDir(),
      name: 'loop_count',
    });
    disassembly = (await execa('arm-none-eabi-objdump', ['-d', '--no-show-raw-insn', build.elf])).stdout;
  });

  async function measure() {
    const run = await runOnQemu({ board, elf: build.elf, timeoutMs: 60_000 });
    requireTargetSuccess(run, 'loop_count');
    return { counts: integerRecords(parseTfRecords(run.stdout), 'instr'), stdout: run.stdout };
  }

  it('matches the count derived from the disassembly, for two loop lengths', async () => {
    const loop = loopModel(functionBody(disassembly, 'tf_loop'));
    const call = betweenCounterReads(functionBody(disassembly, 'measure'));
    expect(loop.body).toBeGreaterThanOrEqual(2);
    const { counts } = await measure();

    // Two reads in a row: nothing in between.
    expect(counts.get('back_to_back')).toBe(0);
    for (const [label, n] of [
      ['loop_n1', N1],
      ['loop_n2', N2],
    ] as const) {
      const expected = call + loop.before + loop.body * n + loop.after;
      const measured = counts.get(label)!;
      expect(Math.abs(measured - expected) / expected).toBeLessThan(0.01);
      // Under -icount shift=0 the count is exact, not just close.
      expect(measured).toBe(expected);
    }
    // The difference isolates the loop body: independent of any call overhead.
    expect(counts.get('loop_n2')! - counts.get('loop_n1')!).toBe(loop.body * (N2 - N1));
  });

  it('is identical across two runs', async () => {
    const a = await measure();
    const b = await measure();
    expect(a.counts.size).toBe(3);
    expect(b.stdout).toBe(a.stdout);
  });
});

/**
 * Instructions strictly between the two counter reads around `bl tf_loop` in `measure`: the reads
 * are the nearest loads on either side that are not literal-pool loads (SysTick's CVR is reached
 * through a base register, at whatever offset the compiler picks).
 */
function aroundLoopCall(insns: Insn[]): number {
  const call = insns.findIndex((i) => i.mnemonic.startsWith('bl') && i.operands.includes('<tf_loop>'));
  expect(call).toBeGreaterThan(0);
  const isRead = (i: Insn) => /^ldr(\.w)?$/.test(i.mnemonic) && !/\[pc/.test(i.operands);
  let first = call - 1;
  while (first >= 0 && !isRead(insns[first])) first--;
  let second = call + 1;
  while (second < insns.length && !isRead(insns[second])) second++;
  expect(first).toBeGreaterThanOrEqual(0);
  expect(second).toBeLessThan(insns.length);
  const between = insns.slice(first + 1, second);
  expect(between.filter(isBranch).map((i) => i.mnemonic)).toEqual(['bl']);
  return between.length;
}

// Every board whose counter is the core's SysTick: one per core (M0, M3, M4, M7, M33, M55).
const SYSTICK_BOARDS = listBoards().filter((b) => b.instructionCounter?.kind === 'systick');

describe.each(SYSTICK_BOARDS.map((b) => [b.name, b] as const))(
  'SysTick instruction counting on %s',
  (_, board) => {
    it('is within one tick of the count derived from the disassembly, in whole ticks', async () => {
      const tick = counterResolution(board)!;
      const build = await buildFirmware({
        board,
        sources: [fixture('loop_count.c')],
        defines: { LOOP_N1: N1, LOOP_N2: N2 },
        outDir: tempDir(),
        name: 'loop_count',
      });
      const dis = (await execa('arm-none-eabi-objdump', ['-d', '--no-show-raw-insn', build.elf])).stdout;
      const loop = loopModel(functionBody(dis, 'tf_loop'));
      const call = aroundLoopCall(functionBody(dis, 'measure'));
      const run = await runOnQemu({ board, elf: build.elf, timeoutMs: 60_000 });
      requireTargetSuccess(run, 'loop_count');
      const counts = integerRecords(parseTfRecords(run.stdout), 'instr');
      // Two reads one instruction apart: at most the one tick that may fall between them.
      expect([0, Math.floor(tick)]).toContain(counts.get('back_to_back'));
      for (const [label, n] of [
        ['loop_n1', N1],
        ['loop_n2', N2],
      ] as const) {
        // From the first read to the second: the instructions between them and the first read.
        const expected = call + loop.before + loop.body * n + loop.after + 1;
        const measured = counts.get(label)!;
        expect(Math.abs(measured - expected), `${label}: ${measured} vs ${expected}`).toBeLessThan(tick);
        // A whole number of ticks, converted as the firmware does (rounded down).
        expect(measured).toBe(Math.floor(Math.round(measured / tick) * tick));
      }
    });
  },
);
