// Float forward pass over the IR in plain TypeScript: calibration of activation ranges and the
// float side of accuracy comparisons, without a tfjs backend (fast enough for a few thousand windows).
import { inferShapes, padLeft, type FloatModel, type Layer, type NodeInfo } from '../graph/ir.js';

export interface FloatTrace {
  /** Output of every layer, in graph order. */
  outputs: Float32Array[];
}

/** Runs one window (T*C floats, already normalized). */
export function floatForward(
  model: FloatModel,
  x: Float32Array,
  infos = inferShapes(model.graph),
): FloatTrace {
  const outputs: Float32Array[] = [];
  let cur = x;
  for (const info of infos) {
    cur = applyLayer(model, info, cur);
    outputs.push(cur);
  }
  return { outputs };
}

function applyLayer(model: FloatModel, info: NodeInfo, x: Float32Array): Float32Array {
  const { layer, inShape, outShape } = info;
  const [T, C] = inShape;
  const [L, Co] = outShape;
  const p = model.params[layer.name] ?? {};
  const y = new Float32Array(L * Co);
  switch (layer.kind) {
    case 'conv1d': {
      const k = layer.kernelSize;
      const pl = padLeft(T, k, layer.stride, layer.padding);
      const w = need(p.kernel, layer); // [k, C, Co]
      for (let t = 0; t < L; t++) {
        for (let o = 0; o < Co; o++) {
          let acc = p.bias ? p.bias[o] : 0;
          for (let j = 0; j < k; j++) {
            const ti = t * layer.stride + j - pl;
            if (ti < 0 || ti >= T) continue;
            for (let c = 0; c < C; c++) acc += x[ti * C + c] * w[(j * C + c) * Co + o];
          }
          y[t * Co + o] = act(acc, layer);
        }
      }
      return y;
    }
    case 'dense': {
      const F = T * C;
      const w = need(p.kernel, layer); // [F, Co]
      for (let o = 0; o < Co; o++) {
        let acc = p.bias ? p.bias[o] : 0;
        for (let i = 0; i < F; i++) acc += x[i] * w[i * Co + o];
        y[o] = act(acc, layer);
      }
      return y;
    }
    case 'maxpool1d':
    case 'avgpool1d': {
      const pl = padLeft(T, layer.poolSize, layer.stride, layer.padding);
      for (let t = 0; t < L; t++) {
        for (let c = 0; c < C; c++) {
          let m = -Infinity;
          let s = 0;
          let n = 0;
          for (let j = 0; j < layer.poolSize; j++) {
            const ti = t * layer.stride + j - pl;
            if (ti < 0 || ti >= T) continue;
            const v = x[ti * C + c];
            if (v > m) m = v;
            s += v;
            n++;
          }
          y[t * C + c] = layer.kind === 'maxpool1d' ? m : s / n;
        }
      }
      return y;
    }
    case 'gap1d':
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += x[t * C + c];
        y[c] = s / T;
      }
      return y;
    case 'relu':
      for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
      return y;
    case 'batchnorm': {
      const g = need(p.gamma, layer);
      const b = need(p.beta, layer);
      const m = need(p.movingMean, layer);
      const v = need(p.movingVariance, layer);
      for (let i = 0; i < x.length; i++) {
        const c = i % C;
        y[i] = ((x[i] - m[c]) / Math.sqrt(v[c] + layer.epsilon)) * g[c] + b[c];
      }
      return y;
    }
    case 'softmax': {
      let mx = -Infinity;
      for (const v of x) mx = Math.max(mx, v);
      let s = 0;
      for (let i = 0; i < x.length; i++) s += y[i] = Math.exp(x[i] - mx);
      for (let i = 0; i < x.length; i++) y[i] /= s;
      return y;
    }
    case 'flatten':
    case 'dropout':
      y.set(x);
      return y;
  }
}

function act(v: number, layer: Layer & { activation: string }): number {
  return layer.activation === 'relu' && v < 0 ? 0 : v;
}

function need(a: Float32Array | undefined, layer: Layer): Float32Array {
  if (!a) throw new Error(`layer '${layer.name}' has no parameters loaded`);
  return a;
}

/** Class index of each window from the last layer's output. */
export function floatPredict(model: FloatModel, windows: Float32Array, n: number): Int32Array {
  const infos = inferShapes(model.graph);
  const size = model.graph.inputShape[0] * model.graph.inputShape[1];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const tr = floatForward(model, windows.subarray(i * size, (i + 1) * size), infos);
    const last = tr.outputs[tr.outputs.length - 1];
    let best = 0;
    for (let j = 1; j < last.length; j++) if (last[j] > last[best]) best = j;
    out[i] = best;
  }
  return out;
}
