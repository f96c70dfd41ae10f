// Picks the TensorFlow.js backend once per process: tfjs-node (native, all kernels) when it is
// installed and loads, otherwise the WebAssembly backend (single-threaded in Node, no
// Conv2DBackpropFilter: see conv1d.ts), and says which on stderr.
// TINYFORGE_BACKEND=node|wasm|cpu forces a choice (cpu is the slow pure-JS reference).
import * as tf from '@tensorflow/tfjs';
import { TinyforgeError } from '../util/errors.js';

export interface BackendInfo {
  name: 'tensorflow' | 'wasm' | 'cpu';
  /** Why this backend, for logs and training.json. */
  reason: string;
}

let chosen: Promise<BackendInfo> | undefined;

async function tryNode(): Promise<boolean> {
  try {
    // Not a declared import: the package is optional and usually absent.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function pick(): Promise<BackendInfo> {
  const want = process.env.TINYFORGE_BACKEND;
  if (want && !['node', 'wasm', 'cpu'].includes(want))
    throw new TinyforgeError(`TINYFORGE_BACKEND=${want} is not one of node, wasm, cpu`, 'usage');
  if (want === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: 'TINYFORGE_BACKEND=cpu' };
  }
  if (want !== 'wasm' && (await tryNode())) return { name: 'tensorflow', reason: 'tfjs-node loaded' };
  if (want === 'node')
    throw new TinyforgeError('TINYFORGE_BACKEND=node but @tensorflow/tfjs-node does not load', 'toolchain');
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: 'tfjs-node not installed and the wasm backend failed to start' };
  }
  return { name: 'wasm', reason: want === 'wasm' ? 'TINYFORGE_BACKEND=wasm' : 'tfjs-node not installed' };
}

/** Initializes the backend (once) and reports the choice on stderr unless `quiet`. */
export async function initBackend(opts: { quiet?: boolean } = {}): Promise<BackendInfo> {
  const first = chosen === undefined;
  chosen ??= pick().then(async (info) => {
    await tf.ready();
    return info;
  });
  const info = await chosen;
  if (first && !opts.quiet)
    process.stderr.write(`tinyforge: tensorflow.js backend: ${info.name} (${info.reason})\n`);
  return info;
}

/** True when the active backend lacks the kernels for conv1d's weight gradient. */
export function needsCustomConvGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined;
}
