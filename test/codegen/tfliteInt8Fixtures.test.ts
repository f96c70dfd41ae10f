// src/fixedpoint/tflite.ts against TensorFlow Lite itself: the int8 fixtures of
// test/fixtures/import/cases_int8.py hold, for small fully int8 models, every tensor the interpreter
// computed with its reference kernels (tensorflow-cpu 2.21, BUILTIN_REF) on four or more inputs. Each
// operator is recomputed here from its recorded int8 inputs with the TS arithmetic (the multipliers
// from the float scales, MultiplyByQuantizedMultiplier, the zero points, the activation clamps, the
// pooling division, Add's rescaling, Softmax) by straightforward loops that follow the reference kernels, and
// must give the recorded output exactly, operator by operator, each operator rounding as
// TFLITE_2_21_ROUNDING says. With the other rounding variant for Conv2D and DepthwiseConv2D (single)
// or for FullyConnected (double), some outputs must come out different: that is the evidence of which
// variant 2.21 applies where.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  activationRange,
  add,
  addParams,
  averagePool,
  clamp,
  convMultiplier,
  fullyConnectedMultiplier,
  quantizeMultiplier,
  requantize,
  softmaxParams,
  softmaxRow,
  type ActivationRange,
  type FusedActivation,
  TFLITE_2_21_ROUNDING,
  type Rounding,
} from '../../src/fixedpoint/tflite.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'import');

interface Tensor {
  index: number;
  name: string;
  type: string;
  shape: number[];
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

interface Operator {
  op: string;
  inputs: number[];
  outputs: number[];
  options: Record<string, number | boolean>;
}

interface Fixture {
  name: string;
  tensorflow: string;
  resolver: string;
  input: number;
  output: number;
  tensors: Tensor[];
  operators: Operator[];
  constants: Record<string, number[]>;
  runs: Record<string, number[]>[];
}

const FIXTURES: Fixture[] = readdirSync(join(FIX, 'expected'))
  .filter((f) => f.endsWith('.int8.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(FIX, 'expected', f), 'utf8')) as Fixture);

/** ActivationFunctionType of schema.fbs. */
const ACTIVATIONS: Record<number, FusedActivation> = { 0: 'NONE', 1: 'RELU', 2: 'RELU_N1_TO_1', 3: 'RELU6' };

function fused(op: Operator): FusedActivation {
  const a = ACTIVATIONS[Number(op.options.fusedActivationFunction ?? 0)];
  if (!a) throw new Error(`${op.op}: fused activation ${String(op.options.fusedActivationFunction)}`);
  return a;
}

/** What one operator reads: tensor metadata and values (constants or the run's activations). */
class View {
  constructor(
    private readonly fx: Fixture,
    private readonly run: Record<string, number[]>,
  ) {}

  tensor(i: number): Tensor {
    return this.fx.tensors[i];
  }

  values(i: number): number[] {
    const v = this.fx.constants[String(i)] ?? this.run[String(i)];
    if (!v) throw new Error(`tensor ${i} has no recorded values`);
    return v;
  }
}

/** TFLite's padding: SAME pads (out - 1) * stride + effective filter - in in total, the smaller half first. */
function padding(
  same: boolean,
  inSize: number,
  filter: number,
  stride: number,
  dilation: number,
): { out: number; before: number } {
  const effective = (filter - 1) * dilation + 1;
  const out = same ? Math.ceil(inSize / stride) : Math.ceil((inSize - effective + 1) / stride);
  const total = Math.max(0, (out - 1) * stride + effective - inSize);
  return { out, before: same ? Math.floor(total / 2) : 0 };
}

interface Geometry {
  inH: number;
  inW: number;
  inC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  outH: number;
  outW: number;
  padH: number;
  padW: number;
}

function geometry(op: Operator, input: Tensor, kH: number, kW: number): Geometry {
  const [, inH, inW, inC] = input.shape;
  const same = Number(op.options.padding) === 0; // Padding.SAME = 0, VALID = 1
  const strideH = Number(op.options.strideH ?? 1);
  const strideW = Number(op.options.strideW ?? 1);
  const dilH = Number(op.options.dilationHFactor ?? 1);
  const dilW = Number(op.options.dilationWFactor ?? 1);
  const h = padding(same, inH, kH, strideH, dilH);
  const w = padding(same, inW, kW, strideW, dilW);
  return {
    inH,
    inW,
    inC,
    kH,
    kW,
    strideH,
    strideW,
    dilH,
    dilW,
    outH: h.out,
    outW: w.out,
    padH: h.before,
    padW: w.before,
  };
}

/** Per output channel multipliers of a convolution (PopulateConvolutionQuantizationParams). */
function channelMultipliers(input: Tensor, filter: Tensor, output: Tensor, channels: number) {
  return Array.from({ length: channels }, (_, c) =>
    quantizeMultiplier(
      convMultiplier(input.scale[0], filter.scale[filter.scale.length > 1 ? c : 0], output.scale[0]),
    ),
  );
}

/** reference_integer_ops::ConvPerChannel (groups of 1) and DepthwiseConvPerChannel. */
function convolution(op: Operator, v: View, rounding: Rounding, depthwise: boolean): number[] {
  const [inI, fI, bI] = op.inputs;
  const input = v.tensor(inI);
  const filter = v.tensor(fI);
  const output = v.tensor(op.outputs[0]);
  const x = v.values(inI);
  const w = v.values(fI);
  const bias = bI >= 0 ? v.values(bI) : undefined;
  // Conv2D filters are [O, KH, KW, I]; depthwise [1, KH, KW, I * M] with output channel c * M + m.
  const [fo, kH, kW, fc] = filter.shape;
  const outC = depthwise ? fc : fo;
  const g = geometry(op, input, kH, kW);
  const mult = depthwise ? Number(op.options.depthMultiplier) : 1;
  const q = channelMultipliers(input, filter, output, outC);
  const range = activationRange(fused(op), output.scale[0], output.zeroPoint[0]);
  const inOffset = -input.zeroPoint[0];
  const out: number[] = [];
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let oc = 0; oc < outC; oc++) {
        let acc = 0;
        for (let fy = 0; fy < kH; fy++)
          for (let fx = 0; fx < kW; fx++) {
            const iy = oy * g.strideH - g.padH + g.dilH * fy;
            const ix = ox * g.strideW - g.padW + g.dilW * fx;
            // Taps in the padding are skipped: as if the input held its zero point there.
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
            const at = (iy * g.inW + ix) * g.inC;
            if (depthwise) {
              const ic = Math.floor(oc / mult);
              acc += (x[at + ic] + inOffset) * w[(fy * kW + fx) * fc + oc];
            } else {
              for (let ic = 0; ic < g.inC; ic++)
                acc += (x[at + ic] + inOffset) * w[((oc * kH + fy) * kW + fx) * fc + ic];
            }
          }
        if (bias) acc += bias[oc];
        out.push(requantize(acc, q[oc].multiplier, q[oc].shift, output.zeroPoint[0], range, rounding));
      }
  return out;
}

/** reference_integer_ops::FullyConnected (per tensor: the scale product in float32). */
function fullyConnected(op: Operator, v: View, rounding: Rounding): number[] {
  const [inI, fI, bI] = op.inputs;
  const input = v.tensor(inI);
  const filter = v.tensor(fI);
  const output = v.tensor(op.outputs[0]);
  const x = v.values(inI);
  const w = v.values(fI);
  const bias = bI >= 0 ? v.values(bI) : undefined;
  const [units, depth] = filter.shape;
  const perChannel = filter.scale.length > 1;
  const q = Array.from({ length: units }, (_, o) =>
    quantizeMultiplier(
      perChannel
        ? convMultiplier(input.scale[0], filter.scale[o], output.scale[0])
        : fullyConnectedMultiplier(input.scale[0], filter.scale[0], output.scale[0]),
    ),
  );
  const range = activationRange(fused(op), output.scale[0], output.zeroPoint[0]);
  const batches = x.length / depth;
  const out: number[] = [];
  for (let b = 0; b < batches; b++)
    for (let o = 0; o < units; o++) {
      let acc = 0;
      for (let d = 0; d < depth; d++)
        acc += (x[b * depth + d] - input.zeroPoint[0]) * (w[o * depth + d] - (filter.zeroPoint[o] ?? 0));
      if (bias) acc += bias[o];
      out.push(requantize(acc, q[o].multiplier, q[o].shift, output.zeroPoint[0], range, rounding));
    }
  return out;
}

/** reference_integer_ops::AveragePool and MaxPool: windows clipped to the input. */
function pool(op: Operator, v: View, kind: 'average' | 'max'): number[] {
  const input = v.tensor(op.inputs[0]);
  const output = v.tensor(op.outputs[0]);
  const x = v.values(op.inputs[0]);
  const g = geometry(op, input, Number(op.options.filterHeight), Number(op.options.filterWidth));
  const range: ActivationRange = activationRange(fused(op), output.scale[0], output.zeroPoint[0]);
  const out: number[] = [];
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let c = 0; c < g.inC; c++) {
        const y0 = oy * g.strideH - g.padH;
        const x0 = ox * g.strideW - g.padW;
        let sum = 0;
        let count = 0;
        let max = -128;
        for (let fy = Math.max(0, -y0); fy < Math.min(g.kH, g.inH - y0); fy++)
          for (let fx = Math.max(0, -x0); fx < Math.min(g.kW, g.inW - x0); fx++) {
            const value = x[((y0 + fy) * g.inW + x0 + fx) * g.inC + c];
            sum += value;
            count++;
            max = Math.max(max, value);
          }
        out.push(kind === 'average' ? averagePool(sum, count, range) : clamp(max, range.min, range.max));
      }
  return out;
}

function addOp(op: Operator, v: View, rounding: Rounding): number[] {
  const [a, b] = op.inputs.map((i) => v.tensor(i));
  const o = v.tensor(op.outputs[0]);
  const [xa, xb] = op.inputs.map((i) => v.values(i));
  if (xa.length !== xb.length) throw new Error('ADD with broadcasting is not in the fixtures');
  const p = addParams(
    a.scale[0],
    a.zeroPoint[0],
    b.scale[0],
    b.zeroPoint[0],
    o.scale[0],
    o.zeroPoint[0],
    fused(op),
    rounding,
  );
  return xa.map((x, i) => add(x, xb[i], p, rounding));
}

/** reference_ops::Softmax along the last dimension. */
function softmax(op: Operator, v: View, rounding: Rounding): number[] {
  const input = v.tensor(op.inputs[0]);
  const x = v.values(op.inputs[0]);
  const depth = input.shape[input.shape.length - 1];
  const p = softmaxParams(input.scale[0], Number(op.options.beta ?? 1), rounding);
  const out: number[] = [];
  for (let at = 0; at < x.length; at += depth) out.push(...softmaxRow(x.slice(at, at + depth), p, rounding));
  return out;
}

/** The operator's int8 output by the TS arithmetic; undefined for the int32 shape computations. */
type RoundingOf = (op: string) => Rounding;

/** TFLite 2.21's rounding of each operator. */
const TFLITE_2_21: RoundingOf = (op) =>
  op === 'FULLY_CONNECTED'
    ? TFLITE_2_21_ROUNDING.fullyConnected
    : op === 'DEPTHWISE_CONV_2D'
      ? TFLITE_2_21_ROUNDING.depthwiseConv2d
      : op === 'ADD'
        ? TFLITE_2_21_ROUNDING.add
        : op === 'SOFTMAX'
          ? TFLITE_2_21_ROUNDING.softmax
          : TFLITE_2_21_ROUNDING.conv2d;

/** The other variant for the operators where the two are told apart. */
const SWAPPED: RoundingOf = (op) =>
  ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(op)
    ? TFLITE_2_21(op) === 'double'
      ? 'single'
      : 'double'
    : TFLITE_2_21(op);

function compute(op: Operator, v: View, roundingOf: RoundingOf): number[] | undefined {
  const rounding = roundingOf(op.op);
  // Shape arithmetic on int32 tensors (SHAPE, STRIDED_SLICE, PACK feeding a RESHAPE) is not int8
  // arithmetic; the RESHAPE it feeds is checked.
  if (v.tensor(op.outputs[0]).type !== 'int8') return undefined;
  switch (op.op) {
    case 'CONV_2D':
      return convolution(op, v, rounding, false);
    case 'DEPTHWISE_CONV_2D':
      return convolution(op, v, rounding, true);
    case 'FULLY_CONNECTED':
      return fullyConnected(op, v, rounding);
    case 'AVERAGE_POOL_2D':
      return pool(op, v, 'average');
    case 'MAX_POOL_2D':
      return pool(op, v, 'max');
    case 'ADD':
      return addOp(op, v, rounding);
    case 'RESHAPE':
    case 'EXPAND_DIMS':
    case 'SQUEEZE':
      return v.values(op.inputs[0]);
    case 'SOFTMAX':
      return softmax(op, v, rounding);
    default:
      throw new Error(`operator ${op.op} is not handled by this test`);
  }
}

/** Outputs of every operator of every run that the TS arithmetic gets wrong, and how many were checked. */
function check(fx: Fixture, rounding: RoundingOf): { checked: number; values: number; wrong: string[] } {
  let checked = 0;
  let values = 0;
  const wrong: string[] = [];
  fx.runs.forEach((run, r) => {
    const v = new View(fx, run);
    for (const op of fx.operators) {
      const got = compute(op, v, rounding);
      if (!got) continue;
      const want = run[String(op.outputs[0])];
      checked++;
      values += want.length;
      expect(got.length, `${fx.name} ${op.op}`).toBe(want.length);
      const bad = want.flatMap((w, i) => (got[i] === w ? [] : [`[${i}] ${got[i]} != ${w}`]));
      if (bad.length)
        wrong.push(`${fx.name} run ${r} ${op.op}: ${bad.length} wrong, ${bad.slice(0, 3).join(', ')}`);
    }
  });
  return { checked, values, wrong };
}

describe('the int8 fixtures', () => {
  it('are there, made by TensorFlow 2.21 with the reference kernels, every tensor int8 or constant', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(12);
    const ops = new Set(FIXTURES.flatMap((f) => f.operators.map((o) => o.op)));
    for (const op of [
      'CONV_2D',
      'DEPTHWISE_CONV_2D',
      'FULLY_CONNECTED',
      'AVERAGE_POOL_2D',
      'MAX_POOL_2D',
      'ADD',
      'SOFTMAX',
      'RESHAPE',
    ])
      expect(ops, op).toContain(op);
    for (const f of FIXTURES) {
      expect(f.tensorflow).toMatch(/^2\.21\./);
      expect(f.resolver).toBe('BUILTIN_REF');
      expect(f.runs.length).toBeGreaterThanOrEqual(4);
      expect(f.tensors[f.input].type).toBe('int8');
      expect(f.tensors[f.output].type).toBe('int8');
      // Some input zero point is not 0 (so padding with it is exercised).
    }
    expect(FIXTURES.some((f) => f.tensors[f.input].zeroPoint[0] !== 0)).toBe(true);
  });
});

describe('tflite.ts == TFLite reference kernels, operator by operator', () => {
  for (const fx of FIXTURES) {
    it(`${fx.name}: ${fx.operators.map((o) => o.op).join(', ')}`, () => {
      const r = check(fx, TFLITE_2_21);
      expect(r.wrong).toEqual([]);
      expect(r.checked).toBeGreaterThan(0);
    });
  }

  it('with the other rounding, Conv2D, DepthwiseConv2D and FullyConnected each get some outputs wrong', () => {
    const wrongOps = new Set<string>();
    for (const fx of FIXTURES)
      for (const w of check(fx, SWAPPED).wrong) wrongOps.add(/ ([A-Z_0-9]+): /.exec(w)![1]);
    expect([...wrongOps].sort()).toEqual(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);
  });
});
